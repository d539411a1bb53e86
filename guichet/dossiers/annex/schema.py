"""The annex's data, its sheets and columns, the words people read in it, and its errors.

Names people read (sheets, headers, "oui"/"non") are French msgids, shown in the active language;
the import recognises them in every language of the site (`spellings`), so that a workbook
downloaded in English can be sent back from a French page. Financing sources are named once, in
`rules.vocabulary` (through `core.labels`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from guichet.core import labels
from guichet.core.uploads import MEBIBYTE
from guichet.rules import dossier as fmt
from guichet.rules import vocabulary

# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnnexMember:
    siret: str
    name: str


@dataclass(frozen=True, slots=True)
class AnnexCategory:
    id: str
    label: str  # in the language of whoever reads the annex


@dataclass(frozen=True, slots=True)
class AnnexExpense:
    member: str  # SIRET of a consortium member
    category: str  # id of an expense category
    label: str
    amount: Decimal
    eligible: bool


@dataclass(frozen=True, slots=True)
class AnnexFinancing:
    source: str  # a code of `rules.vocabulary.FINANCING_SOURCES`
    member: str | None  # SIRET; required for the SOURCES_NEEDING_MEMBER
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AnnexContent:
    expenses: list[AnnexExpense]
    financing: list[AnnexFinancing]


# --- sheets and columns ----------------------------------------------------------------------

EXPENSES, FINANCING, MEMBERS, CATEGORIES = "expenses", "financing", "members", "categories"
_SHEET_NAMES = {
    EXPENSES: gettext_noop("Dépenses"),
    FINANCING: gettext_noop("Financement"),
    MEMBERS: gettext_noop("Membres"),
    CATEGORIES: gettext_noop("Catégories"),
}
# The columns of the two data sheets, as their headers read.
EXPENSE_HEADERS = (
    gettext_noop("SIRET du membre"),
    gettext_noop("Membre"),
    gettext_noop("Catégorie"),
    gettext_noop("Libellé"),
    gettext_noop("Montant (€)"),
    gettext_noop("Éligible (oui/non)"),
)
FINANCING_HEADERS = (
    gettext_noop("Source"),
    gettext_noop("SIRET du membre (apports)"),
    gettext_noop("Montant (€)"),
)
EXPENSE_WIDTHS = (20, 32, 24, 48, 16, 18)
FINANCING_WIDTHS = (34, 26, 16)
# Contributions of a member must say which member brings them.
SOURCES_NEEDING_MEMBER = frozenset(fmt.MEMBER_CONTRIBUTIONS)

LABEL_MAX_LENGTH = 500
# Rows of the template covered by the drop-down lists and column formats.
TEMPLATE_ROWS = 5000
# Rows read under the header of each sheet, blank ones included.
MAX_ROWS = TEMPLATE_ROWS
MAX_ANNEX_BYTES = 5 * MEBIBYTE


def sheet_name(sheet: str) -> str:
    """The name of a sheet (EXPENSES, FINANCING, MEMBERS, CATEGORIES) in the active language."""
    return gettext(_SHEET_NAMES[sheet])


def sheet_spellings(sheet: str) -> frozenset[str]:
    return spellings(_SHEET_NAMES[sheet])


def headers(columns: tuple[str, ...]) -> list[str]:
    """Column headers (EXPENSE_HEADERS, FINANCING_HEADERS) in the active language."""
    return [gettext(column) for column in columns]


def financing_sources() -> dict[str, str]:
    """Each financing source's label in the active language, by code."""
    return {code: labels.label("financing_source", code) for code in vocabulary.FINANCING_SOURCES}


def yes_no(eligible: bool) -> str:
    return gettext("oui") if eligible else gettext("non")


def normal(text: str) -> str:
    """Compare names and labels regardless of case, spacing and Unicode composition."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def spellings(msgid: str) -> frozenset[str]:
    """`msgid` as it reads in every language of the site, `normal`ised."""
    names = {msgid}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            names.add(gettext(msgid))
    return frozenset(normal(name) for name in names)


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellError:
    sheet: str  # the sheet's name; "" for the file as a whole
    row: int  # 1-based; 0 for the file or a whole sheet
    column: str  # letter ("E"); "" for a whole row, sheet or file
    reason: str  # in the active language


class AnnexInvalid(ValueError):
    """The annex was refused; `errors` lists every refused cell, sorted by sheet, row, column."""

    def __init__(self, errors: Iterable[CellError]) -> None:
        order = {"": 0, sheet_name(EXPENSES): 1, sheet_name(FINANCING): 2}
        self.errors: list[CellError] = sorted(errors, key=lambda error: (
            order.get(error.sheet, len(order)), error.sheet, error.row, len(error.column),
            error.column))
        super().__init__(self._message())  # in the language of whoever sent the annex

    def _message(self) -> str:
        count = len(self.errors)
        lines = [ngettext("L'annexe financière comporte %(count)s erreur :",
                          "L'annexe financière comporte %(count)s erreurs :", count)
                 % {"count": count}]
        lines.extend(f"- {_describe(error)}" for error in self.errors)
        return "\n".join(lines)


def _describe(error: CellError) -> str:
    where = {"sheet": error.sheet, "row": error.row, "column": error.column,
             "reason": error.reason}
    if not error.sheet:
        return error.reason
    if not error.row:
        return gettext("feuille « %(sheet)s » : %(reason)s") % where
    if not error.column:
        return gettext("feuille « %(sheet)s », ligne %(row)s : %(reason)s") % where
    return gettext("feuille « %(sheet)s », ligne %(row)s, colonne %(column)s : %(reason)s") % where
