"""The budget and financing plan of a dossier as reviewers read them: totals by member and by
category, and each financing line's share of the plan, exact to the cent."""

from dataclasses import dataclass
from decimal import Decimal

from guichet.rules.dossier import Dossier, Financing
from guichet.rules.money import ZERO, ratio


@dataclass(frozen=True, slots=True)
class Subtotal:
    key: str  # a member's SIRET, or an expense category id
    eligible: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class FinancingShare:
    line: Financing
    share: Decimal | None  # the line's fraction of the plan (4 decimals); None for an empty plan


@dataclass(frozen=True, slots=True)
class Breakdown:
    by_member: list[Subtotal]
    by_category: list[Subtotal]
    eligible: Decimal
    total: Decimal
    financing: list[FinancingShare]
    financing_total: Decimal


def breakdown(dossier: Dossier) -> Breakdown:
    """The expenses summed by member (in the consortium's order) and by category (in order of
    first appearance), and the financing lines with their shares of the plan's total."""
    by_member = _subtotals(dossier, lambda line: line.member,
                           [member.siret for member in dossier.members])
    by_category = _subtotals(dossier, lambda line: line.category, [])
    financing_total = sum((line.amount for line in dossier.financing), ZERO)
    return Breakdown(
        by_member=by_member, by_category=by_category,
        eligible=sum((line.amount for line in dossier.expenses if line.eligible), ZERO),
        total=sum((line.amount for line in dossier.expenses), ZERO),
        financing=[FinancingShare(line, ratio(line.amount, financing_total))
                   for line in dossier.financing],
        financing_total=financing_total)


def _subtotals(dossier: Dossier, key_of, order: list[str]) -> list[Subtotal]:
    eligible: dict[str, Decimal] = dict.fromkeys(order, ZERO)
    total: dict[str, Decimal] = dict.fromkeys(order, ZERO)
    for line in dossier.expenses:
        key = key_of(line)
        total[key] = total.get(key, ZERO) + line.amount
        eligible[key] = eligible.get(key, ZERO) + (line.amount if line.eligible else ZERO)
    return [Subtotal(key, eligible[key], total[key]) for key in total]
