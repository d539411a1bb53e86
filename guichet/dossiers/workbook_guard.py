"""What an uploaded XLSX workbook may cost us, checked before openpyxl reads it.

An XLSX file is a ZIP archive of XML parts. A 1 MB upload can inflate to a gigabyte of blanks,
hold millions of shared strings, rows or nested elements; openpyxl reads some parts whole, keeps
unknown elements of a sheet in memory until the end, and turns style and validation elements
into objects. So a workbook is opened here, in two steps, and refused with a French reason
(`WorkbookRefused`) as soon as a limit is passed:

1. Before anything is inflated, from the archive's central directory: the number of parts, the
   declared uncompressed size of each part and of all of them, and each part's compression
   ratio. The declared sizes are a bound on the real ones: Python's zipfile stops inflating a
   part at its declared size (and then fails its CRC check).
2. Before openpyxl parses a part, the part is scanned once with expat (streamed, no DTD, no
   entities), counting elements for the whole workbook: in total, nesting depth, cells per row,
   shared strings, and "structure" elements (anything but sheet data, cells and plain strings,
   which are what openpyxl turns into objects). openpyxl then reads a part we know to be small.

The limits are well above what a filled-in annex needs (see `WorkbookLimits`) and low enough
for any file within them to be read in about a second and under 100 MB.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from django.utils.translation import gettext
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook import Workbook

from guichet.core.uploads import MEBIBYTE, format_size_fr

CENTRAL_DIRECTORY_SIGNATURE = b"PK\x01\x02"
SCAN_CHUNK = 256 * 1024
# Elements openpyxl streams without making objects of them: the sheet data, its cells and plain
# strings (shared or inline). Every other element counts as structure.
DATA_ELEMENTS = frozenset({"sheetData", "row", "c", "v", "is", "t", "si", "sst"})


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """For scale: a full annex written by our template (5 000 expense and 5 000 financing
    lines, labels of 400 accented letters) has 12 parts, an expenses sheet of 5.7 MB inflated
    (ratio 38), 125 000 elements of which 417 are structure; Excel's files add a few parts and
    put the texts in shared strings."""

    max_parts: int = 200
    max_part_bytes: int = 12 * MEBIBYTE  # declared, uncompressed
    max_total_bytes: int = 32 * MEBIBYTE
    max_ratio: int = 100  # uncompressed / compressed, for parts above `ratio_floor_bytes`
    ratio_floor_bytes: int = MEBIBYTE
    max_elements: int = 200_000  # in every part openpyxl reads, together
    max_structure_elements: int = 20_000
    max_shared_strings: int = 60_000
    max_cells_per_row: int = 1_000
    max_depth: int = 24


LIMITS = WorkbookLimits()


class WorkbookRefused(Exception):
    """The workbook would cost more than a financial annex can; `reason` is French."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def load_workbook(data: bytes, limits: WorkbookLimits = LIMITS) -> Workbook:
    """`data` as a read-only openpyxl workbook, formulas kept as formulas, external links not
    read. Raises `WorkbookRefused` (here, or later while its sheets are read) past a limit, and
    whatever zipfile or openpyxl raise on a damaged file."""
    _check_part_count(data, limits)
    archive = _GuardedArchive(io.BytesIO(data), _MarkupBudget(limits))
    _check_declared_sizes(archive.infolist(), limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        reader.archive.close()
        # openpyxl's reader reads through our archive: every part it opens is scanned first.
        reader.archive, reader.valid_files = archive, archive.namelist()
        reader.read()
    return reader.wb


def _check_part_count(data: bytes, limits: WorkbookLimits) -> None:
    # Each part has one central directory record, which starts with this signature: counting
    # them bounds the parts before zipfile builds an object per record.
    count = data.count(CENTRAL_DIRECTORY_SIGNATURE)
    if count > limits.max_parts:
        raise WorkbookRefused(
            gettext("Le classeur contient trop de parties (%(count)s ; au plus %(limit)s).")
            % {"count": count, "limit": limits.max_parts})


def _check_declared_sizes(parts: list[zipfile.ZipInfo], limits: WorkbookLimits) -> None:
    total = 0
    for part in parts:
        if part.file_size > limits.max_part_bytes:
            raise WorkbookRefused(
                gettext("Le classeur est trop volumineux une fois décompressé : la partie "
                        "« %(part)s » fait %(size)s (au plus %(limit)s).")
                % {"part": part.filename[:80], "size": format_size_fr(part.file_size),
                   "limit": format_size_fr(limits.max_part_bytes)})
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise WorkbookRefused(
                gettext("Le classeur est anormalement compressé (la partie « %(part)s » "
                        "grossit %(ratio)s fois à la décompression ; au plus %(limit)s).")
                % {"part": part.filename[:80], "ratio": int(ratio), "limit": limits.max_ratio})
        total += part.file_size
    if total > limits.max_total_bytes:
        raise WorkbookRefused(
            gettext("Le classeur est trop volumineux une fois décompressé : %(size)s (au plus "
                    "%(limit)s).")
            % {"size": format_size_fr(total), "limit": format_size_fr(limits.max_total_bytes)})


class _GuardedArchive(zipfile.ZipFile):
    """A read-only archive whose parts are each scanned once before they are first opened."""

    def __init__(self, file, budget: _MarkupBudget):
        super().__init__(file)
        self._budget = budget
        self._scanned: set[str] = set()

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        key = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if mode == "r" and key not in self._scanned:
            with super().open(name, mode, pwd) as part:
                self._budget.scan(part)
            self._scanned.add(key)
        return super().open(name, mode, pwd, force_zip64=force_zip64)


class _MarkupBudget:
    """Element counts over every part scanned; expat's handlers raise when one runs out."""

    def __init__(self, limits: WorkbookLimits):
        self.limits = limits
        self.elements = self.structure = self.strings = self.row_cells = 0
        self.depth = 0

    def scan(self, stream) -> None:
        parser = expat.ParserCreate()
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        # A DTD could declare entities that expand without end: no XLSX part has one.
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        self.depth = 0
        while chunk := stream.read(SCAN_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)

    def _start(self, name: str, _attributes) -> None:
        limits = self.limits
        self.depth += 1
        self.elements += 1
        if self.depth > limits.max_depth:
            self._refuse(gettext("Le classeur imbrique ses éléments trop profondément (au plus "
                                 "%(limit)s niveaux)."), limits.max_depth)
        if self.elements > limits.max_elements:
            self._refuse(gettext("Le classeur contient trop d'éléments (au plus %(limit)s)."),
                         limits.max_elements)
        local = name.rpartition(":")[2]
        if local == "c":
            self.row_cells += 1
            if self.row_cells > limits.max_cells_per_row:
                self._refuse(gettext("Une ligne du classeur contient trop de cellules (au plus "
                                     "%(limit)s)."), limits.max_cells_per_row)
        elif local == "row":
            self.row_cells = 0
        elif local == "si":
            self.strings += 1
            if self.strings > limits.max_shared_strings:
                self._refuse(gettext("Le classeur contient trop de textes partagés (au plus "
                                     "%(limit)s)."), limits.max_shared_strings)
        elif local not in DATA_ELEMENTS:
            self.structure += 1
            if self.structure > limits.max_structure_elements:
                self._refuse(gettext("Le classeur contient trop d'éléments de structure ou de "
                                     "mise en forme (au plus %(limit)s)."),
                             limits.max_structure_elements)

    def _end(self, _name: str) -> None:
        self.depth -= 1

    def _doctype(self, *_arguments) -> None:
        raise WorkbookRefused(gettext("Le classeur contient une déclaration de type de "
                                      "document (DTD), refusée."))

    @staticmethod
    def _refuse(message: str, limit: int) -> None:
        raise WorkbookRefused(message % {"limit": f"{limit:,}".replace(",", "\u202f")})
