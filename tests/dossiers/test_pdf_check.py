"""Uploaded attachments: only real, readable, unencrypted PDF files within the size limit."""

import hashlib
import io
import struct
import zlib

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.core.uploads import MEBIBYTE, format_size_fr
from guichet.demo.dossiers import blank_pdf as minimal_pdf
from guichet.dossiers.pdf_check import (
    CHUNK_BYTES,
    LIMITS,
    MAX_DOCUMENT_BYTES,
    CheckedPdf,
    DocumentRefused,
    Limits,
    check_pdf,
)
from tests import hostile_pdfs


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


class CountingStream(io.RawIOBase):
    """An endless upload (test double of the *input*) that counts the bytes handed out."""

    def __init__(self, prefix: bytes):
        self.prefix = prefix
        self.bytes_read = 0
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None, "the checker must never read without a limit"
        assert size > 0, "the checker must never read without a limit"
        self.largest_read = max(self.largest_read, size)
        start = self.bytes_read
        data = (self.prefix[start : start + size]).ljust(size, b"0")
        self.bytes_read += len(data)
        return data


def refusal(data: bytes, **kwargs) -> str:
    with pytest.raises(DocumentRefused) as excinfo:
        check_pdf(io.BytesIO(data), **kwargs)
    return excinfo.value.reason


def test_check_pdf_valid_pdf_accepted_with_hash_size_and_pages():
    data = minimal_pdf(pages=2)

    checked = check_pdf(SimpleUploadedFile("annexe.PDF", data, content_type="application/pdf"))

    assert checked == CheckedPdf(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=2
    )


def test_check_pdf_header_after_junk_within_first_kilobyte_accepted():
    data = b"\x00" * 500 + minimal_pdf()

    assert check_pdf(io.BytesIO(data)).pages == 1


def test_check_pdf_larger_than_a_chunk_hashes_every_byte():
    # Padding after %%EOF is ignored by readers; the hash must still cover it.
    data = minimal_pdf() + b"\n" * (CHUNK_BYTES + 10)

    checked = check_pdf(io.BytesIO(data))

    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_check_pdf_renamed_png_refused():
    # Name and declared type say PDF: only the content counts.
    upload = SimpleUploadedFile("devis.pdf", tiny_png(), content_type="application/pdf")

    with pytest.raises(DocumentRefused) as excinfo:
        check_pdf(upload)

    assert excinfo.value.reason == (
        "Le fichier n'est pas un PDF (contenu vérifié, pas seulement le nom)."
    )


def test_check_pdf_text_file_refused():
    text = "Devis n° 12 : 1 200 € — document renommé en .pdf\n" * 20

    reason = refusal(text.encode())

    assert "pas un PDF" in reason


def test_check_pdf_header_beyond_first_kilobyte_refused():
    reason = refusal(b" " * 1024 + minimal_pdf())

    assert "pas un PDF" in reason


def test_check_pdf_truncated_pdf_refused():
    truncated = minimal_pdf()[:200]
    assert truncated.startswith(b"%PDF-")

    assert refusal(truncated) == "Le PDF est illisible ou endommagé."


def test_check_pdf_header_only_refused():
    assert refusal(b"%PDF-1.7\n") == "Le PDF est illisible ou endommagé."


def test_check_pdf_empty_file_refused():
    assert refusal(b"") == "Le fichier est vide."


def test_check_pdf_oversize_refused_without_reading_it_all():
    upload = CountingStream(prefix=minimal_pdf())

    with pytest.raises(DocumentRefused) as excinfo:
        check_pdf(upload, max_bytes=1000)

    assert excinfo.value.reason == "Le fichier dépasse 1000 octets."
    assert upload.bytes_read == 1001
    assert upload.bytes_read < 1000 + CHUNK_BYTES


def test_check_pdf_default_limit_reads_in_chunks_and_stops_after_limit():
    upload = CountingStream(prefix=minimal_pdf())

    with pytest.raises(DocumentRefused) as excinfo:
        check_pdf(upload)

    assert excinfo.value.reason == "Le fichier dépasse 20 Mo."
    assert upload.bytes_read == MAX_DOCUMENT_BYTES + 1
    assert upload.largest_read == CHUNK_BYTES


def test_check_pdf_exactly_max_bytes_accepted():
    data = minimal_pdf()

    assert check_pdf(io.BytesIO(data), max_bytes=len(data)).size == len(data)


def test_check_pdf_encrypted_pdf_refused():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner")
    encrypted = io.BytesIO()
    writer.write(encrypted)

    assert refusal(encrypted.getvalue()) == "Le PDF est protégé par un mot de passe."


def test_check_pdf_zero_pages_refused():
    assert refusal(minimal_pdf(pages=0)) == "Le PDF est illisible ou endommagé."


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (20 * 1024 * 1024, "20 Mo"),
        (int(1.5 * 1024 * 1024), "1,5 Mo"),
        (2048, "2 ko"),
        (1000, "1000 octets"),
    ],
)
def test_format_size_fr_binary_multiples(size, expected):
    assert format_size_fr(size) == expected


# --- active content and decompression bombs (issue 8, item 10) -------------------------------

BOMB = "Le PDF contient des données qui dépassent 64 Mo une fois décompressées : il n'est pas " \
       "conservé."


def test_check_pdf_plain_pdf_reports_no_active_content():
    assert check_pdf(io.BytesIO(minimal_pdf())).active_content == ()


@pytest.mark.parametrize("build", [
    hostile_pdfs.document_javascript, hostile_pdfs.open_action_javascript,
    hostile_pdfs.page_action_javascript, hostile_pdfs.escaped_open_action_javascript,
])
def test_check_pdf_javascript_reported_wherever_it_hangs(build):
    assert check_pdf(io.BytesIO(build())).active_content == ("javascript",)


def test_check_pdf_embedded_file_reported():
    assert check_pdf(io.BytesIO(hostile_pdfs.embedded_file())).active_content == (
        "embedded_file",)


def test_check_pdf_launch_action_reported():
    assert check_pdf(io.BytesIO(hostile_pdfs.launch_action())).active_content == ("launch",)


def test_check_pdf_web_link_not_reported():
    assert check_pdf(io.BytesIO(hostile_pdfs.web_link())).active_content == ()


def test_check_pdf_limits_of_a_dossier_by_default():
    assert (LIMITS.decoded_stream, LIMITS.decoded_total, LIMITS.objects) == (
        64 * MEBIBYTE, 256 * MEBIBYTE, 100_000)


def test_check_pdf_flate_bomb_refused():
    # A stream of 2 MiB past a limit of 1 MiB trips as 100 MiB past 64 MiB does.
    small = Limits(decoded_stream=MEBIBYTE)
    assert refusal(hostile_pdfs.flate_bomb(2 * MEBIBYTE), limits=small) == (
        "Le PDF contient des données qui dépassent 1 Mo une fois décompressées : il n'est pas "
        "conservé.")


def test_check_pdf_stream_at_the_limit_accepted():
    exact = Limits(decoded_stream=MEBIBYTE)
    assert check_pdf(io.BytesIO(hostile_pdfs.flate_bomb(MEBIBYTE)), limits=exact).pages == 1


def test_check_pdf_declared_decoded_length_refused_before_decoding():
    # The stream holds 16 bytes: only its declaration (/DL) is too large.
    assert refusal(hostile_pdfs.declared_decoded_length(65 * 1024 * 1024)) == BOMB


def test_check_pdf_declared_image_size_refused_without_decoding_it():
    # 5 000 × 5 000 RGB pixels = 71 MiB; the JPEG itself is 4 bytes and never decoded.
    assert refusal(hostile_pdfs.declared_image(5000, 5000)) == BOMB


def test_check_pdf_declared_image_within_limit_accepted():
    assert check_pdf(io.BytesIO(hostile_pdfs.declared_image(4000, 4000))).pages == 1


def test_check_pdf_streams_beyond_total_refused():
    # Five streams each within the stream limit, together past the total, as 5 × 60 MiB
    # against 64 MiB and 256 MiB.
    data = hostile_pdfs.many_streams(5, 960 * 1024)
    limits = Limits(decoded_stream=MEBIBYTE, decoded_total=4 * MEBIBYTE)

    assert refusal(data, limits=limits) == (
        "Le PDF contient des données qui dépassent 4 Mo une fois décompressées : il n'est pas "
        "conservé.")


def test_check_pdf_declared_stream_length_beyond_file_refused():
    data = hostile_pdfs.declared_stream_length(99_999_999)

    assert refusal(data) == ("Le PDF est trop complexe pour être vérifié (structure "
                             "démesurée) : il n'est pas conservé.")


def test_check_pdf_too_many_objects_refused():
    assert refusal(hostile_pdfs.many_objects(1_001), limits=Limits(objects=1_000)) == (
        "Le PDF est trop complexe pour être vérifié (structure démesurée) : il n'est pas "
        "conservé.")
