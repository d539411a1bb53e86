"""Hostile financial annexes, built on the real template: the attacks of issue 8 (item 4).

Shared by the regression tests (small but representative sizes) and by
`benchmarks/hostile_annex.py` (the sizes of the attack). Large parts are written to the archive
in chunks, so that a 1 GB bomb never sits in memory while it is built.
"""

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from openpyxl.utils import get_column_letter

from guichet.dossiers.annex import schema, template

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
EXPENSES_PART = "xl/worksheets/sheet1.xml"
SHARED_STRINGS_PART = "xl/sharedStrings.xml"
STYLES_PART = "xl/styles.xml"
CONTENT_TYPES_PART = "[Content_Types].xml"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
CHUNK = 1 << 20

Part = bytes | Callable[[], Iterable[bytes]]


def base_annex() -> bytes:
    """A valid, empty annex (one member, one category): the skeleton every bomb starts from."""
    return template.build_template([schema.AnnexMember("12345678900011", "Organisme")],
                                   [schema.AnnexCategory("staff", "Personnel")])


def rebuild(replaced: dict[str, Part], *, base: bytes | None = None,
            target: Path | None = None) -> bytes | None:
    """The base annex with some parts replaced or added (a part is bytes, or a function giving
    its chunks); written to `target` when given (then None is returned), else returned."""
    source = zipfile.ZipFile(io.BytesIO(base or base_annex()))
    parts: dict[str, Part] = {name: source.read(name) for name in source.namelist()}
    parts.update(replaced)
    output = open(target, "wb") if target else io.BytesIO()  # noqa: SIM115 - closed below
    try:
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name, part in parts.items():
                if isinstance(part, bytes):
                    archive.writestr(name, part)
                    continue
                with archive.open(name, "w", force_zip64=True) as stream:
                    for chunk in part():
                        stream.write(chunk)
        return None if target else output.getvalue()
    finally:
        if target:
            output.close()


def sheet_part(rows: Callable[[], Iterable[bytes]]) -> Callable[[], Iterator[bytes]]:
    """A worksheet part: the header row of the expenses sheet, then `rows`."""
    header = "".join(f'<c r="{column}1" t="inlineStr"><is><t>{title}</t></is></c>'
                     for column, title in zip("ABCDEF", schema.EXPENSE_HEADERS, strict=True))

    def chunks() -> Iterator[bytes]:
        yield (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
               f'<sheetData><row r="1">{header}</row>').encode()
        yield from rows()
        yield b"</sheetData></worksheet>"

    return chunks


def _repeat(piece: bytes, times: int) -> Iterator[bytes]:
    per_chunk = max(1, CHUNK // len(piece))
    block = piece * per_chunk
    full, rest = divmod(times, per_chunk)
    for _ in range(full):
        yield block
    yield piece * rest


def whitespace_bomb(spaces: int) -> dict[str, Part]:
    """One cell of `spaces` blanks (1 GiB of them deflate to about 1 MB)."""
    def rows() -> Iterator[bytes]:
        yield b'<row r="2"><c r="D2" t="inlineStr"><is><t xml:space="preserve">'
        yield from _repeat(b" ", spaces)
        yield b"</t></is></c></row>"

    return {EXPENSES_PART: sheet_part(rows)}


def shared_strings(count: int, *, distinct: bool = False) -> dict[str, Part]:
    """A shared-strings table of `count` strings (read whole by spreadsheet readers): a hundred
    values repeated (2.7 million of them fit in a 1 MB upload), or all `distinct` (they then
    compress like ordinary text)."""
    modulo = count if distinct else 100
    def chunks() -> Iterator[bytes]:
        yield (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{count}" '
               f'uniqueCount="{count}">').encode()
        for start in range(0, count, 10_000):
            yield "".join(f"<si><t>{n % modulo}</t></si>"
                          for n in range(start, min(count, start + 10_000))).encode()
        yield b"</sst>"

    types = base_part(CONTENT_TYPES_PART).replace(
        b"</Types>", f'<Override PartName="/{SHARED_STRINGS_PART}" '
                     f'ContentType="{SHARED_STRINGS_TYPE}" /></Types>'.encode())
    return {SHARED_STRINGS_PART: chunks, CONTENT_TYPES_PART: types}


def blank_rows(count: int) -> dict[str, Part]:
    """`count` rows whose only cell is a blank."""
    def rows() -> Iterator[bytes]:
        for start in range(2, count + 2, 10_000):
            yield "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t> </t></is></c></row>'
                          for n in range(start, min(count + 2, start + 10_000))).encode()

    return {EXPENSES_PART: sheet_part(rows)}


def wide_rows(count: int, cells: int) -> dict[str, Part]:
    """`count` rows of `cells` invalid values each (every one a refused cell)."""
    columns = [get_column_letter(index) for index in range(1, cells + 1)]

    def rows() -> Iterator[bytes]:
        for number in range(2, count + 2):
            yield (f'<row r="{number}">' + "".join(
                f'<c r="{column}{number}"><v>-1</v></c>' for column in columns)
                   + "</row>").encode()

    return {EXPENSES_PART: sheet_part(rows)}


def deep_nesting(depth: int) -> dict[str, Part]:
    """`depth` nested unknown elements inside the expenses sheet's data."""
    def rows() -> Iterator[bytes]:
        yield from _repeat(b"<x>", depth)
        yield from _repeat(b"</x>", depth)

    return {EXPENSES_PART: sheet_part(rows)}


def huge_styles(formats: int) -> dict[str, Part]:
    """A style sheet of `formats` cell formats (a part read whole, into many objects)."""
    def chunks() -> Iterator[bytes]:
        yield (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN_NS}">'
               f'<cellXfs count="{formats}">').encode()
        yield from _repeat(b'<xf numFmtId="0"/>', formats)
        yield b"</cellXfs></styleSheet>"

    return {STYLES_PART: chunks}


def many_parts(count: int) -> dict[str, Part]:
    """`count` extra tiny parts."""
    return {f"junk/{n}.xml": b"<a/>" for n in range(count)}


def base_part(name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(base_annex())).read(name)


def with_lying_size(data: bytes, name: str, declared: int) -> bytes:
    """The archive with the uncompressed size recorded for part `name` (local header and
    central directory) replaced by `declared`: the part says it is small and is not."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(name)
    patched = bytearray(data)
    size = declared.to_bytes(4, "little")
    patched[info.header_offset + 22:info.header_offset + 26] = size  # local file header
    position, encoded = archive.start_dir, name.encode()
    while data[position:position + 4] == b"PK\x01\x02":  # central directory records
        name_length, extra_length, comment_length = (
            int.from_bytes(data[position + offset:position + offset + 2], "little")
            for offset in (28, 30, 32))
        if data[position + 46:position + 46 + name_length] == encoded:
            patched[position + 24:position + 28] = size
            return bytes(patched)
        position += 46 + name_length + extra_length + comment_length
    raise ValueError(f"{name} is not in the central directory")
