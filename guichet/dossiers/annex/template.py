"""The XLSX annex to fill in: two data sheets with drop-down lists and column formats, and two
read-only reference sheets (the consortium's members, the call's expense categories).

A normal (not write-only) openpyxl workbook: its rows are bounded by `TEMPLATE_ROWS`, and its
data validations, protection and column formats are set after the rows.
"""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from guichet.core.spreadsheets import AMOUNT_FORMAT, TEXT_FORMAT, style_header, xml_text
from guichet.dossiers.annex import schema
from guichet.rules.money import exact_cents


def build_template(
    members: list[schema.AnnexMember],
    categories: list[schema.AnnexCategory],
    content: schema.AnnexContent | None = None,
) -> bytes:
    """The XLSX annex to fill in, pre-filled with `content` when given (empty table otherwise)."""
    names = {member.siret: member.name for member in members}
    sources = schema.financing_sources()
    workbook = Workbook()
    expenses = workbook.active
    expenses.title = schema.sheet_name(schema.EXPENSES)
    _header(expenses, schema.headers(schema.EXPENSE_HEADERS), schema.EXPENSE_WIDTHS)
    _column_format(expenses, "A", TEXT_FORMAT)
    _column_format(expenses, "E", AMOUNT_FORMAT)
    # Amounts are written as numbers: openpyxl stores 16 significant digits, and MAX_AMOUNT has
    # 14, so every cent reads back exactly (see the round-trip tests).
    for expense in content.expenses if content else ():
        expenses.append(
            [
                xml_text(expense.member),
                xml_text(names.get(expense.member, "")),
                xml_text(expense.category),
                xml_text(expense.label),
                exact_cents(expense.amount),
                schema.yes_no(expense.eligible),
            ]
        )
        _format_row(expenses, {"A": TEXT_FORMAT, "E": AMOUNT_FORMAT})

    financing = workbook.create_sheet(schema.sheet_name(schema.FINANCING))
    _header(financing, schema.headers(schema.FINANCING_HEADERS), schema.FINANCING_WIDTHS)
    _column_format(financing, "B", TEXT_FORMAT)
    _column_format(financing, "C", AMOUNT_FORMAT)
    for item in content.financing if content else ():
        financing.append(
            [
                sources.get(item.source, xml_text(item.source)),
                xml_text(item.member) if item.member else None,
                exact_cents(item.amount),
            ]
        )
        _format_row(financing, {"B": TEXT_FORMAT, "C": AMOUNT_FORMAT})

    reference = workbook.create_sheet(schema.sheet_name(schema.MEMBERS))
    _header(reference, [gettext("SIRET"), gettext("Nom")], (20, 48))
    for member in members:
        reference.append([xml_text(member.siret), xml_text(member.name)])
        _format_row(reference, {"A": TEXT_FORMAT})
    reference.protection.sheet = True  # a reference: changing it would change nothing

    kinds = workbook.create_sheet(schema.sheet_name(schema.CATEGORIES))
    _header(kinds, [gettext("Identifiant"), gettext("Libellé")], (24, 60))
    for category in categories:
        kinds.append([xml_text(category.id), xml_text(category.label)])
    kinds.protection.sheet = True

    _add_validations(expenses, financing, len(members), len(categories), sources)
    for sheet in workbook.worksheets:
        _save_texts_as_text(sheet)
    workbook.active = 0
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def _add_validations(
    expenses: Worksheet,
    financing: Worksheet,
    member_count: int,
    category_count: int,
    sources: dict[str, str],
) -> None:
    last = schema.TEMPLATE_ROWS + 1
    members, categories = schema.sheet_name(schema.MEMBERS), schema.sheet_name(schema.CATEGORIES)
    if member_count:
        sirets = f"'{members}'!$A$2:$A${member_count + 1}"
        for sheet, column in ((expenses, "A"), (financing, "B")):
            _validation(
                sheet,
                f"{column}2:{column}{last}",
                sirets,
                gettext("SIRET inconnu"),
                gettext("Choisissez le SIRET d'un membre du consortium (feuille « %(sheet)s »).")
                % {"sheet": members},
            )
    if category_count:
        _validation(
            expenses,
            f"C2:C{last}",
            f"'{categories}'!$A$2:$A${category_count + 1}",
            gettext("Catégorie inconnue"),
            gettext("Choisissez une catégorie de la feuille « %(sheet)s ».")
            % {"sheet": categories},
            # A warning only: the label of a category is accepted as well as its identifier.
            style="warning",
        )
    _validation(expenses, f"F2:F{last}", f'"{schema.yes_no(True)},{schema.yes_no(False)}"',
                gettext("Éligibilité"), gettext("Répondez oui ou non."))
    _validation(financing, f"A2:A{last}", '"' + ",".join(sources.values()) + '"',
                gettext("Source inconnue"), gettext("Choisissez une source."))
    for sheet, column in ((expenses, "E"), (financing, "C")):
        amounts = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=gettext("Montant"),
            error=gettext("Saisissez un montant positif ou nul en euros, au centime près."),
        )
        sheet.add_data_validation(amounts)
        amounts.add(f"{column}2:{column}{last}")


def _validation(
    sheet: Worksheet, cells: str, formula: str, title: str, message: str, style: str = "stop"
) -> None:
    validation = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=style,
        errorTitle=title,
        error=message,
    )
    sheet.add_data_validation(validation)
    validation.add(cells)


def _header(sheet: Worksheet, titles: list[str], widths: tuple[int, ...]) -> None:
    sheet.append(titles)
    for index, width in enumerate(widths, start=1):
        style_header(sheet.cell(row=1, column=index))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _column_format(sheet: Worksheet, column: str, number_format: str) -> None:
    """Format the empty cells of a column, for values typed later (Excel keeps leading zeros)."""
    sheet.column_dimensions[column].number_format = number_format


def _format_row(sheet: Worksheet, formats: dict[str, str]) -> None:
    row = sheet.max_row
    for column, number_format in formats.items():
        sheet[f"{column}{row}"].number_format = number_format


def _save_texts_as_text(sheet: Worksheet) -> None:
    """This module writes values only: text starting with "=" stays text, never a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
