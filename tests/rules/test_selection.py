"""Portfolio selection (contracts/optimisation.md, "Portfolio selection"): the optimiser, the
rank-order funding line, the difference explained and `guichet select` as a user runs it."""

import itertools
import json
import math
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.rules.selection import (
    InstanceError,
    explain,
    parse_selection_instance,
    rank_order,
    read_selection_instance,
    selection_result_to_dict,
    solve_selection,
)
from guichet.rules.selection.prepared import Prepared
from guichet.rules.selection.solver import knapsack_bound

GUICHET = Path(sys.executable).with_name("guichet")

CONTRACT_INSTANCE = {
    "budget": "100000000.00",
    "min_score": 2.5,
    "objective": "score_sum",
    "dossiers": [
        {"id": "d1", "aid": "350000.00", "score": 4.2,
         "groups": {"region": "IDF", "sector": "btp"}},
    ],
    "caps": [{"group": "region", "value": "IDF", "max_aid": "30000000.00"}],
    "floors": [{"group": "sector", "value": "sante", "min_count": 2}],
    "pinned_in": [], "pinned_out": [],
}


def _contract_without_floor() -> dict:
    return {**CONTRACT_INSTANCE, "floors": []}


def _instance(dossiers, budget, objective="score_sum", **extra):
    """Dossiers as (id, aid, score, region, sector) tuples."""
    return parse_selection_instance({
        "budget": budget, "objective": objective, **extra,
        "dossiers": [{"id": i, "aid": aid, "score": score,
                      "groups": {"region": region, "sector": sector}}
                     for i, aid, score, region, sector in dossiers],
    })


# The contract example ---------------------------------------------------------------------------

def test_solve_contract_example_without_floor_gives_contract_result():
    instance = parse_selection_instance(_contract_without_floor())
    document = selection_result_to_dict(solve_selection(instance))
    expected = {"selected": ["d1"], "objective": 4.2, "total_aid": "350000.00",
                "upper_bound": 4.2, "gap": 0.0, "optimal": True}
    assert {key: document[key] for key in expected} == expected
    assert document["status"] == "optimal"
    assert {key: document["rank_order"][key] for key in ("selected", "objective")} == {
        "selected": ["d1"], "objective": 4.2}
    assert document["seconds"] >= 0


def test_solve_contract_example_as_printed_is_infeasible_by_its_floor():
    # The example's floor asks for 2 "sante" dossiers and its only dossier is "btp".
    result = solve_selection(parse_selection_instance(CONTRACT_INSTANCE))
    assert (result.status, result.optimal, result.selected) == ("infeasible", False, None)
    assert "floor sector=sante needs 2 dossiers, only 0" in result.reason
    assert result.notes == ("floors[0]: no dossier has sector=sante",)
    assert result.rank_order.meets_floors is False


# Brute force on small random instances ----------------------------------------------------------

REGIONS, SECTORS = ("A", "B", "C"), ("x", "y")


@st.composite
def small_instances(draw):
    count = draw(st.integers(0, 12))
    dossiers = [{
        "id": f"d{i}",
        "aid": str(Decimal(draw(st.integers(0, 200_000))).scaleb(-2)),
        "score": draw(st.integers(0, 50)) / 10,
        "groups": {"region": draw(st.sampled_from(REGIONS)),
                   "sector": draw(st.sampled_from(SECTORS))},
    } for i in range(count)]
    keys = st.sampled_from([("region", v) for v in REGIONS] + [("sector", v) for v in SECTORS])
    caps = [{"group": g, "value": v, "max_aid": f"{draw(st.integers(0, 4000))}.00"}
            for g, v in draw(st.lists(keys, max_size=3))]
    floors = [{"group": g, "value": v, "min_count": draw(st.integers(0, 3))}
              for g, v in draw(st.lists(keys, max_size=2))]
    ids = [d["id"] for d in dossiers]
    return {
        "budget": f"{draw(st.integers(0, 8000))}.{draw(st.integers(0, 99)):02d}",
        "min_score": draw(st.one_of(st.none(), st.integers(0, 40).map(lambda s: s / 10))),
        "objective": draw(st.sampled_from(["score_sum", "score_weighted_aid"])),
        "dossiers": dossiers, "caps": caps, "floors": floors,
        "pinned_in": draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else [],
        "pinned_out": draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else [],
    }


def _coefficient(data: dict, dossier: dict) -> float:
    if data["objective"] == "score_sum":
        return dossier["score"]
    return dossier["score"] * (int(Decimal(dossier["aid"]).scaleb(2)) / 100.0)


def _feasible(data: dict, chosen: list[dict]) -> bool:
    """The contract's rules, checked with Decimal and whole counts."""
    ids = {d["id"] for d in chosen}
    minimum = data.get("min_score")
    if any(minimum is not None and d["score"] < minimum for d in chosen):
        return False
    if ids & set(data["pinned_out"]) or not set(data["pinned_in"]) <= ids:
        return False
    if sum((Decimal(d["aid"]) for d in chosen), Decimal(0)) > Decimal(data["budget"]):
        return False
    for cap in data["caps"]:
        group, value = cap["group"], cap["value"]
        inside = (Decimal(d["aid"]) for d in chosen if d["groups"].get(group) == value)
        if sum(inside, Decimal(0)) > Decimal(cap["max_aid"]):
            return False
    return all(
        sum(d["groups"].get(f["group"]) == f["value"] for d in chosen) >= f["min_count"]
        for f in data["floors"])


def _brute_force(data: dict) -> float | None:
    best = None
    dossiers = data["dossiers"]
    for size in range(len(dossiers) + 1):
        for chosen in itertools.combinations(dossiers, size):
            if _feasible(data, list(chosen)):
                value = math.fsum(_coefficient(data, d) for d in chosen)
                best = value if best is None else max(best, value)
    return best


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_solve_small_random_instance_matches_brute_force(data):
    result = solve_selection(parse_selection_instance(data), gap=0.0)
    best = _brute_force(data)
    if best is None:
        assert (result.status, result.selected, result.optimal) == ("infeasible", None, False)
        return
    assert (result.status, result.optimal) == ("optimal", True)
    assert result.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    by_id = {d["id"]: d for d in data["dossiers"]}
    assert _feasible(data, [by_id[i] for i in result.selected])
    assert result.upper_bound >= result.objective
    assert result.gap == pytest.approx(0.0, abs=1e-9)
    # The bound used when HiGHS has none (fractional knapsack on the budget) is a bound.
    assert knapsack_bound(Prepared(parse_selection_instance(data))) >= best * (1 - 1e-12)


def _wave(count: int, seed: int, objective: str = "score_sum", floor: int = 3) -> dict:
    """A call wave: 13 regions, 7 sectors, aid 350 000 € to 5 000 000 €, scores 0–5."""
    rng = random.Random(seed)
    regions = [f"R{k:02d}" for k in range(13)]
    sectors = [f"S{k}" for k in range(7)]
    dossiers = [{"id": f"d{i:05d}", "aid": str(Decimal(rng.randint(35_000_000, 500_000_000))
                                                .scaleb(-2)),
                 "score": rng.randint(0, 50) / 10,
                 "groups": {"region": rng.choice(regions), "sector": rng.choice(sectors)}}
                for i in range(count)]
    for k, dossier in enumerate(dossiers[count - floor:]):  # the floor can be met
        dossier["groups"] = {"region": regions[1 + k % 12], "sector": "S6"}
        dossier["score"] = rng.randint(25, 50) / 10
        dossier["aid"] = str(Decimal(rng.randint(35_000_000, 100_000_000)).scaleb(-2))
    budget = Decimal(sum(int(Decimal(d["aid"]).scaleb(2)) for d in dossiers) // 4).scaleb(-2)
    cents = Decimal("0.01")
    # Every cap holds at least the pinned dossier, so that the pin alone never breaks one.
    pinned = Decimal(dossiers[0]["aid"])
    caps = ([{"group": "region", "value": r, "max_aid": str(max(
        (budget * Decimal("0.15")).quantize(cents), pinned))} for r in regions]
            + [{"group": "sector", "value": s, "max_aid": str(max(
                (budget * Decimal("0.3")).quantize(cents), pinned))} for s in sectors])
    return {"budget": str(budget), "min_score": 2.5, "objective": objective, "dossiers": dossiers,
            "caps": caps, "floors": [{"group": "sector", "value": "S6", "min_count": floor}],
            "pinned_in": [dossiers[0]["id"]] if dossiers[0]["score"] >= 2.5 else [],
            "pinned_out": [dossiers[1]["id"]]}


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["score_sum", "score_weighted_aid"]))
def test_solve_wave_never_breaks_budget_caps_floors_or_pins(seed, objective):
    data = _wave(60, seed, objective)
    result = solve_selection(parse_selection_instance(data), time_limit=5)
    assert result.selected is not None
    by_id = {d["id"]: d for d in data["dossiers"]}
    assert _feasible(data, [by_id[i] for i in result.selected])
    assert result.total_aid == sum((Decimal(by_id[i]["aid"]) for i in result.selected),
                                   Decimal(0))
    if result.rank_order.meets_floors:  # then the rank-order line is a feasible selection too
        assert result.objective >= result.rank_order.objective * (1 - 1e-6)


# Documented behaviour of the two objectives ------------------------------------------------------

def test_solve_score_sum_prefers_two_cheap_projects_to_one_expensive():
    instance = _instance([("big", "1000000.00", 5.0, "IDF", "btp"),
                          ("small1", "500000.00", 3.0, "IDF", "btp"),
                          ("small2", "500000.00", 3.0, "NOR", "btp")], "1000000.00")
    result = solve_selection(instance)
    assert (result.selected, result.objective) == (("small1", "small2"), 6.0)
    assert (result.rank_order.selected, result.rank_order.objective) == (("big",), 5.0)


def test_solve_score_weighted_aid_follows_funding_line_on_simple_case():
    instance = _instance([("big", "1000000.00", 5.0, "IDF", "btp"),
                          ("small1", "500000.00", 3.0, "IDF", "btp"),
                          ("small2", "500000.00", 3.0, "NOR", "btp")], "1000000.00",
                         objective="score_weighted_aid")
    result = solve_selection(instance)
    assert result.selected == result.rank_order.selected == ("big",)
    assert result.objective == 5_000_000.0


def test_solve_score_weighted_aid_equal_aids_takes_best_scores_like_funding_line():
    dossiers = [(f"d{k}", "1000000.00", score, "IDF", "btp")
                for k, score in enumerate([3.0, 4.5, 3.5, 4.0, 2.0])]
    result = solve_selection(_instance(dossiers, "3000000.00", objective="score_weighted_aid"))
    assert result.selected == result.rank_order.selected == ("d1", "d3", "d2")


def test_solve_pinned_in_over_budget_is_infeasible_with_reason():
    instance = _instance([("a", "600000.00", 4.0, "IDF", "btp"),
                          ("b", "600000.00", 3.0, "IDF", "btp")], "1000000.00",
                         pinned_in=["a", "b"])
    result = solve_selection(instance)
    assert (result.status, result.selected) == ("infeasible", None)
    assert result.reason == "the pinned dossiers need 1200000.00, more than the budget 1000000.00"


def test_solve_floors_and_caps_together_impossible_reports_highs_infeasible():
    # Each floor alone fits; together they need 3 dossiers, the budget pays for 2.
    instance = _instance([("a", "500000.00", 4.0, "IDF", "btp"),
                          ("b", "500000.00", 3.0, "IDF", "sante"),
                          ("c", "500000.00", 3.0, "NOR", "sante")], "1000000.00",
                         floors=[{"group": "sector", "value": "btp", "min_count": 1},
                                 {"group": "sector", "value": "sante", "min_count": 2}])
    result = solve_selection(instance)
    assert (result.status, result.optimal, result.selected) == ("infeasible", False, None)
    assert result.reason.endswith("(HiGHS: infeasible)")


def test_solve_pinned_out_and_min_score_are_never_selected():
    instance = _instance([("a", "100.00", 4.0, "IDF", "btp"), ("b", "100.00", 2.0, "IDF", "btp"),
                          ("c", "100.00", 3.0, "IDF", "btp")], "1000.00", min_score=2.5,
                         pinned_out=["a"])
    assert solve_selection(instance).selected == ("c",)


# The rank-order funding line --------------------------------------------------------------------

def test_rank_order_hand_example_skips_what_no_longer_fits():
    instance = _instance([
        ("low", "100.00", 2.0, "IDF", "btp"),     # below min_score
        ("out", "100.00", 5.0, "IDF", "btp"),     # pinned out
        ("pin", "300.00", 2.6, "NOR", "sante"),   # pinned in: taken first
        ("top", "500.00", 4.8, "IDF", "btp"),
        ("tie_b", "200.00", 4.0, "IDF", "btp"),   # IDF cap 600: would reach 700
        ("tie_a", "200.00", 4.0, "NOR", "btp"),   # same score and aid: id decides
        ("cheap", "100.00", 4.0, "NOR", "btp"),   # same score, smaller aid: first of the three
        ("dear", "400.00", 3.5, "NOR", "btp"),    # budget 1300: 1100 used, does not fit
        ("last", "100.00", 3.0, "NOR", "btp"),
    ], "1300.00", min_score=2.5, pinned_in=["pin"], pinned_out=["out"],
        caps=[{"group": "region", "value": "IDF", "max_aid": "600.00"}],
        floors=[{"group": "sector", "value": "sante", "min_count": 2}])
    line = rank_order(instance)
    assert line.selected == ("pin", "top", "cheap", "tie_a", "last")
    assert line.skipped == {"tie_b": "cap region=IDF", "dear": "budget"}
    assert line.total_aid == Decimal("1200.00")
    assert line.objective == pytest.approx(2.6 + 4.8 + 4.0 + 4.0 + 3.0)
    assert line.meets_floors is False


# The difference explained -----------------------------------------------------------------------

def test_explain_cap_reached_swaps_one_dear_project_for_two():
    instance = _instance([("a", "900000.00", 4.8, "IDF", "btp"),
                          ("b", "500000.00", 4.5, "IDF", "btp"),
                          ("c", "500000.00", 4.4, "IDF", "btp"),
                          ("d", "600000.00", 3.0, "NOR", "btp")], "2000000.00",
                         caps=[{"group": "region", "value": "IDF", "max_aid": "1000000.00"}])
    result = solve_selection(instance)
    assert result.rank_order.selected == ("a", "d")
    assert result.selected == ("b", "c", "d")
    difference = explain(instance, result.selected, result.rank_order.selected)
    cap_room = {"kind": "cap_room", "group": "region", "value": "IDF", "freed_by": ["a"]}
    cap_reached = {"kind": "cap_reached", "group": "region", "value": "IDF"}
    assert difference == {
        "same": False,
        "enters": [{"id": "b", "score": 4.5, "aid": "500000.00", "reasons": [cap_room]},
                   {"id": "c", "score": 4.4, "aid": "500000.00", "reasons": [cap_room]}],
        "leaves": [{"id": "a", "score": 4.8, "aid": "900000.00", "reasons": [cap_reached]}],
        "pinned_in": [], "pinned_out": [], "below_min_score": [],
        "passed_over": [{"id": "a", "score": 4.8, "aid": "900000.00", "reasons": [cap_reached],
                         "in_rank_order": True}],
        "passed_over_total": 1,
        "rank_inversions": [["a", "d"], ["a", "c"], ["a", "b"]],
        "rank_inversions_total": 3,
    }


def test_explain_budget_one_project_leaves_room_for_two_better_in_total():
    instance = _instance([("big", "1000000.00", 5.0, "IDF", "btp"),
                          ("s1", "500000.00", 3.0, "IDF", "btp"),
                          ("s2", "500000.00", 3.0, "NOR", "btp")], "1000000.00")
    difference = explain(instance, ["s1", "s2"], ["big"])
    assert [e["reasons"] for e in difference["leaves"]] == [
        [{"kind": "budget_swap", "entering": 2, "better_in_total": True}]]
    assert [e["reasons"] for e in difference["enters"]] == [
        [{"kind": "budget_room", "freed_by": ["big"]}]] * 2


def test_explain_floor_brings_in_a_lower_scored_project():
    instance = _instance([("a", "500000.00", 4.0, "IDF", "btp"),
                          ("b", "500000.00", 3.9, "IDF", "btp"),
                          ("h", "500000.00", 2.0, "NOR", "sante")], "1000000.00",
                         floors=[{"group": "sector", "value": "sante", "min_count": 1}])
    result = solve_selection(instance)
    assert (result.selected, result.rank_order.selected) == (("a", "h"), ("a", "b"))
    assert result.rank_order.meets_floors is False
    difference = explain(instance, result.selected, result.rank_order.selected)
    assert [(e["id"], e["reasons"]) for e in difference["enters"]] == [
        ("h", [{"kind": "floor", "group": "sector", "value": "sante", "min_count": 1}])]
    assert difference["leaves"][0]["id"] == "b"
    assert difference["leaves"][0]["reasons"] == [{"kind": "budget_full"}]
    assert difference["rank_inversions"] == [["b", "h"]]


def test_explain_same_lines_passing_over_a_dear_project_says_so_in_both():
    # Both lines skip "dear" (its aid does not fit): the same dossiers, yet rank inversions.
    instance = _instance([("dear", "1100000.00", 4.9, "IDF", "btp"),
                          ("a", "500000.00", 4.0, "IDF", "btp"),
                          ("b", "400000.00", 3.0, "NOR", "btp")], "1000000.00")
    result = solve_selection(instance)
    assert result.selected == result.rank_order.selected == ("a", "b")
    difference = explain(instance, result.selected, result.rank_order.selected)
    assert (difference["same"], difference["enters"], difference["leaves"]) == (True, [], [])
    assert difference["rank_inversions_total"] == 2
    assert difference["passed_over"] == [
        {"id": "dear", "score": 4.9, "aid": "1100000.00", "reasons": [{"kind": "budget_full"}],
         "in_rank_order": False}]


def test_explain_pinned_out_is_named_as_the_committee_decision_not_as_a_reason():
    instance = _instance([("top", "500000.00", 4.9, "IDF", "btp"),
                          ("a", "500000.00", 4.0, "IDF", "btp"),
                          ("b", "400000.00", 3.0, "NOR", "btp"),
                          ("low", "100000.00", 1.0, "NOR", "btp")], "1000000.00",
                         min_score=2.5, pinned_out=["top"], pinned_in=["b"])
    result = solve_selection(instance)
    difference = explain(instance, result.selected, result.rank_order.selected)
    assert difference["pinned_out"] == [{"id": "top", "score": 4.9, "aid": "500000.00"}]
    assert difference["pinned_in"] == [{"id": "b", "score": 3.0, "aid": "400000.00"}]
    assert difference["below_min_score"] == [{"id": "low", "score": 1.0, "aid": "100000.00"}]
    explained = {entry["id"] for part in ("enters", "leaves", "passed_over")
                 for entry in difference[part]}
    assert "top" not in explained
    assert difference["rank_inversions_total"] == 0


def test_solve_impossible_selection_says_why_as_data_and_in_english():
    instance = _instance([("a", "500000.00", 4.0, "IDF", "btp")], "100000.00", pinned_in=["a"])
    result = solve_selection(instance)
    assert result.why == {"kind": "pinned_over_budget", "need": "500000.00",
                          "budget": "100000.00"}
    assert result.reason == "the pinned dossiers need 500000.00, more than the budget 100000.00"


# Gap and time limit -----------------------------------------------------------------------------

def _strongly_correlated(count: int, seed: int) -> dict:
    """A knapsack that branch and bound cannot close: every dossier's score grows with its aid
    (so every one is about as good value as the others), the budget half of the demand. With
    2 000 dossiers HiGHS has not proved the optimum after 60 s (gap 0), so a 1 ms limit stops
    it on any machine."""
    rng = random.Random(seed)
    dossiers = []
    for i in range(count):
        cents = rng.randint(35_000_000, 500_000_000)
        score = min(5.0, round(2.6 + 2.5 * (cents - 35_000_000) / 465_000_000, 1))
        dossiers.append({"id": f"d{i:05d}", "aid": str(Decimal(cents).scaleb(-2)),
                         "score": score, "groups": {"region": "R01", "sector": "S1"}})
    demand = sum(int(Decimal(d["aid"]).scaleb(2)) for d in dossiers)
    return {"budget": str(Decimal(demand // 2 + 1).scaleb(-2)), "min_score": 0,
            "objective": "score_sum", "dossiers": dossiers, "caps": [], "floors": [],
            "pinned_in": [], "pinned_out": []}


def test_solve_time_limit_reached_reports_gap_and_not_optimal():
    data = _strongly_correlated(2000, seed=1)
    result = solve_selection(parse_selection_instance(data), gap=0.0, time_limit=0.001)
    assert (result.status, result.optimal) == ("time_limit", False)
    assert result.selected is not None
    by_id = {d["id"]: d for d in data["dossiers"]}
    assert _feasible(data, [by_id[i] for i in result.selected])
    assert result.upper_bound > result.objective > 0
    assert result.gap == (result.upper_bound - result.objective) / abs(result.objective)
    assert result.gap > 0
    document = selection_result_to_dict(result)
    assert (document["status"], document["optimal"], document["time_limit"]) == (
        "time_limit", False, 0.001)
    assert document["gap"] == result.gap
    assert document["gap_limit"] == 0.0


def test_solve_time_limit_without_any_selection_reports_none():
    # Feasible, but neither the rank-order line nor the same line meeting the floor first is a
    # selection to fall back on, and HiGHS needs about 1.5 s to find one among 20 000 dossiers
    # (a thousand times the limit it gets: what preparing the model left, at least 1 ms).
    data = _wave(20_000, seed=11, floor=4000)
    result = solve_selection(parse_selection_instance(data), time_limit=0.001)
    assert result.rank_order.meets_floors is False
    assert (result.status, result.optimal, result.selected) == ("time_limit", False, None)
    assert (result.objective, result.upper_bound, result.gap) == (None, None, None)
    assert result.reason == ("the time limit (0.001 s) was reached before any selection "
                             "meeting every rule was found")


def test_solve_gap_option_is_reported_and_respected():
    instance = parse_selection_instance(_wave(400, seed=3))
    loose, proven = solve_selection(instance, gap=0.05), solve_selection(instance, gap=0.0)
    assert (loose.gap_limit, proven.gap_limit) == (0.05, 0.0)
    assert (proven.optimal, proven.gap) == (True, 0.0)
    assert loose.optimal
    assert loose.gap <= 0.05 + 1e-12
    assert loose.objective <= proven.objective <= loose.upper_bound + 1e-9


def test_solve_rejects_negative_gap():
    with pytest.raises(ValueError, match="gap"):
        solve_selection(parse_selection_instance(_contract_without_floor()), gap=-1)


# Reading an instance ----------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"budget": 1e6}, "budget"),
    ({"budget": "12.345"}, "budget"),
    ({"objective": "max_jobs"}, "objective"),
    ({"min_score": "high"}, "min_score"),
    ({"pinned_in": ["nobody"]}, "pinned_in[0]"),
    ({"caps": [{"group": "region", "value": "IDF", "max_aid": "-1.00"}]}, "caps[0].max_aid"),
    ({"floors": [{"group": "sector", "value": "x", "min_count": 1.5}]}, "floors[0].min_count"),
    ({"pinned_outt": []}, "pinned_outt"),
])
def test_parse_selection_instance_unreadable_names_field(change, field):
    with pytest.raises(InstanceError) as caught:
        parse_selection_instance({**_contract_without_floor(), **change})
    assert caught.value.field == field


def test_parse_selection_instance_names_dossier_field():
    data = _contract_without_floor()
    data["dossiers"] = [*data["dossiers"], {"id": "d2", "aid": "1.001", "score": 3}]
    with pytest.raises(InstanceError, match=r"^dossiers\[1\]\.aid: at most 2 decimals"):
        parse_selection_instance(data)
    data["dossiers"][1] = {"id": "d1", "aid": "1.00", "score": 3}
    with pytest.raises(InstanceError, match=r"^dossiers\[1\]\.id: duplicate id 'd1'"):
        parse_selection_instance(data)


def test_read_selection_instance_reads_json_numbers_exactly():
    text = json.dumps(_contract_without_floor()).replace('"350000.00"', "350000.10")
    instance = read_selection_instance(text)
    assert instance.dossiers[0].aid == Decimal("350000.10")
    assert instance.dossiers[0].score == 4.2
    with pytest.raises(InstanceError, match=r"dossiers\[0\]\.score: not a finite number"):
        read_selection_instance(text.replace("4.2", "1e400"))


def test_parse_selection_instance_unknown_cap_group_is_noted():
    data = {**_contract_without_floor(),
            "caps": [{"group": "regoin", "value": "IDF", "max_aid": "1.00"}]}
    assert parse_selection_instance(data).notes == ("caps[0]: no dossier has a group 'regoin'",)


# `guichet select` as a user runs it ---------------------------------------------------------------

def _select(tmp_path, document, *options):
    path = tmp_path / "instance.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document),
                    encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    return subprocess.run([str(GUICHET), "select", str(path), *options], cwd=tmp_path,
                          capture_output=True, env=env, timeout=60, check=False)


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_select_solved_exits_zero_with_contract_result(tmp_path):
    done = _select(tmp_path, _contract_without_floor(), "--time-limit", "5", "--gap", "0")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["selected"], result["objective"], result["total_aid"], result["optimal"]) == (
        ["d1"], 4.2, "350000.00", True)
    assert (result["gap_limit"], result["time_limit"]) == (0.0, 5.0)
    assert result["difference"]["enters"] == []
    assert done.stderr == b""


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_select_infeasible_exits_one_with_reason(tmp_path):
    done = _select(tmp_path, CONTRACT_INSTANCE)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert (result["status"], result["selected"]) == ("infeasible", None)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("guichet select: ")
    assert "infeasible: floor sector=sante needs 2 dossiers" in lines[0]


@pytest.mark.parametrize(("document", "expected"), [
    ("{not json", "not valid JSON"),
    (json.dumps({**CONTRACT_INSTANCE, "budget": "1,5"}), "budget: not a decimal amount"),
    (json.dumps({**CONTRACT_INSTANCE, "objective": "max"}), "objective: unknown objective"),
    (json.dumps({**CONTRACT_INSTANCE, "budget": "NaN"}), "budget: not a finite number"),
    (json.dumps(CONTRACT_INSTANCE).replace("4.2", "1e400"),
     "dossiers[0].score: not a finite number"),
    (json.dumps(CONTRACT_INSTANCE).replace('"350000.00"', "[1]"),
     "dossiers[0].aid: expected a decimal amount, got a list"),
])
@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_select_unreadable_exits_two_with_one_line(tmp_path, document, expected):
    done = _select(tmp_path, document)
    assert done.returncode == 2
    assert done.stdout == b""
    stderr = done.stderr.decode()
    assert len(stderr.splitlines()) == 1
    assert expected in stderr
    assert "Traceback" not in stderr


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_select_missing_file_exits_two(tmp_path):
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(GUICHET), "select", "absent.json"], cwd=tmp_path,
                          capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "guichet select: absent.json: cannot read the file (No such file or directory)"]
