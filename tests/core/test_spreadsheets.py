"""The shared spreadsheet writers: exact decimals, formula neutralisation, write-only XLSX."""

import csv
import datetime as dt
import gc
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from odf.opendocument import load as load_ods
from odf.table import Table, TableCell, TableRow
from openpyxl.cell.cell import Cell

from guichet.core.spreadsheets import (
    Emphasis,
    Sheet,
    csv_cell,
    decimal_text,
    french_amount,
    stream_csv,
    to_csv,
    to_ods,
    to_xlsx,
    write_ods,
    write_xlsx,
)

HEADER = ["Libellé", "Montant (€)", "Date", "Nombre"]
ROWS = [
    ("Formateurs", Decimal("1234.5"), dt.date(2026, 3, 1), 3),
    ("=HYPERLINK(\"http://x\")", Decimal("999999999999.99"), None, -2),
    ("Tablettes", Decimal("0.1") + Decimal("0.2"), dt.date(2026, 12, 31), 0),
]
TOTAL_BEYOND_FLOAT = Decimal("12345678901234567.89")  # more digits than a double holds


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def ods_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("content.xml").decode()


# --- small helpers ---------------------------------------------------------------------------


def test_decimal_text_always_two_decimals():
    assert [decimal_text(Decimal(text)) for text in ("1234.5", "-3", "0.05")] == [
        "1234.50", "-3.00", "0.05"]


def test_french_amount_groups_thousands_with_narrow_no_break_spaces():
    assert french_amount(Decimal("1234567.8")) == "1\u202f234\u202f567,80"


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cell_formula_trigger_gets_quote_prefix(text):
    assert csv_cell(text) == "'" + text


def test_csv_cell_numbers_and_dates_unprefixed():
    assert [csv_cell(value) for value in (Decimal("-1.50"), -4, dt.date(2026, 1, 2), None)] == [
        Decimal("-1.50"), -4, "2026-01-02", ""]


def test_to_csv_amounts_exact_to_the_cent():
    lines = list(csv.reader(io.StringIO(to_csv(HEADER, ROWS).decode())))

    assert [line[1] for line in lines[1:]] == ["1234.50", "999999999999.99", "0.30"]
    assert lines[2][0] == "'=HYPERLINK(\"http://x\")"


def test_stream_csv_reads_rows_one_at_a_time():
    consumed = []

    def rows():
        for row in ROWS:
            consumed.append(row)
            yield row

    lines = stream_csv(HEADER, rows())
    next(lines), next(lines)

    assert len(consumed) == 1


# --- XLSX ------------------------------------------------------------------------------------


def test_to_xlsx_amounts_exact_to_the_cent_with_amount_format():
    sheet = load(to_xlsx(HEADER, ROWS, title="Budget"))["Budget"]

    amounts = [sheet.cell(row=row, column=2) for row in (2, 3, 4)]
    assert [Decimal(str(cell.value)) for cell in amounts] == [
        Decimal("1234.50"), Decimal("999999999999.99"), Decimal("0.30")]
    assert {cell.number_format for cell in amounts} == {"#,##0.00"}
    assert sheet["C2"].value == dt.datetime(2026, 3, 1)
    assert sheet["C2"].number_format == "yyyy-mm-dd"
    assert (sheet["D3"].value, sheet["D3"].data_type) == (-2, "n")


def test_to_xlsx_formula_like_text_stays_a_string_cell():
    sheet = load(to_xlsx(HEADER, ROWS)).active

    assert (sheet["A3"].value, sheet["A3"].data_type) == ("=HYPERLINK(\"http://x\")", "s")


def test_to_xlsx_header_bold_and_frozen_default_title_export():
    sheet = load(to_xlsx(HEADER, ROWS)).active

    assert sheet.title == "Export"
    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


def test_to_xlsx_title_cleaned_and_cut_to_31_characters():
    sheet = load(to_xlsx(HEADER, [], title="Dépenses\x01" + "x" * 40)).active

    assert sheet.title == ("Dépenses" + "x" * 40)[:31]


def test_write_xlsx_text_columns_and_emphasis_rows():
    sheet = Sheet("Financement", ["Source", "SIRET", "Montant"],
                  [("Aide", None, Decimal("10")), (),
                   Emphasis(("Total", None, Decimal("10")))],
                  widths=(30, 20, 12), text_columns=frozenset({1}))

    worksheet = load(write_xlsx([sheet]))["Financement"]

    assert worksheet["B2"].number_format == "@"  # for a SIRET typed later
    assert worksheet.column_dimensions["A"].width == 30
    assert [row for row in worksheet.values][2] == (None, None, None)
    assert (worksheet["A4"].font.b, worksheet["B4"].font.b, worksheet["C4"].font.b) == (
        True, False, True)
    assert worksheet["B4"].number_format == "General"


def test_write_xlsx_keeps_no_written_row_in_memory():
    """Write-only mode: when the last row is asked for, the cells of the rows before it have
    been written out and dropped (a normal workbook would hold 6,000 of them)."""
    alive = {}

    def rows():
        for number in range(2000):
            if number == 1999:
                gc.collect()
                alive["cells"] = sum(isinstance(item, Cell) for item in gc.get_objects())
            yield (f"Ligne {number}", Decimal(number), number)

    data = write_xlsx([Sheet("Lignes", ["Libellé", "Montant", "Numéro"], rows())])

    assert alive["cells"] < 50
    assert load(data)["Lignes"].max_row == 2001


# --- ODS -------------------------------------------------------------------------------------


def test_to_ods_amounts_are_the_exact_decimal_text():
    content = ods_xml(to_ods(HEADER, [*ROWS, ("Total", TOTAL_BEYOND_FLOAT, None, 1)]))

    for value in ("1234.50", "999999999999.99", "0.30", "12345678901234567.89"):
        assert f'office:value="{value}"' in content
    assert "12\u202f345\u202f678\u202f901\u202f234\u202f567,89" in content
    assert 'office:date-value="2026-03-01"' in content


def test_to_ods_formula_like_text_is_a_string_cell():
    content = ods_xml(to_ods(HEADER, ROWS))

    assert "table:formula" not in content
    assert ('office:value-type="string"><text:p>=HYPERLINK("http://x")</text:p>') in content


def test_write_ods_emphasis_row_bold_amount_style():
    sheet = Sheet("Totaux", ["Libellé", "Montant"], [Emphasis(("Total", Decimal("5")))])

    table = load_ods(io.BytesIO(write_ods([sheet]))).spreadsheet.getElementsByType(Table)[0]
    total = table.getElementsByType(TableRow)[1].getElementsByType(TableCell)

    assert [cell.getAttribute("stylename") for cell in total] == ["bold", "bold-amount"]
    assert total[1].getAttribute("value") == "5.00"
