"""The budget by member and by category, and the financing plan's shares, to the cent."""

import copy
import json
from decimal import Decimal
from pathlib import Path

from guichet.rules.budget import Subtotal, breakdown
from guichet.rules.dossier import dossier_from_builtins

EXAMPLE = json.loads((Path(__file__).parent.parent / "data" / "contract-example.json")
                     .read_text())
LEAD, EDTECH = "73282932000074", "55208131766522"


def example(edit=lambda document: None):
    document = copy.deepcopy(EXAMPLE)
    edit(document)
    return dossier_from_builtins(document)


def test_breakdown_sums_expenses_by_member_and_category_to_the_cent():
    def edit(document):
        document["expenses"].append({"member": LEAD, "category": "staff", "label": "Tutorat",
                                     "amount": "0.01", "eligible": False})
    result = breakdown(example(edit))
    assert result.by_member == [Subtotal(LEAD, Decimal("450000.00"), Decimal("450000.01")),
                                Subtotal(EDTECH, Decimal("350000.00"), Decimal("350000.00"))]
    assert result.by_category == [
        Subtotal("staff", Decimal("450000.00"), Decimal("450000.01")),
        Subtotal("subcontracting", Decimal("350000.00"), Decimal("350000.00"))]
    assert (result.eligible, result.total) == (Decimal("800000.00"), Decimal("800000.01"))


def test_breakdown_lists_a_member_without_expenses_at_zero():
    def edit(document):
        del document["expenses"][1]
    assert breakdown(example(edit)).by_member[1] == Subtotal(EDTECH, Decimal("0.00"),
                                                             Decimal("0.00"))


def test_breakdown_gives_each_financing_line_its_share_of_the_plan():
    result = breakdown(example())
    assert result.financing_total == Decimal("800000.00")
    assert [share.share for share in result.financing] == [
        Decimal("0.7000"), Decimal("0.2125"), Decimal("0.0875")]


def test_breakdown_of_an_empty_plan_has_no_shares():
    result = breakdown(example(lambda document: document.update(financing=[], expenses=[])))
    assert (result.financing, result.financing_total, result.total) == ([], Decimal("0.00"),
                                                                         Decimal("0.00"))
