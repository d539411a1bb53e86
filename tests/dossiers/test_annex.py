"""The financial annex: XLSX template, strict import with every error at once, XLSX/ODS exports."""

import datetime as dt
import functools
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from odf.opendocument import load as load_ods
from odf.table import Table, TableCell, TableRow
from odf.text import P

from guichet.dossiers.annex.export import export_budget_ods, export_budget_xlsx
from guichet.dossiers.annex.reader import parse_annex
from guichet.dossiers.annex.schema import (
    AnnexCategory,
    AnnexContent,
    AnnexExpense,
    AnnexFinancing,
    AnnexInvalid,
    AnnexMember,
    CellError,
    financing_sources,
)
from guichet.dossiers.annex.template import build_template
from guichet.rules.money import MAX_AMOUNT
from guichet.rules.siret import make_siret
from tests.locale.test_catalogue import compiled_catalogue  # noqa: F401 (English tests need the catalogue)

ALPHA = make_siret("00012345", "0001")  # leading zeros: must survive as text
BETA = make_siret("41234567", "0002")
STRANGER = make_siret("55555555", "0003")
MEMBERS = [AnnexMember(ALPHA, "Alpha Formation"), AnnexMember(BETA, "Beta Numérique")]
CATEGORIES = [
    AnnexCategory("staff", "Frais de personnel"),
    AnnexCategory("equipment", "Équipement"),
    AnnexCategory("services", "Prestations externes"),
]
CONTENT = AnnexContent(
    expenses=[
        AnnexExpense(ALPHA, "staff", "Ingénieur pédagogique", Decimal("1234.50"), True),
        AnnexExpense(BETA, "equipment", "Ordinateurs portables", Decimal("0.05"), True),
        AnnexExpense(BETA, "services", "Réception de lancement", Decimal("300.00"), False),
    ],
    financing=[
        AnnexFinancing("aid", None, Decimal("864.15")),
        AnnexFinancing("own_cash", ALPHA, Decimal("370.35")),
        AnnexFinancing("own_in_kind", BETA, Decimal("300.05")),
    ],
)
EXPENSES = "Dépenses"
FINANCING = "Financement"
VALID_EXPENSE = [ALPHA, None, "staff", "Formateurs", "100,00", "oui"]
VALID_FINANCING = ["Aide demandée", None, "100"]


def workbook_bytes(
    expenses: list[list] = (), financing: list[list] = (), content: AnnexContent | None = None
) -> bytes:
    """The real template, filled in with openpyxl as an applicant's spreadsheet would be."""
    workbook = openpyxl.load_workbook(io.BytesIO(template(content)))
    for row in expenses:
        workbook[EXPENSES].append(row)
    for row in financing:
        workbook[FINANCING].append(row)
    return save(workbook)


def save(workbook: openpyxl.Workbook) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def refusal(data: bytes, **options) -> list[CellError]:
    with pytest.raises(AnnexInvalid) as caught:
        parse_annex(data, MEMBERS, CATEGORIES, **options)
    return caught.value.errors


def only_error(data: bytes) -> CellError:
    errors = refusal(data)
    assert len(errors) == 1, errors
    return errors[0]


def template_sheet(name: str, content: AnnexContent | None = None):
    return openpyxl.load_workbook(io.BytesIO(template(content)))[name]


def template(content: AnnexContent | None = None) -> bytes:
    """The template's bytes; the empty one built once for the module (most tests fill it)."""
    return empty_template() if content is None else build_template(MEMBERS, CATEGORIES, content)


@functools.cache
def empty_template() -> bytes:
    return build_template(MEMBERS, CATEGORIES)


# --- template --------------------------------------------------------------------------------


def test_template_round_trip_returns_same_content():
    data = build_template(MEMBERS, CATEGORIES, CONTENT)

    assert parse_annex(data, MEMBERS, CATEGORIES) == CONTENT


def test_template_round_trip_keeps_label_starting_with_equals_as_text():
    content = AnnexContent(
        [AnnexExpense(ALPHA, "staff", '=HYPERLINK("http://x")', Decimal("1.00"), True)], []
    )
    data = build_template(MEMBERS, CATEGORIES, content)

    assert template_sheet(EXPENSES, content)["D2"].data_type == "s"
    assert parse_annex(data, MEMBERS, CATEGORIES) == content


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100)), min_size=1, max_size=20))
def test_template_round_trip_keeps_every_cent(amounts_in_cents):
    content = AnnexContent(
        [
            AnnexExpense(BETA, "staff", f"Ligne {index}", Decimal(cents).scaleb(-2), True)
            for index, cents in enumerate(amounts_in_cents)
        ],
        [],
    )

    parsed = parse_annex(build_template(MEMBERS, CATEGORIES, content), MEMBERS, CATEGORIES)

    assert parsed == content


def test_template_without_content_has_headers_and_no_rows():
    workbook = openpyxl.load_workbook(io.BytesIO(build_template(MEMBERS, CATEGORIES)))

    assert workbook.sheetnames == [EXPENSES, FINANCING, "Membres", "Catégories"]
    assert next(workbook[EXPENSES].values) == (
        "SIRET du membre",
        "Membre",
        "Catégorie",
        "Libellé",
        "Montant (€)",
        "Éligible (oui/non)",
    )
    assert next(workbook[FINANCING].values) == (
        "Source",
        "SIRET du membre (apports)",
        "Montant (€)",
    )
    assert workbook[EXPENSES].max_row == 1
    assert workbook[FINANCING].max_row == 1
    assert parse_annex(save(workbook), MEMBERS, CATEGORIES) == AnnexContent([], [])


def test_template_headers_frozen_and_columns_widened():
    sheet = template_sheet(EXPENSES)

    assert sheet.freeze_panes == "A2"
    assert template_sheet(FINANCING).freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width == 48
    assert sheet.column_dimensions["A"].width == 20


def test_template_siret_column_is_text_so_leading_zeros_stay():
    sheet = template_sheet(EXPENSES, CONTENT)

    assert sheet["A2"].value == ALPHA
    assert sheet["A2"].value.startswith("000")
    assert sheet["A2"].number_format == "@"
    assert sheet.column_dimensions["A"].number_format == "@"  # for rows typed later
    assert template_sheet(FINANCING).column_dimensions["B"].number_format == "@"


def test_template_prefilled_amounts_are_numbers_with_two_decimals():
    sheet = template_sheet(EXPENSES, CONTENT)

    assert sheet["E2"].value == 1234.5
    assert sheet["E2"].data_type == "n"
    assert sheet["E2"].number_format == "#,##0.00"
    assert sheet["B2"].value == "Alpha Formation"
    assert sheet["F4"].value == "non"
    assert template_sheet(FINANCING, CONTENT)["A3"].value == "Autofinancement"


def test_template_dropdowns_list_members_categories_and_answers():
    expenses = template_sheet(EXPENSES)
    financing = template_sheet(FINANCING)

    lists = {
        str(validation.sqref): validation.formula1
        for validation in expenses.data_validations.dataValidation
        if validation.type == "list"
    }
    assert lists == {
        "A2:A5001": "'Membres'!$A$2:$A$3",
        "C2:C5001": "'Catégories'!$A$2:$A$4",
        "F2:F5001": '"oui,non"',
    }
    sources = [v for v in financing.data_validations.dataValidation if v.type == "list"]
    assert {str(v.sqref) for v in sources} == {"A2:A5001", "B2:B5001"}
    source_list = next(v.formula1 for v in sources if str(v.sqref) == "A2:A5001")
    assert source_list == '"' + ",".join(financing_sources().values()) + '"'


def test_template_reference_sheets_list_members_and_categories_read_only():
    workbook = openpyxl.load_workbook(io.BytesIO(build_template(MEMBERS, CATEGORIES)))

    assert list(workbook["Membres"].values) == [
        ("SIRET", "Nom"),
        (ALPHA, "Alpha Formation"),
        (BETA, "Beta Numérique"),
    ]
    assert list(workbook["Catégories"].values)[1] == ("staff", "Frais de personnel")
    assert workbook["Membres"].protection.sheet is True
    assert workbook["Catégories"].protection.sheet is True


# --- import: accepted ------------------------------------------------------------------------


def test_parse_filled_template_returns_content():
    data = workbook_bytes(
        expenses=[
            [ALPHA, "Alpha Formation", "staff", "  Formateurs  ", "1 234,50", "oui"],
            [BETA, None, "Équipement", "Tablettes", 99.9, "NON"],
            [f"{BETA[:9]} {BETA[9:]}", None, "prestations EXTERNES", "Audit", 300, True],
        ],
        financing=[
            ["Aide demandée", None, "1 000"],
            ["own_cash", ALPHA, 234.5],
            ["Apport en nature (valorisation)", BETA, "399,90"],
            ["other_public", None, 0],
        ],
    )

    assert parse_annex(data, MEMBERS, CATEGORIES) == AnnexContent(
        expenses=[
            AnnexExpense(ALPHA, "staff", "Formateurs", Decimal("1234.50"), True),
            AnnexExpense(BETA, "equipment", "Tablettes", Decimal("99.90"), False),
            AnnexExpense(BETA, "services", "Audit", Decimal("300.00"), True),
        ],
        financing=[
            AnnexFinancing("aid", None, Decimal("1000.00")),
            AnnexFinancing("own_cash", ALPHA, Decimal("234.50")),
            AnnexFinancing("own_in_kind", BETA, Decimal("399.90")),
            AnnexFinancing("other_public", None, Decimal("0.00")),
        ],
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 234,50", "1234.50"),
        ("1234.50", "1234.50"),
        ("1\u202f234,5\u00a0€", "1234.50"),
        ("1\u00a0234\u00a0567,89", "1234567.89"),
        ("12,3", "12.30"),
        (" 42 ", "42.00"),
        (1234.5, "1234.50"),
        (1234, "1234.00"),
        (0.07, "0.07"),
    ],
)
def test_parse_amount_french_or_plain_accepted(typed, expected):
    data = workbook_bytes(expenses=[[ALPHA, None, "staff", "Formateurs", typed, "oui"]])

    (expense,) = parse_annex(data, MEMBERS, CATEGORIES).expenses

    assert expense.amount == Decimal(expected)
    assert str(expense.amount) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("oui", True),
        ("Yes", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        (True, True),
        ("non", False),
        ("no", False),
        ("false", False),
        ("0", False),
        (0, False),
        (False, False),
    ],
)
def test_parse_eligible_variants_accepted(typed, expected):
    data = workbook_bytes(expenses=[[ALPHA, None, "staff", "Formateurs", 10, typed]])

    (expense,) = parse_annex(data, MEMBERS, CATEGORIES).expenses

    assert expense.eligible is expected


def test_parse_siret_as_14_digit_number_accepted():
    data = workbook_bytes(expenses=[[int(BETA), None, "staff", "Formateurs", 10, "oui"]])

    assert parse_annex(data, MEMBERS, CATEGORIES).expenses[0].member == BETA


def test_parse_empty_rows_skipped_and_rows_numbered_as_in_sheet():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    sheet = workbook[EXPENSES]
    sheet["D4"] = "   "  # blank text counts as empty
    sheet["B5"] = "Alpha Formation"  # the member name alone is a reading aid, not a row
    for column, value in zip("ACDEF", [ALPHA, "staff", "Suite", "-1", "oui"], strict=True):
        sheet[f"{column}7"] = value

    errors = refusal(save(workbook))

    assert errors == [CellError(EXPENSES, 7, "E", "montant négatif")]


def test_parse_reads_rows_beyond_a_stale_stored_dimension():
    data = workbook_bytes(expenses=[VALID_EXPENSE, VALID_EXPENSE])
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as rewritten:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:F3"' in body
                body = body.replace(b'<dimension ref="A1:F3"', b'<dimension ref="A1:B1"')
            rewritten.writestr(item, body)

    assert len(parse_annex(output.getvalue(), MEMBERS, CATEGORIES).expenses) == 2


# --- import: refused -------------------------------------------------------------------------


def test_parse_renamed_pdf_refused():
    errors = refusal(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

    assert errors == [CellError("", 0, "", "Le fichier n'est pas un classeur XLSX lisible.")]


def test_parse_zip_without_workbook_refused():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("hello.txt", "bonjour")

    assert refusal(archive.getvalue()) == [
        CellError("", 0, "", "Le fichier n'est pas un classeur XLSX lisible.")
    ]


def test_parse_ods_export_refused_as_not_xlsx():
    data = export_budget_ods(MEMBERS, CATEGORIES, CONTENT)

    assert only_error(data).reason == "Le fichier n'est pas un classeur XLSX lisible."


def test_parse_missing_sheets_named():
    workbook = openpyxl.Workbook()
    workbook.active.title = "Feuil1"

    errors = refusal(save(workbook))

    assert [(e.sheet, e.row, e.column) for e in errors] == [(EXPENSES, 0, ""), (FINANCING, 0, "")]
    assert "« Dépenses » absente" in errors[0].reason
    assert "« Financement » absente" in errors[1].reason


def test_parse_header_mismatch_reported_and_rows_not_read():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    workbook[EXPENSES]["E1"] = "Montant HT"
    workbook[EXPENSES]["E2"] = "pas un montant"  # not reported: the columns cannot be trusted
    workbook[FINANCING]["C1"] = None

    errors = refusal(save(workbook))

    assert [(e.sheet, e.row, e.column) for e in errors] == [(EXPENSES, 1, "E"), (FINANCING, 1, "C")]
    assert errors[0].reason == "en-tête attendu « Montant (€) », trouvé « Montant HT »"
    assert "une cellule vide" in errors[1].reason


def test_parse_header_ignores_case_and_spacing():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    workbook[EXPENSES]["A1"] = "  siret  DU membre "

    assert len(parse_annex(save(workbook), MEMBERS, CATEGORIES).expenses) == 1


@pytest.mark.parametrize("cell", ["E2", "B2", "H2"])
def test_parse_formula_refused_in_any_column(cell):
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    workbook[EXPENSES][cell] = "=10+20"

    error = only_error(save(workbook))

    assert error == CellError(EXPENSES, 2, cell[0], "formule non acceptée : saisissez une valeur")


def test_parse_formula_in_header_row_refused():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    workbook[EXPENSES]["G1"] = "=TODAY()"

    assert only_error(save(workbook)) == CellError(
        EXPENSES, 1, "G", "formule non acceptée : saisissez une valeur"
    )


def test_parse_error_value_cell_refused():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(expenses=[VALID_EXPENSE])))
    workbook[EXPENSES]["D2"] = "#N/A"

    assert only_error(save(workbook)) == CellError(
        EXPENSES, 2, "D", "valeur d'erreur #N/A : saisissez une valeur"
    )


def test_parse_formula_total_row_refused():
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(financing=[VALID_FINANCING])))
    workbook[FINANCING]["C4"] = "=SUM(C2:C3)"

    assert only_error(save(workbook)) == CellError(
        FINANCING, 4, "C", "formule non acceptée : saisissez une valeur"
    )


def test_parse_float_noise_refused_not_rounded():
    data = workbook_bytes(expenses=[[ALPHA, None, "staff", "Formateurs", 1234.5000000001, "oui"]])

    error = only_error(data)

    assert (error.sheet, error.row, error.column) == (EXPENSES, 2, "E")
    assert "au plus 2 décimales" in error.reason
    assert "1234.5000000001" in error.reason


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("A", STRANGER, f"SIRET inconnu dans le consortium : {STRANGER}"),
        ("A", int(ALPHA), "SIRET saisi comme nombre (12345500016)"),
        ("A", "123 456", "SIRET invalide : 14 chiffres attendus"),
        ("A", "0001234550001X", "SIRET invalide"),
        ("A", True, "SIRET : 14 chiffres attendus"),
        ("A", None, "SIRET du membre requis"),
        ("C", "voyages", "catégorie inconnue : « voyages »"),
        ("C", None, "catégorie requise"),
        ("D", None, "libellé requis"),
        ("D", "x" * 501, "libellé trop long : au plus 500 caractères"),
        ("D", 12.5, "libellé : texte attendu"),
        ("E", "-5", "montant négatif"),
        ("E", -5, "montant négatif"),
        ("E", "12,345", "au plus 2 décimales"),
        ("E", 0.001, "au plus 2 décimales"),
        ("E", True, "montant : nombre attendu, pas une valeur vrai/faux"),
        ("E", "douze", "montant illisible : « douze »"),
        ("E", "1.234,50", "montant illisible"),
        ("E", "1,234.50", "montant illisible"),
        ("E", "1e3", "montant illisible"),
        ("E", 10**13, "montant trop élevé"),
        ("E", dt.datetime(2024, 1, 2), "montant : nombre attendu"),
        ("E", None, "montant requis"),
        ("F", "peut-être", "éligibilité : « oui » ou « non » attendu"),
        ("F", 2, "éligibilité : « oui » ou « non » attendu"),
        ("F", None, "éligibilité requise (oui/non)"),
    ],
)
def test_parse_expense_cell_refused(column, value, reason):
    row = [ALPHA, None, "staff", "Formateurs", "10", "oui"]
    row["ABCDEF".index(column)] = value

    error = only_error(workbook_bytes(expenses=[row]))

    assert (error.sheet, error.row, error.column) == (EXPENSES, 2, column)
    assert reason in error.reason


def test_parse_label_of_500_characters_accepted():
    data = workbook_bytes(expenses=[[ALPHA, None, "staff", "é" * 500, "10", "oui"]])

    assert parse_annex(data, MEMBERS, CATEGORIES).expenses[0].label == "é" * 500


def test_parse_ambiguous_category_label_refused():
    categories = [*CATEGORIES, AnnexCategory("staff_2", "Frais de personnel")]
    data = workbook_bytes(expenses=[[ALPHA, None, "staff", "A", "1", "oui"]])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook[EXPENSES]["C2"] = "frais de personnel"

    with pytest.raises(AnnexInvalid) as caught:
        parse_annex(save(workbook), MEMBERS, categories)

    assert "catégorie ambiguë" in caught.value.errors[0].reason


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["subvention", None, "10"], "A", "source inconnue : « subvention »"),
        ([None, None, "10"], "A", "source requise"),
        (["Autofinancement", None, "10"], "B", "SIRET du membre requis pour un apport"),
        (["own_in_kind", None, "10"], "B", "SIRET du membre requis pour un apport"),
        (["own_cash", STRANGER, "10"], "B", "SIRET inconnu dans le consortium"),
        (["aid", STRANGER, "10"], "B", "SIRET inconnu dans le consortium"),
        (["aid", None, "-0,01"], "C", "montant négatif"),
        (["aid", None, None], "C", "montant requis"),
    ],
)
def test_parse_financing_cell_refused(row, column, reason):
    error = only_error(workbook_bytes(financing=[row]))

    assert (error.sheet, error.row, error.column) == (FINANCING, 2, column)
    assert reason in error.reason


def test_parse_multiple_errors_all_reported_sorted():
    data = workbook_bytes(
        expenses=[
            VALID_EXPENSE,
            [STRANGER, None, "voyages", None, "-3", "oui"],
            [ALPHA, None, "staff", "Repas", "1,234", "bof"],
        ],
        financing=[["own_cash", None, "abc"]],
    )

    errors = refusal(data)

    assert [(e.sheet, e.row, e.column) for e in errors] == [
        (EXPENSES, 3, "A"),
        (EXPENSES, 3, "C"),
        (EXPENSES, 3, "D"),
        (EXPENSES, 3, "E"),
        (EXPENSES, 4, "E"),
        (EXPENSES, 4, "F"),
        (FINANCING, 2, "B"),
        (FINANCING, 2, "C"),
    ]


def test_parse_too_many_rows_refused():
    rows = [[ALPHA, None, "staff", f"Ligne {n}", "1", "oui"] for n in range(4)]

    errors = refusal(workbook_bytes(expenses=rows), max_rows=3)

    assert len(errors) == 1
    assert (errors[0].sheet, errors[0].row, errors[0].column) == (EXPENSES, 5, "")
    assert "trop de lignes : au plus 3" in errors[0].reason


def test_parse_rows_up_to_max_rows_accepted():
    rows = [[ALPHA, None, "staff", f"Ligne {n}", "1", "oui"] for n in range(3)]

    content = parse_annex(workbook_bytes(expenses=rows), MEMBERS, CATEGORIES, max_rows=3)

    assert len(content.expenses) == 3


def test_annex_invalid_message_lists_every_error_in_french():
    data = workbook_bytes(expenses=[[STRANGER, None, "staff", "A", "-1", "oui"]])

    with pytest.raises(AnnexInvalid) as caught:
        parse_annex(data, MEMBERS, CATEGORIES)

    assert isinstance(caught.value, ValueError)
    assert str(caught.value).splitlines() == [
        "L'annexe financière comporte 2 erreurs :",
        f"- feuille « Dépenses », ligne 2, colonne A : SIRET inconnu dans le consortium : "
        f"{STRANGER}",
        "- feuille « Dépenses », ligne 2, colonne E : montant négatif",
    ]


def test_annex_invalid_message_for_unreadable_file():
    with pytest.raises(AnnexInvalid) as caught:
        parse_annex(b"not a workbook", MEMBERS, CATEGORIES)

    assert str(caught.value) == (
        "L'annexe financière comporte 1 erreur :\n- Le fichier n'est pas un classeur XLSX lisible."
    )


# --- exports ---------------------------------------------------------------------------------


def test_export_xlsx_has_rows_and_totals():
    workbook = openpyxl.load_workbook(io.BytesIO(export_budget_xlsx(MEMBERS, CATEGORIES, CONTENT)))
    expenses = list(workbook[EXPENSES].values)
    financing = list(workbook[FINANCING].values)

    assert expenses[1] == (
        ALPHA,
        "Alpha Formation",
        "Frais de personnel",
        "Ingénieur pédagogique",
        1234.5,
        "oui",
    )
    totals = {row[3]: row[4] for row in expenses if row[3] and row[3].startswith("Total")}
    assert totals == {
        "Total éligible": 1234.55,
        "Total non éligible": 300,
        "Total des dépenses": 1534.55,
    }
    assert financing[-1] == ("Total des financements", None, 1534.55)
    assert workbook[EXPENSES]["E2"].number_format == "#,##0.00"


def test_export_xlsx_of_empty_content_totals_zero():
    data = export_budget_xlsx(MEMBERS, CATEGORIES, AnnexContent([], []))
    sheet = openpyxl.load_workbook(io.BytesIO(data))[EXPENSES]

    assert [row[3:5] for row in sheet.values][-3:] == [
        ("Total éligible", 0),
        ("Total non éligible", 0),
        ("Total des dépenses", 0),
    ]


def ods_tables(data: bytes) -> dict[str, list[list[TableCell]]]:
    document = load_ods(io.BytesIO(data))
    return {
        table.getAttribute("name"): [
            row.getElementsByType(TableCell) for row in table.getElementsByType(TableRow)
        ]
        for table in document.spreadsheet.getElementsByType(Table)
    }


def cell_text(cell: TableCell) -> str:
    return "".join(str(paragraph) for paragraph in cell.getElementsByType(P))


def test_export_ods_stores_exact_decimal_text_as_float_cells():
    tables = ods_tables(export_budget_ods(MEMBERS, CATEGORIES, CONTENT))

    assert list(tables) == [EXPENSES, FINANCING]
    first = tables[EXPENSES][1]
    assert [cell_text(cell) for cell in first[:4]] == [
        ALPHA,
        "Alpha Formation",
        "Frais de personnel",
        "Ingénieur pédagogique",
    ]
    assert first[4].getAttribute("valuetype") == "float"
    assert first[4].getAttribute("value") == "1234.50"
    assert cell_text(first[4]) == "1\u202f234,50"
    amounts = [
        cell.getAttribute("value")
        for row in tables[EXPENSES]
        for cell in row
        if cell.getAttribute("valuetype") == "float"
    ]
    assert amounts == ["1234.50", "0.05", "300.00", "1234.55", "300.00", "1534.55"]


def test_export_ods_has_totals_and_financing():
    tables = ods_tables(export_budget_ods(MEMBERS, CATEGORIES, CONTENT))

    totals = {
        cell_text(row[3]): row[4].getAttribute("value")
        for row in tables[EXPENSES]
        if len(row) > 4 and cell_text(row[3]).startswith("Total")
    }
    assert totals == {
        "Total éligible": "1234.55",
        "Total non éligible": "300.00",
        "Total des dépenses": "1534.55",
    }
    assert [cell_text(cell) for cell in tables[FINANCING][2][:2]] == ["Autofinancement", ALPHA]
    last = tables[FINANCING][-1]
    assert cell_text(last[0]) == "Total des financements"
    assert last[2].getAttribute("value") == "1534.55"


# --- languages -------------------------------------------------------------------------------


@pytest.mark.usefixtures("compiled_catalogue")
def test_template_in_english_reads_back_from_a_french_page():
    with translation.override("en"):
        data = build_template(MEMBERS, CATEGORIES, CONTENT)
    workbook = openpyxl.load_workbook(io.BytesIO(data))

    assert workbook.sheetnames == ["Expenses", "Financing", "Members", "Categories"]
    assert next(workbook["Expenses"].values) == (
        "Member's SIRET", "Member", "Category", "Description", "Amount (€)", "Eligible (yes/no)")
    assert workbook["Financing"]["A3"].value == "Own funding"
    assert workbook["Expenses"]["F4"].value == "no"
    assert parse_annex(data, MEMBERS, CATEGORIES) == CONTENT


@pytest.mark.usefixtures("compiled_catalogue")
def test_parse_errors_in_english_name_sheet_cell_and_reason():
    data = workbook_bytes(expenses=[[STRANGER, None, "staff", "A", "-1", "oui"]])

    with translation.override("en"), pytest.raises(AnnexInvalid) as caught:
        parse_annex(data, MEMBERS, CATEGORIES)

    assert str(caught.value).splitlines() == [
        "The financial annex has 2 errors:",
        f"- sheet “Expenses”, row 2, column A: SIRET not in the consortium: {STRANGER}",
        "- sheet “Expenses”, row 2, column E: negative amount",
    ]


@pytest.mark.usefixtures("compiled_catalogue")
def test_export_xlsx_in_english_headers_sources_and_totals():
    with translation.override("en"):
        data = export_budget_xlsx(MEMBERS, CATEGORIES, CONTENT)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    financing = list(workbook["Financing"].values)

    assert workbook.sheetnames == ["Expenses", "Financing"]
    assert financing[0] == ("Source", "Member's SIRET (contributions)", "Amount (€)")
    assert [row[0] for row in financing[1:4]] == [
        "Aid requested", "Own funding", "In-kind contribution (valued)"]
    assert financing[-1] == ("Total financing", None, 1534.55)
    assert [row[3] for row in workbook["Expenses"].values][-3:] == [
        "Eligible total", "Ineligible total", "Total expenses"]
