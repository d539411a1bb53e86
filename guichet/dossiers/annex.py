"""The financial annex of a consortium dossier: an XLSX template, its strict import, exports.

Pure module (no Django models): the caller passes the consortium members and the call's expense
categories, and receives or gives an `AnnexContent`. Money is `Decimal` to the cent, never float.

The import validates the whole workbook and reports every refused cell at once (`AnnexInvalid`),
with French reasons, so that an applicant can fix the file in one go; nothing is returned unless
every row is valid. A hostile file costs little: at most `MAX_ANNEX_BYTES` are read, the archive
and its parts are checked before openpyxl parses them (`workbook_guard`), the sheets are
streamed, and reading stops at the row limit, blank rows included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.utils.translation import gettext
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from guichet.core.uploads import MEBIBYTE, too_large_message
from guichet.dossiers import workbook_guard
from guichet.rules import vocabulary
from guichet.rules.money import CENT, MAX_AMOUNT, NARROW_NBSP, NBSP, ZERO, exact_cents

# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnnexMember:
    siret: str
    name: str


@dataclass(frozen=True, slots=True)
class AnnexCategory:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class AnnexExpense:
    member: str  # SIRET of a consortium member
    category: str  # id of an expense category
    label: str
    amount: Decimal
    eligible: bool


@dataclass(frozen=True, slots=True)
class AnnexFinancing:
    source: str  # a key of FINANCING_SOURCES
    member: str | None  # SIRET; required for own_cash and own_in_kind
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AnnexContent:
    expenses: list[AnnexExpense]
    financing: list[AnnexFinancing]


@dataclass(frozen=True, slots=True)
class CellError:
    sheet: str  # "" for the file as a whole
    row: int  # 1-based; 0 for the file or a whole sheet
    column: str  # letter ("E"); "" for a whole row, sheet or file
    reason: str  # French


class AnnexInvalid(ValueError):
    """The annex was refused; `errors` lists every refused cell, sorted by sheet, row, column."""

    def __init__(self, errors: Iterable[CellError]) -> None:
        self.errors: list[CellError] = sorted(errors, key=_error_order)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.errors)
        noun = "erreur" if count == 1 else "erreurs"
        lines = [f"L'annexe financière comporte {count} {noun} :"]
        lines.extend(f"- {_describe(error)}" for error in self.errors)
        return "\n".join(lines)


# The annex is a French document: each source by its French name (`rules.vocabulary`).
FINANCING_SOURCES = {code: french[:1].upper() + french[1:]
                     for code, (french, _english) in vocabulary.FINANCING_SOURCES.items()}
# Contributions of a member must say which member brings them.
SOURCES_NEEDING_MEMBER = frozenset({"own_cash", "own_in_kind"})

EXPENSES_SHEET = "Dépenses"
FINANCING_SHEET = "Financement"
MEMBERS_SHEET = "Membres"
CATEGORIES_SHEET = "Catégories"
EXPENSE_HEADERS = (
    "SIRET du membre",
    "Membre",
    "Catégorie",
    "Libellé",
    "Montant (€)",
    "Éligible (oui/non)",
)
FINANCING_HEADERS = ("Source", "SIRET du membre (apports)", "Montant (€)")
LABEL_MAX_LENGTH = 500
AMOUNT_FORMAT = "#,##0.00"
TEXT_FORMAT = "@"
# Rows of the template covered by the drop-down lists and column formats.
TEMPLATE_ROWS = 5000
# Rows read under the header of each sheet, blank ones included.
MAX_ROWS = TEMPLATE_ROWS
MAX_ANNEX_BYTES = 5 * MEBIBYTE

UNREADABLE = "Le fichier n'est pas un classeur XLSX lisible."
FORMULA_REFUSED = "formule non acceptée : saisissez une valeur"

_SHEET_ORDER = {"": 0, EXPENSES_SHEET: 1, FINANCING_SHEET: 2}
_YES = frozenset({"oui", "yes", "true", "vrai", "1"})
_NO = frozenset({"non", "no", "false", "faux", "0"})
# Separators of thousands that spreadsheets and French typography put in amounts.
_SPACES = re.compile(f"[ \t{NBSP}{NARROW_NBSP}\u2007\u2009]")
_AMOUNT_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_SIRET_SPACES = re.compile(r"\s+")


def _error_order(error: CellError) -> tuple:
    return (
        _SHEET_ORDER.get(error.sheet, len(_SHEET_ORDER)),
        error.sheet,
        error.row,
        len(error.column),
        error.column,
    )


def _describe(error: CellError) -> str:
    if not error.sheet:
        return error.reason
    if not error.row:
        return f"feuille « {error.sheet} » : {error.reason}"
    if not error.column:
        return f"feuille « {error.sheet} », ligne {error.row} : {error.reason}"
    return f"feuille « {error.sheet} », ligne {error.row}, colonne {error.column} : {error.reason}"


# --- template --------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="DDE5F4")
_EXPENSE_WIDTHS = (20, 32, 24, 48, 16, 18)
_FINANCING_WIDTHS = (34, 26, 16)


def build_template(
    members: list[AnnexMember],
    categories: list[AnnexCategory],
    content: AnnexContent | None = None,
) -> bytes:
    """The XLSX annex to fill in, pre-filled with `content` when given (empty table otherwise)."""
    names = {member.siret: member.name for member in members}
    workbook = Workbook()
    expenses = workbook.active
    expenses.title = EXPENSES_SHEET
    _header(expenses, EXPENSE_HEADERS, _EXPENSE_WIDTHS)
    _column_format(expenses, "A", TEXT_FORMAT)
    _column_format(expenses, "E", AMOUNT_FORMAT)
    # Amounts are written as numbers: openpyxl stores 16 significant digits, and MAX_AMOUNT has
    # 14, so every cent reads back exactly (see the round-trip tests).
    for expense in content.expenses if content else ():
        expenses.append(
            [
                _text(expense.member),
                _text(names.get(expense.member, "")),
                _text(expense.category),
                _text(expense.label),
                exact_cents(expense.amount),
                "oui" if expense.eligible else "non",
            ]
        )
        _format_row(expenses, {"A": TEXT_FORMAT, "E": AMOUNT_FORMAT})

    financing = workbook.create_sheet(FINANCING_SHEET)
    _header(financing, FINANCING_HEADERS, _FINANCING_WIDTHS)
    _column_format(financing, "B", TEXT_FORMAT)
    _column_format(financing, "C", AMOUNT_FORMAT)
    for item in content.financing if content else ():
        financing.append(
            [
                FINANCING_SOURCES.get(item.source, _text(item.source)),
                _text(item.member) if item.member else None,
                exact_cents(item.amount),
            ]
        )
        _format_row(financing, {"B": TEXT_FORMAT, "C": AMOUNT_FORMAT})

    reference = workbook.create_sheet(MEMBERS_SHEET)
    _header(reference, ("SIRET", "Nom"), (20, 48))
    for member in members:
        reference.append([_text(member.siret), _text(member.name)])
        _format_row(reference, {"A": TEXT_FORMAT})
    reference.protection.sheet = True  # a reference: changing it would change nothing

    kinds = workbook.create_sheet(CATEGORIES_SHEET)
    _header(kinds, ("Identifiant", "Libellé"), (24, 60))
    for category in categories:
        kinds.append([_text(category.id), _text(category.label)])
    kinds.protection.sheet = True

    _add_validations(expenses, financing, len(members), len(categories))
    for sheet in workbook.worksheets:
        _save_texts_as_text(sheet)
    workbook.active = 0
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def _add_validations(
    expenses: Worksheet, financing: Worksheet, member_count: int, category_count: int
) -> None:
    last = TEMPLATE_ROWS + 1
    if member_count:
        sirets = f"'{MEMBERS_SHEET}'!$A$2:$A${member_count + 1}"
        for sheet, column in ((expenses, "A"), (financing, "B")):
            _validation(
                sheet,
                f"{column}2:{column}{last}",
                sirets,
                "SIRET inconnu",
                "Choisissez le SIRET d'un membre du consortium (feuille « Membres »).",
            )
    if category_count:
        _validation(
            expenses,
            f"C2:C{last}",
            f"'{CATEGORIES_SHEET}'!$A$2:$A${category_count + 1}",
            "Catégorie inconnue",
            "Choisissez une catégorie de la feuille « Catégories ».",
            # A warning only: the label of a category is accepted as well as its identifier.
            style="warning",
        )
    _validation(expenses, f"F2:F{last}", '"oui,non"', "Éligibilité", "Répondez oui ou non.")
    sources = ",".join(FINANCING_SOURCES.values())
    _validation(
        financing, f"A2:A{last}", f'"{sources}"', "Source inconnue", "Choisissez une source."
    )
    for sheet, column in ((expenses, "E"), (financing, "C")):
        amounts = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Montant",
            error="Saisissez un montant positif ou nul en euros, au centime près.",
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


def _header(sheet: Worksheet, headers: tuple[str, ...], widths: tuple[int, ...]) -> None:
    sheet.append(list(headers))
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _column_format(sheet: Worksheet, column: str, number_format: str) -> None:
    """Format the empty cells of a column, for values typed later (Excel keeps leading zeros)."""
    sheet.column_dimensions[column].number_format = number_format


def _format_row(sheet: Worksheet, formats: dict[str, str]) -> None:
    row = sheet.max_row
    for column, number_format in formats.items():
        sheet[f"{column}{row}"].number_format = number_format


def _text(value: str) -> str:
    """Text as openpyxl can store it (XML forbids most control characters)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _save_texts_as_text(sheet: Worksheet) -> None:
    """This module writes values only: text starting with "=" stays text, never a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


# --- import ----------------------------------------------------------------------------------


def parse_annex(
    data: bytes,
    members: list[AnnexMember],
    categories: list[AnnexCategory],
    max_rows: int = MAX_ROWS,
) -> AnnexContent:
    """Read a filled-in annex; raise `AnnexInvalid` listing every refused cell."""
    if len(data) > MAX_ANNEX_BYTES:
        raise AnnexInvalid([CellError("", 0, "", too_large_message(MAX_ANNEX_BYTES))])
    try:
        sheets, missing = _read_workbook(data, max_rows)
    except workbook_guard.WorkbookRefused as refused:
        raise AnnexInvalid([CellError("", 0, "", refused.reason)]) from None
    except Exception as exc:  # whatever zipfile or openpyxl trip on, the file is unreadable
        raise AnnexInvalid([CellError("", 0, "", gettext(UNREADABLE))]) from exc
    errors = [CellError(name, 0, "", f"feuille « {name} » absente du classeur") for name in missing]
    checker = _Checker(members, categories, errors)
    expenses: list[AnnexExpense] = []
    financing: list[AnnexFinancing] = []
    if EXPENSES_SHEET in sheets:
        expenses = checker.expenses(sheets[EXPENSES_SHEET])
    if FINANCING_SHEET in sheets:
        financing = checker.financing(sheets[FINANCING_SHEET])
    if errors:
        raise AnnexInvalid(errors)
    return AnnexContent(expenses=expenses, financing=financing)


@dataclass(frozen=True, slots=True)
class _Cell:
    value: Any
    data_type: str  # openpyxl's: "s", "n", "b", "d", "e", "f"


@dataclass(slots=True)
class _Sheet:
    name: str
    header: list[_Cell]
    rows: list[tuple[int, list[_Cell]]]  # (row number, cells), empty rows left out
    max_rows: int
    too_many_at: int | None = None  # the row after the last one read, when the sheet goes on


def _read_workbook(data: bytes, max_rows: int) -> tuple[dict[str, _Sheet], list[str]]:
    """Extract the two data sheets as plain values. `WorkbookRefused` past a limit; any other
    failure here means "unreadable"."""
    # Formulas come back as formulas (data_type "f"), so that they can be refused.
    workbook = workbook_guard.load_workbook(data)
    try:
        titles = {_normal(title): title for title in workbook.sheetnames}
        sheets: dict[str, _Sheet] = {}
        missing: list[str] = []
        for name in (EXPENSES_SHEET, FINANCING_SHEET):
            title = titles.get(_normal(name))
            if title is None:
                missing.append(name)
                continue
            worksheet = workbook[title]
            worksheet.reset_dimensions()  # do not trust a stored (possibly stale) dimension
            sheets[name] = _extract(name, worksheet.iter_rows(), max_rows)
        return sheets, missing
    finally:
        workbook.close()


def _extract(name: str, rows: Iterator[tuple], max_rows: int) -> _Sheet:
    """The header and the next `max_rows` rows, blank ones counted: reading stops there, so
    that a million blank rows cost no more than the limit."""
    sheet = _Sheet(name=name, header=[], rows=[], max_rows=max_rows)
    for number, row in enumerate(rows, start=1):
        if number > max_rows + 1:
            sheet.too_many_at = number
            break
        cells = [_Cell(cell.value, cell.data_type) for cell in row]
        if number == 1:
            sheet.header = cells
        elif not all(_blank(cell) for cell in cells):
            sheet.rows.append((number, cells))
    return sheet


def _blank(cell: _Cell) -> bool:
    return cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())


def _vacant(cell: _Cell) -> bool:
    """Blank, or a formula (already refused): a row of such cells has nothing else to check."""
    return _blank(cell) or cell.data_type == "f"


def _normal(text: str) -> str:
    """Compare names and labels regardless of case, spacing and Unicode composition."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


class _Refused(Exception):
    """One refused value; its message is the French reason."""


class _Checker:
    def __init__(
        self, members: list[AnnexMember], categories: list[AnnexCategory], errors: list[CellError]
    ) -> None:
        self.sirets = {member.siret for member in members}
        self.category_ids = {category.id: category.id for category in categories}
        self.category_ids.update({_normal(category.id): category.id for category in categories})
        self.category_labels: dict[str, str | None] = {}
        for category in categories:
            key = _normal(category.label)
            # A label shared by two categories says nothing: it is refused as ambiguous.
            self.category_labels[key] = None if key in self.category_labels else category.id
        self.sources = {source: source for source in FINANCING_SOURCES}
        self.sources.update({_normal(label): key for key, label in FINANCING_SOURCES.items()})
        self.errors = errors

    # Sheets

    def expenses(self, sheet: _Sheet) -> list[AnnexExpense]:
        result: list[AnnexExpense] = []
        for number, cells in self._data_rows(sheet, EXPENSE_HEADERS):
            # Column B (member name) is a reading aid only: the SIRET identifies the member.
            if all(_vacant(cell) for index, cell in enumerate(cells[:6]) if index != 1):
                continue
            field = self._fields(sheet.name, number, cells)
            member = field("A", self.member)
            category = field("C", self.category)
            label = field("D", self.label)
            amount = field("E", _amount)
            eligible = field("F", _eligible)
            values = (member, category, label, amount, eligible)
            if all(value is not _INVALID for value in values):
                result.append(AnnexExpense(*values))
        return result

    def financing(self, sheet: _Sheet) -> list[AnnexFinancing]:
        result: list[AnnexFinancing] = []
        for number, cells in self._data_rows(sheet, FINANCING_HEADERS):
            if all(_vacant(cell) for cell in cells[:3]):
                continue
            field = self._fields(sheet.name, number, cells)
            source = field("A", self.source)
            needs_member = source in SOURCES_NEEDING_MEMBER
            member = field("B", self.member, required=needs_member)
            amount = field("C", _amount)
            values = (source, member, amount)
            if all(value is not _INVALID for value in values):
                result.append(AnnexFinancing(*values))
        return result

    def _data_rows(
        self, sheet: _Sheet, headers: tuple[str, ...]
    ) -> Iterator[tuple[int, list[_Cell]]]:
        """The data rows to check, after the formula check of every cell of the sheet."""
        headers_ok = self._header(sheet, headers)
        for number, cells in sheet.rows:
            for index, cell in enumerate(cells):
                if cell.data_type == "f":  # in any column, even one the import does not read
                    self._refuse(sheet.name, number, index, FORMULA_REFUSED)
        if sheet.too_many_at is not None:
            self.errors.append(
                CellError(
                    sheet.name,
                    sheet.too_many_at,
                    "",
                    gettext(
                        "trop de lignes : au plus %(limit)s lignes sous l'en-tête, lignes vides "
                        "comprises (supprimez les lignes à partir de celle-ci)"
                    )
                    % {"limit": sheet.max_rows},
                )
            )
        if headers_ok:  # with shifted or unknown columns, the data would be misread
            for number, cells in sheet.rows:
                yield number, cells + [_EMPTY] * (len(headers) - len(cells))

    def _header(self, sheet: _Sheet, headers: tuple[str, ...]) -> bool:
        ok = True
        for index, expected in enumerate(headers):
            cell = sheet.header[index] if index < len(sheet.header) else _EMPTY
            if cell.data_type == "f":
                self._refuse(sheet.name, 1, index, FORMULA_REFUSED)
                ok = False
            elif not isinstance(cell.value, str) or _normal(cell.value) != _normal(expected):
                found = "" if cell.value is None else str(cell.value).strip()
                found_text = f"« {found} »" if found else "une cellule vide"
                reason = f"en-tête attendu « {expected} », trouvé {found_text}"
                self._refuse(sheet.name, 1, index, reason)
                ok = False
        for index in range(len(headers), len(sheet.header)):
            if sheet.header[index].data_type == "f":
                self._refuse(sheet.name, 1, index, FORMULA_REFUSED)
        return ok

    def _fields(self, sheet: str, number: int, cells: list[_Cell]):
        def field(column: str, convert, required: bool = True):
            index = ord(column) - ord("A")
            cell = cells[index]
            if cell.data_type == "f":
                return _INVALID  # already refused by _data_rows
            if cell.data_type == "e":
                reason = f"valeur d'erreur {cell.value} : saisissez une valeur"
                self._refuse(sheet, number, index, reason)
                return _INVALID
            if _blank(cell):
                if not required:
                    return None
                self._refuse(sheet, number, index, _REQUIRED[(sheet, column)])
                return _INVALID
            try:
                return convert(cell)
            except _Refused as refusal:
                self._refuse(sheet, number, index, str(refusal))
                return _INVALID

        return field

    def _refuse(self, sheet: str, number: int, index: int, reason: str) -> None:
        self.errors.append(CellError(sheet, number, get_column_letter(index + 1), reason))

    # Cells

    def member(self, cell: _Cell) -> str:
        siret = _siret(cell)
        if siret not in self.sirets:
            raise _Refused(f"SIRET inconnu dans le consortium : {siret}")
        return siret

    def category(self, cell: _Cell) -> str:
        text = _text_of(cell, "catégorie")
        found = self.category_ids.get(text.strip()) or self.category_ids.get(_normal(text))
        if found is not None:
            return found
        key = _normal(text)
        if key in self.category_labels:
            found = self.category_labels[key]
            if found is None:
                raise _Refused(f"catégorie ambiguë : « {text.strip()} » (utilisez l'identifiant)")
            return found
        raise _Refused(f"catégorie inconnue : « {text.strip()} »")

    def label(self, cell: _Cell) -> str:
        text = _text_of(cell, "libellé").strip()
        if len(text) > LABEL_MAX_LENGTH:
            raise _Refused(f"libellé trop long : au plus {LABEL_MAX_LENGTH} caractères")
        return text

    def source(self, cell: _Cell) -> str:
        text = _text_of(cell, "source")
        found = self.sources.get(text.strip()) or self.sources.get(_normal(text))
        if found is None:
            expected = ", ".join(f"« {label} »" for label in FINANCING_SOURCES.values())
            raise _Refused(f"source inconnue : « {text.strip()} » (attendu : {expected})")
        return found


_INVALID = object()
_EMPTY = _Cell(None, "n")
_REQUIRED = {
    (EXPENSES_SHEET, "A"): "SIRET du membre requis",
    (EXPENSES_SHEET, "C"): "catégorie requise",
    (EXPENSES_SHEET, "D"): "libellé requis",
    (EXPENSES_SHEET, "E"): "montant requis",
    (EXPENSES_SHEET, "F"): "éligibilité requise (oui/non)",
    (FINANCING_SHEET, "A"): "source requise",
    (FINANCING_SHEET, "B"): "SIRET du membre requis pour un apport (autofinancement, en nature)",
    (FINANCING_SHEET, "C"): "montant requis",
}


def _text_of(cell: _Cell, what: str) -> str:
    """Text, or a whole number typed where text was expected (an identifier such as 12)."""
    if isinstance(cell.value, int) and not isinstance(cell.value, bool):
        return str(cell.value)
    if not isinstance(cell.value, str):
        raise _Refused(f"{what} : texte attendu")
    return cell.value


def _siret(cell: _Cell) -> str:
    """A SIRET typed as text (spaces removed) or, failing that, as a 14-digit whole number."""
    value = cell.value
    if isinstance(value, bool) or cell.data_type == "b":
        raise _Refused("SIRET : 14 chiffres attendus, pas une valeur vrai/faux")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 14 digits are exact in a binary float
    if isinstance(value, int):
        text = str(value)
        if len(text) != 14:
            # A number drops leading zeros: the SIRET cannot be trusted, ask for text.
            raise _Refused(
                f"SIRET saisi comme nombre ({text}) : saisissez les 14 chiffres comme texte"
            )
        return text
    if not isinstance(value, str):
        raise _Refused("SIRET : 14 chiffres attendus")
    text = _SIRET_SPACES.sub("", value)
    if len(text) != 14 or not text.isascii() or not text.isdigit():
        raise _Refused(f"SIRET invalide : 14 chiffres attendus, trouvé « {value.strip()} »")
    return text


def _amount(cell: _Cell) -> Decimal:
    """An amount in euros, exact to the cent: a number cell or text such as "1 234,50"."""
    value = cell.value
    if isinstance(value, bool) or cell.data_type == "b":
        raise _Refused("montant : nombre attendu, pas une valeur vrai/faux")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest text that reads back as the same float: 1234.5 -> "1234.5".
        # Binary noise (1234.5000000001, left by a computed cell pasted as a value) is then
        # refused by the whole-cents check below instead of being silently rounded: the
        # applicant sees the figure they must fix rather than a budget we changed for them.
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = _amount_from_text(value)
    else:
        raise _Refused("montant : nombre attendu")
    return _cents(amount)


def _amount_from_text(text: str) -> Decimal:
    compact = _SPACES.sub("", text).removesuffix("€").removesuffix("EUR")
    compact = _SPACES.sub("", compact)
    if compact.count(",") == 1 and "." not in compact:
        compact = compact.replace(",", ".")  # French decimal comma
    if not _AMOUNT_TEXT.fullmatch(compact):
        raise _Refused(f"montant illisible : « {text.strip()} » (exemple : 1 234,50)")
    try:
        return Decimal(compact)
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets decimals through
        raise _Refused(f"montant illisible : « {text.strip()} »") from exc


def _cents(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise _Refused("montant : nombre attendu")
    if amount < 0:
        raise _Refused("montant négatif")
    if amount > MAX_AMOUNT:
        raise _Refused(f"montant trop élevé : au plus {_fr(MAX_AMOUNT)} €")
    if amount != amount.quantize(CENT):
        raise _Refused(f"au plus 2 décimales (centimes entiers) : {amount:f}")
    return exact_cents(amount)


def _eligible(cell: _Cell) -> bool:
    value = cell.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _YES:
            return True
        if word in _NO:
            return False
    raise _Refused(f"éligibilité : « oui » ou « non » attendu, trouvé « {str(value).strip()} »")


# --- exports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Totals:
    eligible: Decimal
    not_eligible: Decimal
    financing: Decimal

    @property
    def expenses(self) -> Decimal:
        return self.eligible + self.not_eligible


def _totals(content: AnnexContent) -> _Totals:
    eligible = sum((exact_cents(e.amount) for e in content.expenses if e.eligible), ZERO)
    other = sum((exact_cents(e.amount) for e in content.expenses if not e.eligible), ZERO)
    financing = sum((exact_cents(item.amount) for item in content.financing), ZERO)
    return _Totals(eligible, other, financing)


def _expense_rows(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> list[tuple[str, str, str, str, Decimal, str]]:
    names = {member.siret: member.name for member in members}
    labels = {category.id: category.label for category in categories}
    return [
        (
            expense.member,
            names.get(expense.member, ""),
            labels.get(expense.category, expense.category),
            expense.label,
            exact_cents(expense.amount),
            "oui" if expense.eligible else "non",
        )
        for expense in content.expenses
    ]


def _financing_rows(content: AnnexContent) -> list[tuple[str, str, Decimal]]:
    return [
        (
            FINANCING_SOURCES.get(item.source, item.source),
            item.member or "",
            exact_cents(item.amount),
        )
        for item in content.financing
    ]


EXPENSE_TOTAL_LABELS = ("Total éligible", "Total non éligible", "Total des dépenses")
FINANCING_TOTAL_LABEL = "Total des financements"


def export_budget_xlsx(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> bytes:
    """The budget as XLSX: the annex columns, then the totals (computed here, not formulas)."""
    totals = _totals(content)
    workbook = Workbook()
    expenses = workbook.active
    expenses.title = EXPENSES_SHEET
    _header(expenses, EXPENSE_HEADERS, _EXPENSE_WIDTHS)
    for row in _expense_rows(members, categories, content):
        expenses.append([_text(value) if isinstance(value, str) else value for value in row])
        _format_row(expenses, {"A": TEXT_FORMAT, "E": AMOUNT_FORMAT})
    expenses.append([])
    for label, amount in zip(
        EXPENSE_TOTAL_LABELS, (totals.eligible, totals.not_eligible, totals.expenses), strict=True
    ):
        expenses.append([None, None, None, label, amount])
        _format_row(expenses, {"E": AMOUNT_FORMAT})
        for column in "DE":
            expenses[f"{column}{expenses.max_row}"].font = _HEADER_FONT

    financing = workbook.create_sheet(FINANCING_SHEET)
    _header(financing, FINANCING_HEADERS, _FINANCING_WIDTHS)
    for row in _financing_rows(content):
        financing.append([_text(row[0]), _text(row[1]) or None, row[2]])
        _format_row(financing, {"B": TEXT_FORMAT, "C": AMOUNT_FORMAT})
    financing.append([])
    financing.append([FINANCING_TOTAL_LABEL, None, totals.financing])
    _format_row(financing, {"C": AMOUNT_FORMAT})
    for column in "AC":
        financing[f"{column}{financing.max_row}"].font = _HEADER_FONT

    for sheet in (expenses, financing):
        _save_texts_as_text(sheet)
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def export_budget_ods(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> bytes:
    """The budget as ODS (odfpy). Amounts are stored as their exact decimal text ("1234.50")."""
    totals = _totals(content)
    document = OpenDocumentSpreadsheet()
    styles = _OdsStyles(document)

    expenses = Table(name=EXPENSES_SHEET)
    styles.columns(expenses, _EXPENSE_WIDTHS)
    expenses.addElement(_ods_row([_ods_text(h, styles.bold) for h in EXPENSE_HEADERS]))
    for siret, name, category, label, amount, eligible in _expense_rows(
        members, categories, content
    ):
        cells = [_ods_text(text) for text in (siret, name, category, label)]
        cells += [_ods_amount(amount, styles.amount), _ods_text(eligible)]
        expenses.addElement(_ods_row(cells))
    expenses.addElement(_ods_row([]))
    for label, amount in zip(
        EXPENSE_TOTAL_LABELS, (totals.eligible, totals.not_eligible, totals.expenses), strict=True
    ):
        cells = [_ods_text("") for _ in range(3)]
        cells += [_ods_text(label, styles.bold), _ods_amount(amount, styles.bold_amount)]
        expenses.addElement(_ods_row(cells))
    document.spreadsheet.addElement(expenses)

    financing = Table(name=FINANCING_SHEET)
    styles.columns(financing, _FINANCING_WIDTHS)
    financing.addElement(_ods_row([_ods_text(h, styles.bold) for h in FINANCING_HEADERS]))
    for source, siret, amount in _financing_rows(content):
        cells = [_ods_text(source), _ods_text(siret), _ods_amount(amount, styles.amount)]
        financing.addElement(_ods_row(cells))
    financing.addElement(_ods_row([]))
    financing.addElement(
        _ods_row(
            [
                _ods_text(FINANCING_TOTAL_LABEL, styles.bold),
                _ods_text(""),
                _ods_amount(totals.financing, styles.bold_amount),
            ]
        )
    )
    document.spreadsheet.addElement(financing)

    output = BytesIO()
    document.write(output)
    return output.getvalue()


class _OdsStyles:
    def __init__(self, document: OpenDocumentSpreadsheet) -> None:
        self.document = document
        number_style = NumberStyle(name="annex-amount-format")
        number_style.addElement(Number(decimalplaces=2, minintegerdigits=1, grouping="true"))
        document.automaticstyles.addElement(number_style)
        self.amount = self._cell_style("annex-amount", datastylename="annex-amount-format")
        self.bold = self._cell_style("annex-bold", bold=True)
        self.bold_amount = self._cell_style(
            "annex-bold-amount", bold=True, datastylename="annex-amount-format"
        )
        self._widths: dict[int, Style] = {}

    def _cell_style(self, name: str, bold: bool = False, **attributes: str) -> Style:
        style = Style(name=name, family="table-cell", **attributes)
        if bold:
            style.addElement(TextProperties(fontweight="bold"))
        self.document.automaticstyles.addElement(style)
        return style

    def columns(self, table: Table, widths: tuple[int, ...]) -> None:
        for width in widths:
            if width not in self._widths:
                style = Style(name=f"annex-column-{width}", family="table-column")
                # Excel widths count characters; about 0.2 cm each in the default font.
                style.addElement(TableColumnProperties(columnwidth=f"{width * 0.2:.1f}cm"))
                self.document.automaticstyles.addElement(style)
                self._widths[width] = style
            table.addElement(TableColumn(stylename=self._widths[width]))


def _ods_row(cells: list[TableCell]) -> TableRow:
    row = TableRow()
    for cell in cells:
        row.addElement(cell)
    return row


def _ods_text(text: str, style: Style | None = None) -> TableCell:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not text:
        return TableCell(stylename=style) if style else TableCell()
    attributes = {"stylename": style} if style else {}
    cell = TableCell(valuetype="string", **attributes)
    cell.addElement(P(text=text))
    return cell


def _ods_amount(amount: Decimal, style: Style) -> TableCell:
    # "1234.50": the decimal text itself, never a float (totals may exceed MAX_AMOUNT).
    exact = f"{amount.quantize(CENT):f}"
    cell = TableCell(valuetype="float", value=exact, stylename=style)
    cell.addElement(P(text=_fr(amount)))
    return cell


def _fr(amount: Decimal) -> str:
    """1 234,50 (narrow no-break spaces between thousands)."""
    return f"{amount:,.2f}".replace(",", NARROW_NBSP).replace(".", ",")
