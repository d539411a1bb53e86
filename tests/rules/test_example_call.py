"""The regional example call (calls/deffinov-exemple.toml): a second call that the same rules
core judges from its values alone, and judges differently from Deffinum."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from guichet.rules.definition import shipped_definition
from guichet.rules.dossier import parse_dossier
from guichet.rules.eligibility import evaluate

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = shipped_definition("deffinov-exemple")
DEFFINUM = shipped_definition("deffinum")
CONTRACT = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text("utf-8"))
LEAD, PARTNER = "73282932000074", "55208131766522"


def regional(base_per_line: str = "400000.00", aid_rate: str = "0.50", **changes) -> dict:
    """The contract's consortium as a regional project over 24 months: two eligible expense
    lines of `base_per_line`, aid at `aid_rate` of the base, the rest in cash and in kind."""
    document = copy.deepcopy(CONTRACT)
    document.pop("submitted_at")
    base = Decimal(base_per_line) * 2
    aid = (base * Decimal(aid_rate)).quantize(Decimal("0.01"))
    in_kind = ((base - aid) * Decimal("0.20")).quantize(Decimal("0.01"))
    document.update(
        call="deffinov-exemple", scope="regional", duration_months=24,
        milestones=[{"month": 9, "kind": "first_results", "label": "Premiers résultats"},
                    {"month": 24, "kind": "final", "label": "Bilan final"}],
        expenses=[{"member": siret, "category": "staff", "label": "Ingénierie",
                   "amount": base_per_line, "eligible": True} for siret in (LEAD, PARTNER)],
        financing=[{"source": "aid", "amount": str(aid)},
                   {"source": "own_cash", "member": LEAD, "amount": str(base - aid - in_kind)},
                   {"source": "own_in_kind", "member": PARTNER, "amount": str(in_kind)}],
        answers={"territorial_need": "Former aux métiers du bâtiment en zone rurale."})
    document.update(changes)
    return document


def failed(document: dict, definition) -> set[str]:
    verdict = evaluate(parse_dossier(json.dumps(document).encode()), definition)
    return {result.rule for result in verdict.results if not result.ok}


def test_example_call_values_are_those_of_a_regional_call():
    rules = EXAMPLE.eligibility
    assert (rules.allowed_scopes, rules.aid_cap_rate, rules.minimum_base,
            rules.max_duration_months) == (["regional"], Decimal("0.50"), Decimal("100000.00"),
                                           24)
    assert [wave.id for wave in EXAMPLE.waves] == ["w1"]
    assert EXAMPLE.programme.id != DEFFINUM.programme.id
    assert EXAMPLE.funder != DEFFINUM.funder
    assert "fictif" in EXAMPLE.name


def test_example_call_regional_project_eligible_there_and_not_under_deffinum():
    document = regional()
    assert failed(document, EXAMPLE) == set()
    assert failed(dict(document, call="deffinum"), DEFFINUM) == {"scope"}


def test_example_call_small_base_eligible_there_below_deffinum_minimum():
    document = regional(base_per_line="60000.00")  # 120 000 € of eligible base
    assert failed(document, EXAMPLE) == set()
    assert failed(dict(document, call="deffinum", scope="national"), DEFFINUM) == {
        "minimum_base"}


def test_example_call_base_under_its_minimum_refused():
    assert failed(regional(base_per_line="49999.99"), EXAMPLE) == {"minimum_base"}


@pytest.mark.parametrize(("aid_rate", "refused"), [("0.50", set()), ("0.51", {"aid_cap"}),
                                                   ("0.70", {"aid_cap"})])
def test_example_call_aid_above_half_refused(aid_rate, refused):
    # Co-financing is the complement of the aid cap: above it, both rules refuse.
    result = failed(regional(aid_rate=aid_rate), EXAMPLE)
    assert result - {"cofinancing"} == refused
    assert failed(dict(regional(aid_rate=aid_rate), call="deffinum", scope="national"),
                  DEFFINUM) == set()


@pytest.mark.parametrize(("months", "refused"), [(24, set()), (25, {"duration"}),
                                                 (36, {"duration"})])
def test_example_call_longest_duration_is_24_months(months, refused):
    assert failed(regional(duration_months=months), EXAMPLE) == refused
