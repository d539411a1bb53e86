"""The strict import of a filled-in annex.

The import validates the whole workbook and reports every refused cell at once (`AnnexInvalid`),
with reasons in the active language that name the sheet, the cell and what is wrong, so that an
applicant can fix the file in one go; nothing is returned unless every row is valid. A hostile
file costs little: at most `MAX_ANNEX_BYTES` are read, the archive and its parts are checked
before openpyxl parses them (`workbook_guard`), the sheets are streamed, and reading stops at the
row limit, blank rows included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext, gettext_noop
from openpyxl.utils import get_column_letter

from guichet.core.spreadsheets import french_amount
from guichet.core.uploads import too_large_message
from guichet.dossiers import workbook_guard
from guichet.dossiers.annex.schema import (
    EXPENSE_HEADERS,
    EXPENSES,
    FINANCING,
    FINANCING_HEADERS,
    LABEL_MAX_LENGTH,
    MAX_ANNEX_BYTES,
    MAX_ROWS,
    SOURCES_NEEDING_MEMBER,
    AnnexCategory,
    AnnexContent,
    AnnexExpense,
    AnnexFinancing,
    AnnexInvalid,
    AnnexMember,
    CellError,
    financing_sources,
    normal,
    sheet_name,
    sheet_spellings,
    spellings,
)
from guichet.rules import vocabulary
from guichet.rules.money import CENT, MAX_AMOUNT, NARROW_NBSP, NBSP, exact_cents

UNREADABLE = gettext_noop("Le fichier n'est pas un classeur XLSX lisible.")
FORMULA_REFUSED = gettext_noop("formule non acceptée : saisissez une valeur")

_YES = frozenset({"oui", "yes", "true", "vrai", "1"})
_NO = frozenset({"non", "no", "false", "faux", "0"})
# Separators of thousands that spreadsheets and French typography put in amounts.
_SPACES = re.compile(f"[ \t{NBSP}{NARROW_NBSP}\u2007\u2009]")
_AMOUNT_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_SIRET_SPACES = re.compile(r"\s+")



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
    errors = [CellError(name, 0, "", gettext("feuille « %(sheet)s » absente du classeur")
                        % {"sheet": name}) for name in missing]
    checker = _Checker(members, categories, errors)
    expenses: list[AnnexExpense] = []
    financing: list[AnnexFinancing] = []
    if EXPENSES in sheets:
        expenses = checker.expenses(sheets[EXPENSES])
    if FINANCING in sheets:
        financing = checker.financing(sheets[FINANCING])
    if errors:
        raise AnnexInvalid(errors)
    return AnnexContent(expenses=expenses, financing=financing)


@dataclass(frozen=True, slots=True)
class _Cell:
    value: Any
    data_type: str  # openpyxl's: "s", "n", "b", "d", "e", "f"


@dataclass(slots=True)
class _Sheet:
    code: str  # EXPENSES or FINANCING
    name: str  # as people read it
    header: list[_Cell]
    rows: list[tuple[int, list[_Cell]]]  # (row number, cells), empty rows left out
    max_rows: int
    too_many_at: int | None = None  # the row after the last one read, when the sheet goes on


def _read_workbook(data: bytes, max_rows: int) -> tuple[dict[str, _Sheet], list[str]]:
    """Extract the two data sheets as plain values, by code, and the names of the missing ones.
    `WorkbookRefused` past a limit; any other failure here means "unreadable"."""
    # Formulas come back as formulas (data_type "f"), so that they can be refused.
    workbook = workbook_guard.load_workbook(data)
    try:
        titles = {normal(title): title for title in workbook.sheetnames}
        sheets: dict[str, _Sheet] = {}
        missing: list[str] = []
        for code in (EXPENSES, FINANCING):
            title = next((titles[name] for name in sheet_spellings(code) if name in titles), None)
            if title is None:
                missing.append(sheet_name(code))
                continue
            worksheet = workbook[title]
            worksheet.reset_dimensions()  # do not trust a stored (possibly stale) dimension
            sheets[code] = _extract(code, worksheet.iter_rows(), max_rows)
        return sheets, missing
    finally:
        workbook.close()


def _extract(code: str, rows: Iterator[tuple], max_rows: int) -> _Sheet:
    """The header and the next `max_rows` rows, blank ones counted: reading stops there, so
    that a million blank rows cost no more than the limit."""
    sheet = _Sheet(code=code, name=sheet_name(code), header=[], rows=[], max_rows=max_rows)
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


class _Refused(Exception):
    """One refused value; its message is the reason, in the active language."""


class _Checker:
    def __init__(
        self, members: list[AnnexMember], categories: list[AnnexCategory], errors: list[CellError]
    ) -> None:
        self.sirets = {member.siret for member in members}
        self.category_ids = {category.id: category.id for category in categories}
        self.category_ids.update({normal(category.id): category.id for category in categories})
        self.category_labels: dict[str, str | None] = {}
        for category in categories:
            key = normal(category.label)
            # A label shared by two categories says nothing: it is refused as ambiguous.
            self.category_labels[key] = None if key in self.category_labels else category.id
        # A source by its code, or its name in any language.
        self.sources = {code: code for code in vocabulary.FINANCING_SOURCES}
        self.sources.update({normal(name): code for code, names in
                             vocabulary.FINANCING_SOURCES.items() for name in names})
        self.errors = errors

    # Sheets

    def expenses(self, sheet: _Sheet) -> list[AnnexExpense]:
        result: list[AnnexExpense] = []
        for number, cells in self._data_rows(sheet, EXPENSE_HEADERS):
            # Column B (member name) is a reading aid only: the SIRET identifies the member.
            if all(_vacant(cell) for index, cell in enumerate(cells[:6]) if index != 1):
                continue
            field = self._fields(sheet, number, cells)
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
            field = self._fields(sheet, number, cells)
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
                    self._refuse(sheet.name, number, index, gettext(FORMULA_REFUSED))
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
                self._refuse(sheet.name, 1, index, gettext(FORMULA_REFUSED))
                ok = False
            elif not isinstance(cell.value, str) or normal(cell.value) not in spellings(expected):
                found = "" if cell.value is None else str(cell.value).strip()
                values = {"expected": gettext(expected), "found": found}
                reason = (gettext("en-tête attendu « %(expected)s », trouvé « %(found)s »")
                          if found else
                          gettext("en-tête attendu « %(expected)s », trouvé une cellule vide"))
                self._refuse(sheet.name, 1, index, reason % values)
                ok = False
        for index in range(len(headers), len(sheet.header)):
            if sheet.header[index].data_type == "f":
                self._refuse(sheet.name, 1, index, gettext(FORMULA_REFUSED))
        return ok

    def _fields(self, sheet: _Sheet, number: int, cells: list[_Cell]):
        def field(column: str, convert, required: bool = True):
            index = ord(column) - ord("A")
            cell = cells[index]
            if cell.data_type == "f":
                return _INVALID  # already refused by _data_rows
            if cell.data_type == "e":
                reason = gettext("valeur d'erreur %(value)s : saisissez une valeur")
                self._refuse(sheet.name, number, index, reason % {"value": cell.value})
                return _INVALID
            if _blank(cell):
                if not required:
                    return None
                self._refuse(sheet.name, number, index, gettext(_REQUIRED[(sheet.code, column)]))
                return _INVALID
            try:
                return convert(cell)
            except _Refused as refusal:
                self._refuse(sheet.name, number, index, str(refusal))
                return _INVALID

        return field

    def _refuse(self, sheet: str, number: int, index: int, reason: str) -> None:
        self.errors.append(CellError(sheet, number, get_column_letter(index + 1), reason))

    # Cells

    def member(self, cell: _Cell) -> str:
        siret = _siret(cell)
        if siret not in self.sirets:
            raise _Refused(gettext("SIRET inconnu dans le consortium : %(siret)s")
                           % {"siret": siret})
        return siret

    def category(self, cell: _Cell) -> str:
        text = _text_of(cell, gettext("catégorie"))
        found = self.category_ids.get(text.strip()) or self.category_ids.get(normal(text))
        if found is not None:
            return found
        key = normal(text)
        if key in self.category_labels:
            found = self.category_labels[key]
            if found is None:
                raise _Refused(gettext("catégorie ambiguë : « %(text)s » (utilisez l'identifiant)")
                               % {"text": text.strip()})
            return found
        raise _Refused(gettext("catégorie inconnue : « %(text)s »") % {"text": text.strip()})

    def label(self, cell: _Cell) -> str:
        text = _text_of(cell, gettext("libellé")).strip()
        if len(text) > LABEL_MAX_LENGTH:
            raise _Refused(gettext("libellé trop long : au plus %(limit)s caractères")
                           % {"limit": LABEL_MAX_LENGTH})
        return text

    def source(self, cell: _Cell) -> str:
        text = _text_of(cell, gettext("source"))
        found = self.sources.get(text.strip()) or self.sources.get(normal(text))
        if found is None:
            expected = ", ".join(f"« {label} »" for label in financing_sources().values())
            raise _Refused(gettext("source inconnue : « %(text)s » (attendu : %(expected)s)")
                           % {"text": text.strip(), "expected": expected})
        return found


_INVALID = object()
_EMPTY = _Cell(None, "n")
_REQUIRED = {
    (EXPENSES, "A"): gettext_noop("SIRET du membre requis"),
    (EXPENSES, "C"): gettext_noop("catégorie requise"),
    (EXPENSES, "D"): gettext_noop("libellé requis"),
    (EXPENSES, "E"): gettext_noop("montant requis"),
    (EXPENSES, "F"): gettext_noop("éligibilité requise (oui/non)"),
    (FINANCING, "A"): gettext_noop("source requise"),
    (FINANCING, "B"): gettext_noop(
        "SIRET du membre requis pour un apport (autofinancement, en nature)"),
    (FINANCING, "C"): gettext_noop("montant requis"),
}


def _text_of(cell: _Cell, what: str) -> str:
    """Text, or a whole number typed where text was expected (an identifier such as 12)."""
    if isinstance(cell.value, int) and not isinstance(cell.value, bool):
        return str(cell.value)
    if not isinstance(cell.value, str):
        raise _Refused(gettext("%(field)s : texte attendu") % {"field": what})
    return cell.value


def _siret(cell: _Cell) -> str:
    """A SIRET typed as text (spaces removed) or, failing that, as a 14-digit whole number."""
    value = cell.value
    if isinstance(value, bool) or cell.data_type == "b":
        raise _Refused(gettext("SIRET : 14 chiffres attendus, pas une valeur vrai/faux"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 14 digits are exact in a binary float
    if isinstance(value, int):
        text = str(value)
        if len(text) != 14:
            # A number drops leading zeros: the SIRET cannot be trusted, ask for text.
            raise _Refused(gettext("SIRET saisi comme nombre (%(number)s) : saisissez les 14 "
                                   "chiffres comme texte") % {"number": text})
        return text
    if not isinstance(value, str):
        raise _Refused(gettext("SIRET : 14 chiffres attendus"))
    text = _SIRET_SPACES.sub("", value)
    if len(text) != 14 or not text.isascii() or not text.isdigit():
        raise _Refused(gettext("SIRET invalide : 14 chiffres attendus, trouvé « %(text)s »")
                       % {"text": value.strip()})
    return text


def _amount(cell: _Cell) -> Decimal:
    """An amount in euros, exact to the cent: a number cell or text such as "1 234,50"."""
    value = cell.value
    if isinstance(value, bool) or cell.data_type == "b":
        raise _Refused(gettext("montant : nombre attendu, pas une valeur vrai/faux"))
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
        raise _Refused(gettext("montant : nombre attendu"))
    return _cents(amount)


def _amount_from_text(text: str) -> Decimal:
    compact = _SPACES.sub("", text).removesuffix("€").removesuffix("EUR")
    compact = _SPACES.sub("", compact)
    if compact.count(",") == 1 and "." not in compact:
        compact = compact.replace(",", ".")  # French decimal comma
    if not _AMOUNT_TEXT.fullmatch(compact):
        raise _Refused(gettext("montant illisible : « %(text)s » (exemple : 1 234,50)")
                       % {"text": text.strip()})
    try:
        return Decimal(compact)
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets decimals through
        raise _Refused(gettext("montant illisible : « %(text)s »")
                       % {"text": text.strip()}) from exc


def _cents(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise _Refused(gettext("montant : nombre attendu"))
    if amount < 0:
        raise _Refused(gettext("montant négatif"))
    if amount > MAX_AMOUNT:
        raise _Refused(gettext("montant trop élevé : au plus %(limit)s €")
                       % {"limit": french_amount(MAX_AMOUNT)})
    if amount != amount.quantize(CENT):
        raise _Refused(gettext("au plus 2 décimales (centimes entiers) : %(amount)s")
                       % {"amount": f"{amount:f}"})
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
    raise _Refused(gettext("éligibilité : « oui » ou « non » attendu, trouvé « %(text)s »")
                   % {"text": str(value).strip()})


