"""Validation of uploaded attachments: only real, readable, unencrypted PDF files are kept.

The content decides, never the file name: a PNG renamed `.pdf` is refused. The upload is read
in chunks and never beyond `max_bytes + 1` bytes, so an oversize file is refused without
reading it all; its SHA-256 is computed while reading.

A kept PDF is also inspected, object by object, with pypdf:

- decompression bombs are refused. First by what the streams declare, before anything is
  decoded: `/Length` (pypdf's `maximum_declared_stream_length`), `/DL`, an image's width ×
  height × components, CCITT `/Columns` × `/Rows`. Then by decoding the generic filters (Flate,
  LZW, run length, ASCII) under pypdf's own output limits, lowered here, and counting the
  total. Image codecs (JPEG, JPEG 2000, JBIG2, CCITT) are bounded by the image's declared size;
  pypdf never runs an external decoder on an upload.
- active content is reported, not refused (official forms carry JavaScript): JavaScript (`/JS`,
  `/S /JavaScript`, the `/JavaScript` name tree, wherever the action hangs: `/OpenAction`,
  `/AA`, links, bookmarks, fields), embedded files (`/EmbeddedFiles`, `/EF`, `/EmbeddedFile`
  streams, file attachment annotations) and launch actions (`/S /Launch`). Links (`/URI`) are
  normal and not reported. Staff see the findings next to the document, which is only ever
  served as a download, in a sandbox.
"""

import dataclasses
import hashlib
import io
from dataclasses import dataclass

import pypdf
from django.utils.translation import gettext
from pypdf.errors import LimitReachedError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from guichet.core.uploads import MEBIBYTE, format_size_fr, too_large_message
from guichet.dossiers.models import ActiveContent

MAX_DOCUMENT_BYTES = 20 * MEBIBYTE
CHUNK_BYTES = MEBIBYTE
PDF_MAGIC = b"%PDF-"
# Readers accept the header anywhere in the first kilobyte (some generators prepend junk).
MAGIC_WINDOW = 1024

# The filters decoded to measure a stream; image codecs are bounded by the declared image size.
MEASURED_FILTERS = frozenset({
    "/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/RunLengthDecode", "/RL",
    "/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"})


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much a PDF may hold once decoded. A scanned A4 page at 600 dpi in grey is 35 MB
    once decoded; nothing in a dossier needs more than a stream of 64 MiB."""

    decoded_stream: int = 64 * MEBIBYTE
    decoded_total: int = 256 * MEBIBYTE
    objects: int = 100_000  # pypdf reads some 40 000 objects a second

    def pypdf(self, max_bytes: int) -> dict:
        """pypdf's limits, lowered to ours (its defaults are 75 MB per stream and 5 MB of
        byte-by-byte recovery of a damaged stream), and no external decoder."""
        stream = self.decoded_stream
        return {
            "maximum_declared_stream_length": max_bytes,
            "zlib_maximum_output_length": stream,
            "lzw_maximum_output_length": stream,
            "run_length_maximum_output_length": stream,
            "brotli_maximum_output_length": stream,
            "jbig2_maximum_output_length": stream,
            "array_based_stream_maximum_output_length": stream,
            "image_maximum_buffer_size": stream,
            "stream_decoding_work_maximum_length": 4 * stream,
            "zlib_maximum_recovery_input_length": MEBIBYTE,
            "jbig2dec_binary": None,
        }


LIMITS = Limits()
COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/Lab": 3}
MOST_COMPONENTS = 4  # CMYK, and the bound for colour spaces given by an array


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
    active_content: tuple[str, ...] = ()  # ActiveContent values, sorted

    def audit_details(self) -> dict:
        """What the audit log records of the check, beyond the hash: findings, if any."""
        return {"active_content": list(self.active_content)} if self.active_content else {}


def check_pdf(stream, *, max_bytes: int = MAX_DOCUMENT_BYTES,
              limits: Limits = LIMITS) -> CheckedPdf:
    """Read `stream` (binary, from its current position) and return what was checked.

    Raises `DocumentRefused` when the file is empty, larger than `max_bytes`, not a PDF,
    unreadable or damaged, protected by a password, or a decompression bomb.
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
    pages, active_content = _inspect(data, limits, max_bytes)
    return CheckedPdf(sha256=digest, size=len(data), pages=pages, active_content=active_content)


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


def _inspect(data: bytes, limits: Limits, max_bytes: int) -> tuple[int, tuple[str, ...]]:
    """The page count and the active content found; `DocumentRefused` otherwise."""
    unreadable = gettext("Le PDF est illisible ou endommagé.")
    too_complex = gettext("Le PDF est trop complexe pour être vérifié (structure démesurée) : "
                          "il n'est pas conservé.")
    with pypdf.apply_configuration(**limits.pypdf(max_bytes)):
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            encrypted = reader.is_encrypted
            pages = 0 if encrypted else len(reader.pages)
            if encrypted:
                raise DocumentRefused(gettext("Le PDF est protégé par un mot de passe."))
            if pages < 1:
                raise DocumentRefused(unreadable)
            objects = _Objects(reader, limits)
            objects.measure_decoded_streams()
        except DocumentRefused:
            raise
        except LimitReachedError as exc:
            raise DocumentRefused(too_complex) from exc
        # Malformed input makes pypdf raise more than PdfReadError (KeyError, ValueError,
        # RecursionError, ...): any failure while parsing means the document is unreadable.
        except Exception as exc:
            raise DocumentRefused(unreadable) from exc
    return pages, tuple(sorted(objects.active_content))


def _bomb(limit: int) -> DocumentRefused:
    return DocumentRefused(
        gettext("Le PDF contient des données qui dépassent %(limit)s une fois décompressées : "
                "il n'est pas conservé.") % {"limit": format_size_fr(limit)})


class _Objects:
    """Every object of the file, read once: declared sizes checked, active content noted,
    streams kept for measuring."""

    def __init__(self, reader: pypdf.PdfReader, limits: Limits):
        self.limits = limits
        self.active_content: set[str] = set()
        self.streams: list[StreamObject] = []
        references = [(number, generation) for generation, numbers in reader.xref.items()
                      for number in numbers]
        references += [(number, 0) for number in reader.xref_objStm]
        if len(references) > limits.objects:
            raise LimitReachedError(f"{len(references)} objects")
        for number, generation in references:
            try:
                found = reader.get_object(IndirectObject(number, generation, reader))
            except LimitReachedError:
                raise
            except Exception:  # a damaged object, which no viewer can read either
                continue
            self._walk(found)

    def _walk(self, root) -> None:
        """The object and the direct objects inside it (indirect ones are read on their own)."""
        pending = [root]
        while pending:
            item = pending.pop()
            if isinstance(item, DictionaryObject):
                self._note(item)
                if isinstance(item, StreamObject):
                    _check_declared_size(item, self.limits)
                    self.streams.append(item)
                pending.extend(value for value in dict.values(item)
                               if not isinstance(value, IndirectObject))
            elif isinstance(item, ArrayObject):
                pending.extend(value for value in list.__iter__(item)
                               if not isinstance(value, IndirectObject))

    def _note(self, item: DictionaryObject) -> None:
        action = _name(item, "/S")
        if "/JS" in item or "/JavaScript" in item or action == "/JavaScript":
            self.active_content.add(ActiveContent.JAVASCRIPT)
        if action == "/Launch":
            self.active_content.add(ActiveContent.LAUNCH)
        if ("/EmbeddedFiles" in item or "/EF" in item or _name(item, "/Type") == "/EmbeddedFile"
                or _name(item, "/Subtype") == "/FileAttachment"):
            self.active_content.add(ActiveContent.EMBEDDED_FILE)

    def measure_decoded_streams(self) -> None:
        """Decode what the generic filters would give, one stream at a time, never keeping it:
        pypdf stops a stream past the stream limit; the total is counted here."""
        total = 0
        for stream in self.streams:
            filters = _filters(stream)
            if not filters or not set(filters) <= MEASURED_FILTERS:
                continue
            try:
                size = len(decode_stream_data(stream))
            except LimitReachedError as exc:
                raise _bomb(self.limits.decoded_stream) from exc
            except Exception:  # a damaged stream, which viewers give up on too
                continue
            total += size
            if total > self.limits.decoded_total:
                raise _bomb(self.limits.decoded_total)


def _check_declared_size(stream: StreamObject, limits: Limits) -> None:
    declared = max(_integer(stream, "/DL"), _image_bytes(stream),
                   *(_integer(parameters, "/Columns") * _integer(parameters, "/Rows") // 8
                     for parameters in _decode_parameters(stream)))
    if declared > limits.decoded_stream:
        raise _bomb(limits.decoded_stream)


def _image_bytes(stream: StreamObject) -> int:
    if _name(stream, "/Subtype") != "/Image":
        return 0
    if _resolved(stream, "/ImageMask") is True:
        components, bits = 1, 1
    else:
        components, bits = _components(_resolved(stream, "/ColorSpace")), (
            _integer(stream, "/BitsPerComponent") or 8)
    return _integer(stream, "/Width") * _integer(stream, "/Height") * components * bits // 8


def _components(space) -> int:
    """Colour components per pixel; at most 4 when the colour space says nothing clearer."""
    if isinstance(space, str):
        return COMPONENTS.get(space, MOST_COMPONENTS)
    if isinstance(space, ArrayObject) and space:
        family = str(space[0])
        if family in ("/Indexed", "/Separation"):
            return 1
        if family == "/ICCBased" and len(space) > 1:
            profile = space[1].get_object()
            count = _integer(profile, "/N") if isinstance(profile, DictionaryObject) else 0
            return count or MOST_COMPONENTS
    return MOST_COMPONENTS


def _filters(stream: StreamObject) -> list[str]:
    filters = _resolved(stream, "/Filter")
    if isinstance(filters, ArrayObject):
        return [str(item.get_object()) for item in filters]
    return [str(filters)] if filters is not None else []


def _decode_parameters(stream: StreamObject) -> list[DictionaryObject]:
    parameters = _resolved(stream, "/DecodeParms")
    items = parameters if isinstance(parameters, ArrayObject) else [parameters]
    return [item.get_object() for item in items
            if item is not None and isinstance(item.get_object(), DictionaryObject)]


def _resolved(item: DictionaryObject, key: str):
    """The value under `key`, an indirect one read; None when absent or unreadable."""
    value = dict.get(item, key)
    try:
        return value.get_object() if isinstance(value, IndirectObject) else value
    except LimitReachedError:
        raise
    except Exception:
        return None


def _name(item: DictionaryObject, key: str) -> str | None:
    value = _resolved(item, key)
    return str(value) if isinstance(value, str) else None


def _integer(item: DictionaryObject, key: str) -> int:
    value = _resolved(item, key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
