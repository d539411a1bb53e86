"""Staff exports of a call's grants and payments: CSV, XLSX and ODS.

A table is a header (column titles) and rows of typed values: `str`, `int`, `Decimal` (euros, to
the cent), `datetime.date` or None. Each format writes the values exactly: CSV as "1234.50"
(dot decimals, ISO dates; texts quoted and never read as a formula, see `csv_cell`), XLSX as
numbers (openpyxl keeps 16 significant digits, more than any amount of 14 digits) with a
"#,##0.00" format, ODS with the decimal text itself as the cell value (`office:value="1234.50"`,
never through a float) and French display text. In XLSX and ODS a text cell is a string cell,
never a formula.

`grant_rows` and `payment_rows` read the database in chunks and, with `stream_csv`, serve large
volumes without holding them in memory (e.g. in a `StreamingHttpResponse`); the `*_table`
functions return lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TextProperties
from odf.table import Table, TableCell, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from guichet.calls.models import Call
from guichet.dossiers.models import ConsortiumMember
from guichet.grants.models import Grant, GrantStatus, Payment
from guichet.rules.money import CENT, NARROW_NBSP, ZERO

Header = Sequence[str]
Row = Sequence[Any]

GRANTS_HEADER = (
    "Numéro de dossier",
    "Titre",
    "Chef de file",
    "Vague",
    "Aide attribuée (€)",
    "Date de signature",
    "Total versé (€)",
    "Statut",
)
PAYMENTS_HEADER = (
    "Numéro de dossier",
    "Tranche",
    "Montant (€)",
    "Date de versement",
    "Référence",
    "Écriture",
    "Motif d'annulation",
)
PAYMENT, REVERSAL = "versement", "annulation"
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
CHUNK = 500


# --- tables ----------------------------------------------------------------------------------


def grant_rows(call: Call) -> Iterator[tuple]:
    """One row per grant of the call (every status), by receipt number: receipt number, title,
    lead, wave, award, signature date (in the call's time zone), total paid, status."""
    zone = call.rules().zone
    lead = ConsortiumMember.objects.filter(
        consortium=OuterRef("dossier__consortium"), is_lead=True).values("name")[:1]
    paid = (Payment.objects.filter(tranche__grant=OuterRef("pk")).order_by()
            .values("tranche__grant").annotate(total=Sum("amount")).values("total"))
    money = DecimalField(max_digits=14, decimal_places=2)
    grants = (Grant.objects.filter(dossier__call=call).select_related("dossier", "wave")
              .annotate(lead_name=Subquery(lead),
                        paid_total=Coalesce(Subquery(paid, output_field=money),
                                            Value(ZERO), output_field=money))
              .order_by("dossier__receipt_number", "pk"))
    for grant in grants.iterator(chunk_size=CHUNK):
        yield (
            grant.dossier.receipt_number or "",
            grant.dossier.title,
            grant.lead_name or "",
            grant.wave.name,
            grant.award,
            grant.signed_at.astimezone(zone).date() if grant.signed_at else None,
            grant.paid_total.quantize(CENT),
            str(GrantStatus(grant.status).label),
        )


def payment_rows(call: Call) -> Iterator[tuple]:
    """One row per entry of the call's payments, by receipt number, tranche and time: receipt
    number, tranche number, amount, date, transfer reference, entry ("versement", or
    "annulation" for the reversal of a mistaken payment, its amount negative) and the reason
    of a reversal. A reversed payment keeps its row: both entries show."""
    payments = (Payment.objects.filter(tranche__grant__dossier__call=call)
                .select_related("tranche__grant__dossier")
                .order_by("tranche__grant__dossier__receipt_number", "tranche__grant",
                          "tranche__number", "recorded_at", "pk"))
    for payment in payments.iterator(chunk_size=CHUNK):
        yield (
            payment.tranche.grant.dossier.receipt_number or "",
            payment.tranche.number,
            payment.amount,
            payment.paid_on,
            payment.reference,
            REVERSAL if payment.reverses_id else PAYMENT,
            payment.reason,
        )


def grants_table(call: Call) -> tuple[Header, list[tuple]]:
    return GRANTS_HEADER, list(grant_rows(call))


def payments_table(call: Call) -> tuple[Header, list[tuple]]:
    return PAYMENTS_HEADER, list(payment_rows(call))


# --- CSV -------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by spreadsheets ("CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str | int | Decimal:
    """A value as a cell of any CSV we write, the way OWASP's "CSV Injection" page says: text
    that starts with = + - @ a tab or a carriage return gets a leading single quote, so that
    spreadsheets show it as text; numbers (`int`, `Decimal`) stay numbers, never prefixed;
    dates are ISO text; None is empty. Write the cells with `csv_writer`."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_writer(stream, *, lineterminator: str = "\r\n"):
    """The csv writer of every export: numbers bare, every text quoted (inner quotes doubled),
    so that a separator inside a text, "," or ";" (the one French Excel splits on), never
    starts a new cell; whatever a reader splitting on ";" cuts out of a quoted text ends with
    the closing quote, which no formula survives."""
    return csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC, lineterminator=lineterminator)


class _Line:
    """A write-only "file" that hands back what the csv module writes into it."""

    def write(self, text: str) -> str:
        return text


def stream_csv(header: Header, rows: Iterable[Row], *, excel: bool = False) -> Iterator[bytes]:
    """The CSV line by line, as UTF-8 bytes (comma separated, dot decimals, ISO dates). With
    `excel`, a byte order mark first, so that Excel reads the accents right."""
    writer = csv_writer(_Line())
    if excel:
        yield "\ufeff".encode()
    yield writer.writerow([csv_cell(title) for title in header]).encode("utf-8")
    for row in rows:
        yield writer.writerow([csv_cell(_cents(value)) for value in row]).encode("utf-8")


def to_csv(header: Header, rows: Iterable[Row], *, excel: bool = False) -> bytes:
    return b"".join(stream_csv(header, rows, excel=excel))


def _cents(value: Any) -> Any:
    return value.quantize(CENT) if isinstance(value, Decimal) else value


def _decimal_text(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):f}"


# --- XLSX ------------------------------------------------------------------------------------


def to_xlsx(header: Header, rows: Iterable[Row], *, title: str = "Export") -> bytes:
    """One sheet (write-only mode: rows are not kept in memory); text stays text, even when it
    starts with "=" (never a formula)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_text(title)[:31] or "Export")
    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_text(name))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _xlsx_cell(sheet, value: Any) -> WriteOnlyCell:
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value.quantize(CENT))
        cell.number_format = AMOUNT_FORMAT
    elif isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    elif value is None or isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=value)
    else:
        cell = WriteOnlyCell(sheet, value=_text(str(value)))
        cell.data_type = "s"
    return cell


def _text(text: str) -> str:
    """Text as XML can hold it (most control characters are forbidden)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


# --- ODS -------------------------------------------------------------------------------------


def to_ods(header: Header, rows: Iterable[Row], *, title: str = "Export") -> bytes:
    """One table; amounts keep their exact decimal text as the cell value ("1234.50")."""
    document = OpenDocumentSpreadsheet()
    styles = _OdsStyles(document)
    table = Table(name=_text(title) or "Export")
    table.addElement(_ods_row([_ods_text(name, styles.bold) for name in header]))
    for row in rows:
        table.addElement(_ods_row([_ods_cell(value, styles) for value in row]))
    document.spreadsheet.addElement(table)
    output = io.BytesIO()
    document.write(output)
    return output.getvalue()


class _OdsStyles:
    def __init__(self, document: OpenDocumentSpreadsheet) -> None:
        number_style = NumberStyle(name="export-amount-format")
        number_style.addElement(Number(decimalplaces=2, minintegerdigits=1, grouping="true"))
        document.automaticstyles.addElement(number_style)
        self.amount = Style(name="export-amount", family="table-cell",
                            datastylename="export-amount-format")
        document.automaticstyles.addElement(self.amount)
        self.bold = Style(name="export-bold", family="table-cell")
        self.bold.addElement(TextProperties(fontweight="bold"))
        document.automaticstyles.addElement(self.bold)


def _ods_row(cells: list[TableCell]) -> TableRow:
    row = TableRow()
    for cell in cells:
        row.addElement(cell)
    return row


def _ods_cell(value: Any, styles: _OdsStyles) -> TableCell:
    if value is None:
        return TableCell()
    if isinstance(value, Decimal):
        cell = TableCell(valuetype="float", value=_decimal_text(value), stylename=styles.amount)
        cell.addElement(P(text=_fr(value)))
        return cell
    if isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
        cell.addElement(P(text=value.isoformat()))
        return cell
    if isinstance(value, int):
        cell = TableCell(valuetype="float", value=str(value))
        cell.addElement(P(text=str(value)))
        return cell
    return _ods_text(str(value))


def _ods_text(text: str, style: Style | None = None) -> TableCell:
    text = _text(text)
    attributes = {"stylename": style} if style else {}
    if not text:
        return TableCell(**attributes)
    cell = TableCell(valuetype="string", **attributes)
    cell.addElement(P(text=text))
    return cell


def _fr(amount: Decimal) -> str:
    """1 234,50 (narrow no-break spaces between thousands)."""
    return f"{amount.quantize(CENT):,.2f}".replace(",", NARROW_NBSP).replace(".", ",")
