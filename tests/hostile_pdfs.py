"""PDFs with active content or decompression bombs, built with pypdf (issue 8, item 10)."""

import io
from collections.abc import Callable

import pypdf
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

MEBIBYTE = 1024 * 1024


def name(text: str) -> NameObject:
    return NameObject(text)


def pdf_with(change: Callable[[pypdf.PdfWriter], None] = lambda writer: None) -> bytes:
    """A one-page PDF, changed by `change` before it is written."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def javascript_action(script: str = "app.alert('bonjour');") -> DictionaryObject:
    return DictionaryObject({name("/S"): name("/JavaScript"),
                             name("/JS"): TextStringObject(script)})


def document_javascript() -> bytes:
    """JavaScript in the document's name tree (run when the document opens)."""
    return pdf_with(lambda writer: writer.add_open_action(JavaScript("app.alert('bonjour');")))


def open_action_javascript() -> bytes:
    def change(writer):
        writer.root_object[name("/OpenAction")] = javascript_action()
    return pdf_with(change)


def page_action_javascript() -> bytes:
    """JavaScript run when the first page opens (/AA /O)."""
    def change(writer):
        writer.pages[0][name("/AA")] = DictionaryObject({name("/O"): javascript_action()})
    return pdf_with(change)


def escaped_open_action_javascript() -> bytes:
    """/S /J#61vaScript and /J#53: the same names, spelled with hexadecimal escapes."""
    return (open_action_javascript().replace(b"/S /JavaScript", b"/S /J#61vaScript")
            .replace(b"/JS ", b"/J#53 "))


def embedded_file() -> bytes:
    return pdf_with(lambda writer: writer.add_attachment("facture.exe", b"MZ\x90\x00"))


def launch_action() -> bytes:
    def change(writer):
        writer.root_object[name("/OpenAction")] = DictionaryObject({
            name("/S"): name("/Launch"), name("/F"): TextStringObject("C:\\Windows\\calc.exe")})
    return pdf_with(change)


def web_link() -> bytes:
    """A link annotation to a web page: normal, never reported."""
    def change(writer):
        link = DictionaryObject({
            name("/Type"): name("/Annot"), name("/Subtype"): name("/Link"),
            name("/Rect"): ArrayObject([FloatObject(10), FloatObject(10), FloatObject(200),
                                        FloatObject(40)]),
            name("/A"): DictionaryObject({name("/S"): name("/URI"),
                                          name("/URI"): TextStringObject("https://example.fr")})})
        writer.pages[0][name("/Annots")] = ArrayObject([writer._add_object(link)])
    return pdf_with(change)


def compressed_stream(size: int, extra: dict | None = None) -> StreamObject:
    """`size` zero bytes, Flate-compressed (about a thousand times smaller)."""
    stream = DecodedStreamObject()
    stream.set_data(b"\0" * size)
    encoded = stream.flate_encode()
    for key, value in (extra or {}).items():
        encoded[name(key)] = value
    return encoded


def flate_bomb(size: int = 100 * MEBIBYTE) -> bytes:
    """One stream that inflates to `size` bytes."""
    return pdf_with(lambda writer: writer._add_object(compressed_stream(size)))


def many_streams(count: int, size: int) -> bytes:
    def change(writer):
        for _ in range(count):
            writer._add_object(compressed_stream(size))
    return pdf_with(change)


def declared_decoded_length(declared: int) -> bytes:
    """A tiny stream that declares (/DL) `declared` bytes once decoded."""
    return pdf_with(lambda writer: writer._add_object(
        compressed_stream(16, {"/DL": NumberObject(declared)})))


def declared_image(width: int, height: int) -> bytes:
    """A JPEG-filtered image (never decoded) declaring width × height RGB pixels."""
    def change(writer):
        image = DecodedStreamObject()
        image.set_data(b"\xff\xd8\xff\xd9")
        image.update({name("/Type"): name("/XObject"), name("/Subtype"): name("/Image"),
                      name("/Width"): NumberObject(width), name("/Height"): NumberObject(height),
                      name("/ColorSpace"): name("/DeviceRGB"),
                      name("/BitsPerComponent"): NumberObject(8),
                      name("/Filter"): name("/DCTDecode")})
        writer._add_object(image)
    return pdf_with(change)


def many_objects(count: int) -> bytes:
    def change(writer):
        for number in range(count):
            writer._add_object(DictionaryObject({name("/N"): NumberObject(number)}))
    return pdf_with(change)


def raw_pdf(extra_objects: list[bytes]) -> bytes:
    """A one-page PDF written byte by byte (correct offsets), with `extra_objects` after the
    catalog, pages and page: for what pypdf refuses to write, such as a false /Length."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", *extra_objects]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                              xref)
    return bytes(out)


def declared_stream_length(declared: int) -> bytes:
    """A 4-byte stream whose /Length says `declared`."""
    return raw_pdf([b"<< /Length %d >>\nstream\nabcd\nendstream" % declared])
