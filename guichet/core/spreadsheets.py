"""The writers of every spreadsheet we hand out: CSV, XLSX and ODS, exact to the cent.

A table is a header (column titles) and rows of typed values: `str`, `int`, `Decimal` (euros, to
the cent), `datetime.date`, an aware `datetime.datetime` (an instant, written as the time in
Europe/Paris) or None. Each format writes the values exactly:
- CSV as "1234.50" (dot decimals, ISO dates, instants "2021-08-31 11:59:59" in Paris); texts
  quoted and never read as a formula (`csv_cell`, `csv_writer`), comma or semicolon separated;
- XLSX as numbers (openpyxl keeps 16 significant digits, more than any amount of 14 digits)
  with a "#,##0.00" format; a text cell is a string cell, never a formula. Workbooks are written
  in openpyxl's write-only mode: rows go to a temporary file as they come, so a large export is
  never held whole in memory as cell objects;
- ODS with the decimal text itself as the cell value (`office:value="1234.50"`, never through a
  float) and the French display text ("1 234,50").

`Sheet` describes one sheet (its rows may be a generator); `write_xlsx` and `write_ods` write
several, `to_xlsx` and `to_ods` one; `save_xlsx` and `save_ods` write them into a file (a large
export: the ODS content is written row by row too, never held whole); `stream_csv` yields a CSV
line by line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from guichet.core.clock import in_paris
from guichet.rules.money import CENT, NARROW_NBSP

Header = Sequence[str]
Row = Sequence[Any]

AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
INSTANT_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"
# XLSX limits a sheet's name to 31 characters.
MAX_SHEET_TITLE = 31


@dataclass(frozen=True, slots=True)
class Emphasis:
    """A row written in bold (a total): only its cells holding a value are styled."""

    values: Row


@dataclass(frozen=True, slots=True)
class Sheet:
    """One sheet to write. `rows` are read once, as they come (a generator is welcome); an
    empty row leaves a blank line. `widths` are the columns' widths in characters;
    `text_columns` (0-based) are formatted as text in XLSX ("@", so that a SIRET typed later
    keeps its leading zeros), in every row but the `Emphasis` ones."""

    title: str
    header: Header
    rows: Iterable[Row | Emphasis]
    widths: Sequence[int] = ()
    text_columns: frozenset[int] = field(default_factory=frozenset)


def xml_text(text: str) -> str:
    """Text as XML can hold it (most control characters are forbidden)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def decimal_text(amount: Decimal) -> str:
    """"1234.50": the exact decimal text of an amount, to the cent."""
    return f"{amount.quantize(CENT):f}"


def french_amount(amount: Decimal) -> str:
    """"1 234,50" (narrow no-break spaces between thousands)."""
    return f"{amount.quantize(CENT):,.2f}".replace(",", NARROW_NBSP).replace(".", ",")


def paris_time(instant: dt.datetime) -> dt.datetime:
    """An aware instant as the wall-clock time in Paris, without its zone (what a spreadsheet
    cell holds: XLSX and ODS know no time zones)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    return in_paris(instant).replace(tzinfo=None)


def instant_text(instant: dt.datetime) -> str:
    """"2021-08-31 11:59:59": an instant as read in Paris."""
    return paris_time(instant).isoformat(sep=" ", timespec="seconds")


def _default_title(title: str | None) -> str:
    return title or gettext("Export")


# --- CSV -------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by spreadsheets ("CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str | int | Decimal:
    """A value as a cell of any CSV we write, the way OWASP's "CSV Injection" page says: text
    that starts with = + - @ a tab or a carriage return gets a leading single quote, so that
    spreadsheets show it as text; numbers (`int`, `Decimal`) stay numbers, never prefixed;
    dates are ISO text, instants their time in Paris; None is empty. Write the cells with
    `csv_writer`."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return instant_text(value)
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


# The separators a CSV may use: the comma, or the semicolon French Excel splits on.
SEPARATORS = {"comma": ",", "semicolon": ";"}


def csv_writer(stream, *, lineterminator: str = "\r\n", separator: str = ","):
    """The csv writer of every export: numbers bare, every text quoted (inner quotes doubled),
    so that a separator inside a text, "," or ";" (the one French Excel splits on), never
    starts a new cell; whatever a reader splitting on ";" cuts out of a quoted text ends with
    the closing quote, which no formula survives."""
    return csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC, lineterminator=lineterminator,
                      delimiter=separator)


class _Line:
    """A write-only "file" that hands back what the csv module writes into it."""

    def write(self, text: str) -> str:
        return text


def stream_csv(header: Header, rows: Iterable[Row], *, excel: bool = False,
               separator: str = ",") -> Iterator[bytes]:
    """The CSV line by line, as UTF-8 bytes (comma separated unless `separator` says
    otherwise, dot decimals, ISO dates). With `excel`, a byte order mark first, so that Excel
    reads the accents right."""
    writer = csv_writer(_Line(), separator=separator)
    if excel:
        yield "\ufeff".encode()
    yield writer.writerow([csv_cell(title) for title in header]).encode("utf-8")
    for row in rows:
        yield writer.writerow([csv_cell(_cents(value)) for value in row]).encode("utf-8")


def to_csv(header: Header, rows: Iterable[Row], *, excel: bool = False) -> bytes:
    return b"".join(stream_csv(header, rows, excel=excel))


def _cents(value: Any) -> Any:
    return value.quantize(CENT) if isinstance(value, Decimal) else value


# --- XLSX ------------------------------------------------------------------------------------

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", start_color="DDE5F4")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)


def style_header(cell) -> None:
    """The look of a header cell, in a write-only workbook or a normal one alike."""
    cell.font = BOLD
    cell.fill = HEADER_FILL
    cell.alignment = HEADER_ALIGNMENT


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """The sheets as an XLSX workbook, written row by row (openpyxl's write-only mode: each
    sheet's rows go to a temporary file, only the compressed workbook is held in memory)."""
    output = io.BytesIO()
    save_xlsx(sheets, output)
    return output.getvalue()


def save_xlsx(sheets: Iterable[Sheet], target) -> None:
    """The sheets as an XLSX workbook written into `target` (a path or a binary file)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_xlsx_sheet(workbook, sheet)
    workbook.save(target)


def to_xlsx(header: Header, rows: Iterable[Row], *, title: str | None = None) -> bytes:
    """One sheet ("Export" unless `title` is given)."""
    return write_xlsx([Sheet(_default_title(title), header, rows)])


def _write_xlsx_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(xml_text(sheet.title)[:MAX_SHEET_TITLE] or "Export")
    # In write-only mode, columns and panes are set before the first row is written.
    for index, width in enumerate(sheet.widths, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    header = [xlsx_cell(worksheet, str(title)) for title in sheet.header]
    for cell in header:
        style_header(cell)
    worksheet.append(header)
    for row in sheet.rows:
        if isinstance(row, Emphasis):
            worksheet.append([xlsx_cell(worksheet, value, bold=value is not None)
                              for value in row.values])
        else:
            worksheet.append([
                xlsx_cell(worksheet, value,
                          number_format=TEXT_FORMAT if index in sheet.text_columns else None)
                for index, value in enumerate(row)])


def xlsx_cell(worksheet, value: Any, *, bold: bool = False,
              number_format: str | None = None) -> WriteOnlyCell:
    """A cell of a write-only sheet: amounts to the cent with the amount format, dates with
    the ISO date format, instants as their time in Paris, whole numbers and None as they are,
    anything else as a string cell (never a formula, even when it starts with "=")."""
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(worksheet, value=value.quantize(CENT))
        cell.number_format = AMOUNT_FORMAT
    elif isinstance(value, dt.datetime):
        cell = WriteOnlyCell(worksheet, value=paris_time(value))
        cell.number_format = INSTANT_FORMAT
    elif isinstance(value, dt.date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATE_FORMAT
    elif value is None or isinstance(value, int):
        cell = WriteOnlyCell(worksheet, value=value)
    else:
        cell = WriteOnlyCell(worksheet, value=xml_text(str(value)))
        cell.data_type = "s"
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = BOLD
    return cell


# --- ODS -------------------------------------------------------------------------------------


def write_ods(sheets: Iterable[Sheet]) -> bytes:
    """The sheets as an ODS document (odfpy); amounts keep their exact decimal text as the
    cell value ("1234.50")."""
    output = io.BytesIO()
    save_ods(sheets, output)
    return output.getvalue()


def save_ods(sheets: Iterable[Sheet], target) -> None:
    """The sheets as an ODS document written into `target` (a path or a seekable binary file).

    odfpy holds a whole document as a tree of Python objects (about a kilobyte a cell), so the
    rows do not go into it: odfpy writes the document with, in each table, one marker row
    holding every cell style (so that it keeps them all), then the content is copied with
    each marker replaced by the sheet's rows, each serialised by odfpy as it comes."""
    document = OpenDocumentSpreadsheet()
    styles = OdsStyles(document)
    markers = []
    for sheet in sheets:
        table = Table(name=xml_text(sheet.title) or "Export")
        styles.columns(table, sheet.widths)
        table.addElement(ods_row([ods_text(str(title), styles.bold) for title in sheet.header]))
        marker = _marker_row(styles)
        table.addElement(marker)
        markers.append((_serialised(marker), sheet))
        document.spreadsheet.addElement(table)
    skeleton = io.BytesIO()
    document.write(skeleton)
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(target, "w") as output:
        for info in source.infolist():
            if info.filename == "content.xml":
                _write_ods_content(source.read(info).decode("utf-8"), markers, styles,
                                   output, info)
            else:
                output.writestr(info, source.read(info))


def _marker_row(styles: OdsStyles) -> TableRow:
    return ods_row([ods_text(f"guichet-rows-{uuid.uuid4().hex}"),
                    ods_amount(Decimal(0), styles.amount),
                    ods_amount(Decimal(0), styles.bold_amount),
                    ods_text("-", styles.bold)])


def _serialised(element) -> str:
    text = io.StringIO()
    element.toXml(1, text)  # below the root: no namespace declarations
    return text.getvalue()


def _write_ods_content(skeleton: str, markers, styles: OdsStyles, output: zipfile.ZipFile,
                       info: zipfile.ZipInfo) -> None:
    with output.open(info, "w", force_zip64=True) as member, \
            io.TextIOWrapper(member, encoding="utf-8") as content:
        for marker, sheet in markers:
            before, skeleton = skeleton.split(marker, 1)
            content.write(before)
            for row in sheet.rows:
                bold = isinstance(row, Emphasis)
                values = row.values if bold else row
                ods_row([ods_cell(value, styles, bold=bold) for value in values]).toXml(
                    1, content)
        content.write(skeleton)


def to_ods(header: Header, rows: Iterable[Row], *, title: str | None = None) -> bytes:
    """One table ("Export" unless `title` is given)."""
    return write_ods([Sheet(_default_title(title), header, rows)])


class OdsStyles:
    """The cell styles of a document: amounts (plain or bold), bold text, column widths."""

    def __init__(self, document: OpenDocumentSpreadsheet) -> None:
        self.document = document
        number_style = NumberStyle(name="amount-format")
        number_style.addElement(Number(decimalplaces=2, minintegerdigits=1, grouping="true"))
        document.automaticstyles.addElement(number_style)
        self.amount = self._cell_style("amount", datastylename="amount-format")
        self.bold = self._cell_style("bold", bold=True)
        self.bold_amount = self._cell_style("bold-amount", bold=True,
                                            datastylename="amount-format")
        self._widths: dict[int, Style] = {}

    def _cell_style(self, name: str, bold: bool = False, **attributes: str) -> Style:
        style = Style(name=name, family="table-cell", **attributes)
        if bold:
            style.addElement(TextProperties(fontweight="bold"))
        self.document.automaticstyles.addElement(style)
        return style

    def columns(self, table: Table, widths: Sequence[int]) -> None:
        for width in widths:
            if width not in self._widths:
                style = Style(name=f"column-{width}", family="table-column")
                # XLSX widths count characters; about 0.2 cm each in the default font.
                style.addElement(TableColumnProperties(columnwidth=f"{width * 0.2:.1f}cm"))
                self.document.automaticstyles.addElement(style)
                self._widths[width] = style
            table.addElement(TableColumn(stylename=self._widths[width]))


def ods_row(cells: Iterable[TableCell]) -> TableRow:
    row = TableRow()
    for cell in cells:
        row.addElement(cell)
    return row


def ods_cell(value: Any, styles: OdsStyles, *, bold: bool = False) -> TableCell:
    """A cell of an ODS table, typed like `xlsx_cell`; `bold` styles a cell with a value."""
    if value is None:
        return TableCell()
    if isinstance(value, Decimal):
        return ods_amount(value, styles.bold_amount if bold else styles.amount)
    if isinstance(value, dt.datetime):
        local = paris_time(value)
        cell = TableCell(valuetype="date", datevalue=local.isoformat(timespec="seconds"))
        cell.addElement(P(text=instant_text(value)))
        return cell
    if isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
        cell.addElement(P(text=value.isoformat()))
        return cell
    if isinstance(value, int):
        cell = TableCell(valuetype="float", value=str(value))
        cell.addElement(P(text=str(value)))
        return cell
    return ods_text(str(value), styles.bold if bold else None)


def ods_text(text: str, style: Style | None = None) -> TableCell:
    text = xml_text(text)
    attributes = {"stylename": style} if style else {}
    if not text:
        return TableCell(**attributes)
    cell = TableCell(valuetype="string", **attributes)
    cell.addElement(P(text=text))
    return cell


def ods_amount(amount: Decimal, style: Style) -> TableCell:
    # "1234.50": the decimal text itself, never a float (totals may exceed MAX_AMOUNT).
    cell = TableCell(valuetype="float", value=decimal_text(amount), stylename=style)
    cell.addElement(P(text=french_amount(amount)))
    return cell
