"""What-if on the thresholds (issue 11, item 6), in the pure rules core: a frozen verdict keeps
its other failures; only the threshold rules are evaluated again."""

import json
from decimal import Decimal

import pytest

from guichet.rules.definition import shipped_definition
from guichet.rules.dossier import parse_dossier
from guichet.rules.whatif import (
    FrozenDossier,
    ThresholdError,
    Thresholds,
    thresholds_of,
    what_if,
    with_thresholds,
)
from tests.rules.test_eligibility import example

DEFFINUM = shipped_definition("deffinum")
CURRENT = thresholds_of(DEFFINUM)


def frozen(key: str, failed=frozenset(), in_kind: str | None = None) -> FrozenDossier:
    """The contract's example (base 800 000 €, aid 560 000 €, in kind 70 000 €)."""
    document = example()
    if in_kind is not None:
        document["financing"][2]["amount"] = in_kind
        document["financing"][1]["amount"] = str(Decimal("240000.00") - Decimal(in_kind))
    return FrozenDossier(key, parse_dossier(json.dumps(document)), frozenset(failed),
                         Decimal("560000.00"))


def test_what_if_lower_in_kind_cap_fails_the_dossier_with_more_in_kind():
    """70 000 € of in kind is 29 % of the 240 000 € co-financing: within 30 %, not 20 %."""
    result = what_if([frozen("a"), frozen("b", in_kind="40000.00")], DEFFINUM,
                     Thresholds(CURRENT.minimum_base, CURRENT.aid_cap_rate, Decimal("0.20")))
    assert [(c.key, c.eligible_before, c.eligible_after, c.failed_after)
            for c in result.changes] == [("a", True, False, ("in_kind_cap",))]
    assert (result.eligible_before, result.eligible_after) == (2, 1)
    assert (result.aid_before, result.aid_after) == (Decimal("1120000.00"),
                                                     Decimal("560000.00"))


def test_what_if_lower_minimum_base_rescues_a_dossier_failing_only_on_it():
    result = what_if([frozen("a", failed={"minimum_base"})], DEFFINUM,
                     Thresholds(Decimal("100000.00"), CURRENT.aid_cap_rate,
                                CURRENT.in_kind_cap_rate))
    assert [(c.key, c.eligible_after, c.failed_after) for c in result.changes] == [
        ("a", True, ())]
    assert result.aid_after == Decimal("560000.00")


def test_what_if_keeps_the_frozen_failures_the_thresholds_do_not_touch():
    """A dossier refused for its deadline stays refused whatever the thresholds."""
    result = what_if([frozen("a", failed={"deadline", "minimum_base"})], DEFFINUM,
                     Thresholds(Decimal("100000.00"), CURRENT.aid_cap_rate,
                                CURRENT.in_kind_cap_rate))
    assert result.changes == []
    assert (result.eligible_before, result.eligible_after) == (0, 0)


def test_with_thresholds_leaves_the_definition_unchanged():
    modified = with_thresholds(DEFFINUM, Thresholds(Decimal("1.00"), Decimal("0.5"),
                                                    Decimal("0.1")))
    assert modified.eligibility.aid_cap_rate == Decimal("0.5")
    assert DEFFINUM.eligibility.aid_cap_rate == Decimal("0.70")
    assert modified.waves == DEFFINUM.waves


@pytest.mark.parametrize(("thresholds", "field"), [
    (Thresholds(Decimal("-1"), CURRENT.aid_cap_rate, CURRENT.in_kind_cap_rate), "minimum_base"),
    (Thresholds(CURRENT.minimum_base, Decimal("0"), CURRENT.in_kind_cap_rate), "aid_cap_rate"),
    (Thresholds(CURRENT.minimum_base, CURRENT.aid_cap_rate, Decimal("NaN")), "in_kind_cap_rate"),
])
def test_with_thresholds_out_of_bounds_names_the_field(thresholds, field):
    with pytest.raises(ThresholdError) as refused:
        with_thresholds(DEFFINUM, thresholds)
    assert refused.value.field == field
