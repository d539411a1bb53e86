"""The budget as XLSX or ODS: the annex's columns, then the totals (computed here, not
formulas). The same sheets go to both formats through `core.spreadsheets` (XLSX in write-only
mode), so both show the same cells."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext

from guichet.core.spreadsheets import Emphasis, Sheet, write_ods, write_xlsx
from guichet.dossiers.annex import schema
from guichet.dossiers.annex.schema import AnnexCategory, AnnexContent, AnnexMember
from guichet.rules.money import ZERO, exact_cents

SIRET_COLUMN = 0  # of the expenses: text, so that leading zeros stay
CONTRIBUTOR_COLUMN = 1  # of the financing: the SIRET of the member who brings a contribution


def export_budget_xlsx(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> bytes:
    return write_xlsx(budget_sheets(members, categories, content))


def export_budget_ods(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> bytes:
    """Amounts are stored as their exact decimal text ("1234.50")."""
    return write_ods(budget_sheets(members, categories, content))


def budget_sheets(
    members: list[AnnexMember], categories: list[AnnexCategory], content: AnnexContent
) -> list[Sheet]:
    """The expenses and the financing, each followed by a blank row and its totals in bold."""
    totals = _totals(content)
    expense_totals = (
        (gettext("Total éligible"), totals.eligible),
        (gettext("Total non éligible"), totals.not_eligible),
        (gettext("Total des dépenses"), totals.expenses),
    )
    expenses = Sheet(
        title=schema.sheet_name(schema.EXPENSES),
        header=schema.headers(schema.EXPENSE_HEADERS),
        rows=[*_expense_rows(members, categories, content), (),
              *(Emphasis((None, None, None, label, amount)) for label, amount in expense_totals)],
        widths=schema.EXPENSE_WIDTHS,
        text_columns=frozenset({SIRET_COLUMN}),
    )
    financing = Sheet(
        title=schema.sheet_name(schema.FINANCING),
        header=schema.headers(schema.FINANCING_HEADERS),
        rows=[*_financing_rows(content), (),
              Emphasis((gettext("Total des financements"), None, totals.financing))],
        widths=schema.FINANCING_WIDTHS,
        text_columns=frozenset({CONTRIBUTOR_COLUMN}),
    )
    return [expenses, financing]


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
            schema.yes_no(expense.eligible),
        )
        for expense in content.expenses
    ]


def _financing_rows(content: AnnexContent) -> list[tuple[str, str | None, Decimal]]:
    sources = schema.financing_sources()
    return [
        (sources.get(item.source, item.source), item.member or None, exact_cents(item.amount))
        for item in content.financing
    ]
