"""Validation of uploaded attachments: only real, readable, unencrypted PDF files are kept.

The content decides, never the file name: a PNG renamed `.pdf` is refused. The upload is read
in chunks and never beyond `max_bytes + 1` bytes, so an oversize file is refused without
reading it all; its SHA-256 is computed while reading.
"""

import hashlib
import io
from dataclasses import dataclass

import pypdf
from django.utils.translation import gettext

from guichet.core.uploads import MEBIBYTE, too_large_message

MAX_DOCUMENT_BYTES = 20 * MEBIBYTE
CHUNK_BYTES = MEBIBYTE
PDF_MAGIC = b"%PDF-"
# Readers accept the header anywhere in the first kilobyte (some generators prepend junk).
MAGIC_WINDOW = 1024


class DocumentRefused(ValueError):
    """An uploaded document that cannot be kept; `reason` is French and shown to the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedPdf:
    sha256: str
    size: int
    pages: int


def check_pdf(stream, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> CheckedPdf:
    """Read `stream` (binary, from its current position) and return what was checked.

    Raises `DocumentRefused` when the file is empty, larger than `max_bytes`, not a PDF,
    unreadable or damaged, or protected by a password.
    """
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    data, digest = _read_at_most(stream, max_bytes + 1)
    if not data:
        raise DocumentRefused(gettext("Le fichier est vide."))
    if len(data) > max_bytes:
        raise DocumentRefused(too_large_message(max_bytes))
    if PDF_MAGIC not in data[:MAGIC_WINDOW]:
        raise DocumentRefused(
            gettext("Le fichier n'est pas un PDF (contenu vérifié, pas seulement le nom).")
        )
    return CheckedPdf(sha256=digest, size=len(data), pages=_count_pages(data))


def _read_at_most(stream, limit: int) -> tuple[bytes, str]:
    """Read up to `limit` bytes in chunks of at most 1 MiB; return them and their SHA-256."""
    buffer = bytearray()
    digest = hashlib.sha256()
    while len(buffer) < limit:
        chunk = stream.read(min(CHUNK_BYTES, limit - len(buffer)))
        if not chunk:
            break
        digest.update(chunk)
        buffer += chunk
    return bytes(buffer), digest.hexdigest()


def _count_pages(data: bytes) -> int:
    unreadable = gettext("Le PDF est illisible ou endommagé.")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    # Malformed input makes pypdf raise more than PdfReadError (KeyError, ValueError,
    # RecursionError, ...): any failure while parsing means the document is unreadable.
    except Exception as exc:
        raise DocumentRefused(unreadable) from exc
    if encrypted:
        raise DocumentRefused(gettext("Le PDF est protégé par un mot de passe."))
    if pages < 1:
        raise DocumentRefused(unreadable)
    return pages
