"""Expert assignment (contracts/optimisation.md): a min-cost flow, checked by brute force."""

import itertools
import json
import math
import re
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.rules.assignment import (
    MAX_DENSE_PAIRS,
    AssignmentInstance,
    InstanceError,
    assignment_result_to_dict,
    parse_assignment_instance,
    solve_assignment,
)

GUICHET = Path(sys.executable).with_name("guichet")

CONTRACT_INSTANCE = {
    "reviews_per_dossier": 3,
    "max_load": 8,
    "dossiers": ["d1", "d2"],
    "experts": ["e1", "e2", "e3", "e4"],
    "affinity": [["d1", "e1", 0.83], ["d1", "e2", 0.10]],
    "conflicts": [["d2", "e1"]],
}


def _parse(document: dict) -> AssignmentInstance:
    return parse_assignment_instance(json.dumps(document))


def _solve(document: dict):
    return solve_assignment(_parse(document))


def _instance(reviews, max_load, dossiers, experts, affinity, conflicts=(), **extra) -> dict:
    return {"reviews_per_dossier": reviews, "max_load": max_load, "dossiers": list(dossiers),
            "experts": list(experts), "affinity": [list(t) for t in affinity],
            "conflicts": [list(c) for c in conflicts], **extra}


def _allowed(document: dict) -> dict[tuple[str, str], float]:
    """The assignable pairs and their affinity, straight from the contract's wording."""
    conflicts = {tuple(c) for c in document.get("conflicts", [])}
    loads = {e: document.get("loads", {}).get(e, document["max_load"])
             for e in document["experts"]}
    allowed: dict[tuple[str, str], float] = {}
    if document.get("allow_unlisted"):
        for d, e in itertools.product(document["dossiers"], document["experts"]):
            allowed[(d, e)] = 0.0
    for d, e, a in document["affinity"]:
        allowed[(d, e)] = max(a, allowed.get((d, e), a))
    return {p: a for p, a in allowed.items() if p not in conflicts and loads[p[1]] > 0}


def _brute_force(document: dict) -> float | None:
    """The best total affinity by enumerating every assignment, or None when there is none."""
    allowed = _allowed(document)
    reviews = document["reviews_per_dossier"]
    loads = {e: document.get("loads", {}).get(e, document["max_load"])
             for e in document["experts"]}
    choices = [[c for c in itertools.combinations(document["experts"], reviews)
                if all((d, e) in allowed for e in c)] for d in document["dossiers"]]
    best = None
    for combination in itertools.product(*choices):
        used = Counter(e for chosen in combination for e in chosen)
        if any(count > loads[e] for e, count in used.items()):
            continue
        total = math.fsum(allowed[(d, e)] for d, chosen in zip(document["dossiers"], combination,
                                                               strict=True) for e in chosen)
        best = total if best is None else max(best, total)
    return best


def _assert_valid(document: dict, result) -> None:
    """Exactly R distinct allowed experts per dossier, loads respected, no conflict."""
    allowed = _allowed(document)
    reviews = document["reviews_per_dossier"]
    assert len(set(result.pairs)) == len(result.pairs)
    assert Counter(d for d, _ in result.pairs) == {d: reviews for d in document["dossiers"]}
    for pair in result.pairs:
        assert pair in allowed
        assert list(pair) not in document.get("conflicts", [])
    for expert, count in Counter(e for _, e in result.pairs).items():
        assert count <= document.get("loads", {}).get(expert, document["max_load"])
    objective = math.fsum(allowed[p] for p in result.pairs)
    assert result.objective == pytest.approx(objective, rel=1e-12, abs=1e-12)
    assert result.upper_bound >= result.objective


# --- the contract ----------------------------------------------------------------------------


def test_solve_contract_example_infeasible_names_dossier():
    result = _solve(CONTRACT_INSTANCE)
    assert result.status == "infeasible"
    assert result.reason.startswith("dossier 'd1' has 2 eligible experts")
    assert "needs 3" in result.reason
    assert assignment_result_to_dict(result) == {"status": "infeasible", "reason": result.reason}


def test_solve_contract_example_allow_unlisted_completes_with_zero_affinity():
    document = {**CONTRACT_INSTANCE, "allow_unlisted": True}
    result = _solve(document)
    assert result.status == "optimal"
    assert result.optimal
    assert {("d1", "e1"), ("d1", "e2")} <= set(result.pairs)
    assert ("d2", "e1") not in result.pairs
    assert (result.objective, result.upper_bound) == (0.93, 0.93)
    assert result.weakest_dossier == ("d2", 0.0)
    _assert_valid(document, result)


def test_result_to_dict_contract_keys():
    document = _instance(1, 8, ["d1", "d2"], ["e1", "e2"],
                         [("d1", "e1", 0.83), ("d1", "e2", 0.10), ("d2", "e2", 0.5)])
    result = _solve(document)
    output = assignment_result_to_dict(result)
    assert output["assignment"] == [["d1", "e1"], ["d2", "e2"]]
    assert (output["objective"], output["upper_bound"], output["optimal"]) == (1.33, 1.33, True)
    assert output["status"] == "optimal"
    assert output["weakest_dossier"] == {"dossier": "d2", "affinity": 0.5}
    assert isinstance(output["seconds"], float)
    json.dumps(output)  # plain JSON types only


def test_solve_no_dossiers_empty_optimal_assignment():
    result = _solve(_instance(2, 1, [], ["e1"], []))
    assert (result.status, result.pairs, result.objective, result.optimal) == (
        "optimal", [], 0.0, True)
    assert result.weakest_dossier is None


# --- infeasibility -----------------------------------------------------------------------------


def test_solve_dossier_with_too_few_experts_infeasible_names_first():
    document = _instance(2, 5, ["d1", "d2", "d3"], ["e1", "e2", "e3"],
                         [("d1", "e1", 1), ("d1", "e2", 1), ("d2", "e1", 1), ("d2", "e3", 1),
                          ("d3", "e2", 1), ("d3", "e3", 1)],
                         conflicts=[("d2", "e3")])
    result = _solve(document)
    assert result.status == "infeasible"
    assert result.reason.startswith("dossier 'd2' has 1 eligible experts")
    assert result.pairs == []
    assert result.objective is None


def test_solve_zero_load_expert_not_eligible():
    document = _instance(2, 3, ["d1"], ["e1", "e2", "e3"],
                         [("d1", "e1", 1), ("d1", "e2", 0.9), ("d1", "e3", 0.1)],
                         loads={"e1": 0})
    result = _solve(document)
    assert result.pairs == [("d1", "e2"), ("d1", "e3")]
    document["loads"]["e3"] = 0
    assert "has 1 eligible experts" in _solve(document).reason


def test_solve_total_load_too_small_infeasible():
    experts = ["e1", "e2", "e3"]
    dossiers = ["d1", "d2", "d3", "d4"]
    document = _instance(2, 2, dossiers, experts,
                         [(d, e, 0.5) for d in dossiers for e in experts])
    result = _solve(document)
    assert result.status == "infeasible"
    assert result.reason == ("the experts' loads add up to 6 reviews but 4 dossiers × 2 reviews "
                             "= 8 are needed")


def test_solve_loads_enough_in_total_but_not_locally_infeasible_names_dossiers():
    # d1 and d2 may only be reviewed by e1, e2, e3 (load 1 each): 3 reviews for the 4 they need,
    # although the loads add up to 6 = 3 dossiers × 2 reviews.
    document = _instance(2, 1, ["d1", "d2", "d3"], ["e1", "e2", "e3", "e4", "e5", "e6"],
                         [("d1", "e1", 1), ("d1", "e2", 1), ("d1", "e3", 1),
                          ("d2", "e1", 1), ("d2", "e2", 1), ("d2", "e3", 1),
                          ("d3", "e4", 1), ("d3", "e5", 1), ("d3", "e6", 1)])
    result = _solve(document)
    assert result.status == "infeasible"
    assert result.reason.startswith("the 2 dossiers 'd1', 'd2' need 4 reviews between them but "
                                    "their eligible experts can give them at most 3")
    assert "at most 5 of the 6 reviews" in result.reason


# --- optimality, scaling -------------------------------------------------------------------


def test_solve_duplicate_pair_keeps_highest_affinity():
    document = _instance(1, 1, ["d1", "d2"], ["e1", "e2"],
                         [("d1", "e1", 0.2), ("d2", "e1", 0.5), ("d1", "e1", 0.9),
                          ("d1", "e2", 0.1), ("d2", "e2", 0.4)])
    result = _solve(document)
    assert result.pairs == [("d1", "e1"), ("d2", "e2")]
    assert result.objective == 1.3


def test_solve_three_decimals_exact_objective_equals_bound():
    rng = np.random.default_rng(7)
    dossiers = [f"d{i}" for i in range(40)]
    experts = [f"e{i}" for i in range(25)]
    affinity = [(d, e, round(float(rng.random()), 3)) for d in dossiers for e in experts
                if rng.random() < 0.4]
    document = _instance(3, 6, dossiers, experts, affinity)
    result = _solve(document)
    assert result.exact_costs
    assert result.scale == 1000
    assert result.status == "optimal"
    assert result.optimal
    assert result.objective == result.upper_bound
    chosen = {(d, e): a for d, e, a in affinity}
    exact_sum = sum(Fraction(str(chosen[p])) for p in result.pairs)
    assert result.objective == float(exact_sum)  # the decimals' sum, correctly rounded
    _assert_valid(document, result)


def test_solve_irrational_looking_floats_match_brute_force():
    dossiers, experts = ["d1", "d2", "d3"], ["e1", "e2", "e3", "e4"]
    values = [1 / 3, 2 / 3, 1 / 70, 0.1, 5 / 7, math.pi / 40, 0.1 + 1e-13, 0.2, 3 / 7, 0.3,
              1 / 11, 0.7]
    affinity = [(d, e, values[4 * i + j])
                for i, d in enumerate(dossiers) for j, e in enumerate(experts)]
    document = _instance(2, 2, dossiers, experts, affinity)
    result = _solve(document)
    assert not result.exact_costs  # 1/70 × 2**p is no integer: costs rounded
    assert result.objective == pytest.approx(_brute_force(document), abs=1e-9)
    assert result.upper_bound >= result.objective
    # At most N × 1/2 / scale apart (N = 6 pairs), give or take the floats' last digit.
    assert result.upper_bound - result.objective <= 3 / result.scale + math.ulp(result.objective)
    assert result.optimal
    _assert_valid(document, result)


def test_solve_few_significant_bits_exact_with_power_of_two_scale():
    document = _instance(1, 1, ["d1", "d2"], ["e1", "e2"],
                         [("d1", "e1", 1 / 3), ("d1", "e2", 0.125), ("d2", "e1", 0.25),
                          ("d2", "e2", 1 / 3)])
    result = _solve(document)
    assert result.exact_costs
    assert math.log2(result.scale).is_integer()
    assert result.objective == result.upper_bound == 1 / 3 + 1 / 3
    assert result.pairs == [("d1", "e1"), ("d2", "e2")]


def test_solve_large_affinities_stay_within_int64():
    document = _instance(1, 1, ["d1", "d2"], ["e1", "e2"],
                         [("d1", "e1", 1e300), ("d1", "e2", 3e299), ("d2", "e1", 2e299),
                          ("d2", "e2", 1e-300)])
    result = _solve(document)
    assert result.pairs == [("d1", "e1"), ("d2", "e2")]
    assert result.upper_bound >= result.objective


def test_solve_huge_loads_no_overflow():
    huge = 2**63 - 1
    document = _instance(2, huge, ["d1", "d2"], ["e1", "e2"],
                         [("d1", "e1", 1), ("d1", "e2", 1), ("d2", "e1", 1), ("d2", "e2", 0.5)],
                         loads={"e2": huge})
    result = _solve(document)
    assert result.status == "optimal"
    assert result.objective == 3.5


affinity_values = st.one_of(
    st.integers(0, 1000).map(lambda n: n / 1000),
    st.fractions(0, 1, max_denominator=13).map(float),
    st.floats(0, 10, allow_nan=False, allow_infinity=False),
)


@st.composite
def small_instances(draw) -> dict:
    n_dossiers = draw(st.integers(1, 4))
    n_experts = draw(st.integers(1, 5))
    dossiers = [f"d{i}" for i in range(n_dossiers)]
    experts = [f"e{i}" for i in range(n_experts)]
    pairs = list(itertools.product(dossiers, experts))
    listed = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    affinity = [(d, e, draw(affinity_values)) for d, e in listed]
    conflicts = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3))
    loads = draw(st.dictionaries(st.sampled_from(experts), st.integers(0, 3), max_size=2))
    return _instance(draw(st.integers(1, 2)), draw(st.integers(1, 3)), dossiers, experts,
                     affinity, conflicts, loads=loads, allow_unlisted=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=small_instances())
def test_solve_random_small_instances_match_brute_force(document):
    best = _brute_force(document)
    result = _solve(document)
    if best is None:
        assert result.status == "infeasible"
        assert result.reason
        return
    assert result.status in ("optimal", "feasible")
    _assert_valid(document, result)
    assert result.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert result.upper_bound >= best - 1e-9 * max(1, best)  # a proven bound on the optimum
    assert result.optimal == (result.status == "optimal")
    if result.exact_costs:
        assert result.optimal
        assert result.objective == result.upper_bound


@st.composite
def medium_instances(draw) -> dict:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_dossiers, n_experts = int(rng.integers(5, 60)), int(rng.integers(8, 30))
    dossiers = [f"d{i}" for i in range(n_dossiers)]
    experts = [f"e{i}" for i in range(n_experts)]
    mask = rng.random((n_dossiers, n_experts)) < 0.6
    affinity = [(dossiers[i], experts[j], round(float(rng.random()), 2))
                for i, j in zip(*np.nonzero(mask), strict=True)]
    conflicts = [(d, e) for d, e, _ in affinity if rng.random() < 0.1]
    loads = {e: int(rng.integers(0, 12)) for e in experts if rng.random() < 0.3}
    return _instance(int(rng.integers(1, 4)), int(rng.integers(3, 12)), dossiers, experts,
                     affinity, conflicts, loads=loads)


@settings(max_examples=40, deadline=None)
@given(document=medium_instances())
def test_solve_random_instances_respect_reviews_loads_conflicts(document):
    result = _solve(document)
    if result.status == "infeasible":
        assert result.reason
        return
    assert result.status == "optimal"
    assert result.exact_costs
    _assert_valid(document, result)
    sums = Counter()
    for d, e in result.pairs:
        sums[d] += _allowed(document)[(d, e)]
    weakest, value = result.weakest_dossier
    assert value == pytest.approx(min(sums.values()))
    assert sums[weakest] == pytest.approx(value)


def test_solve_weakest_dossier_reported():
    document = _instance(2, 2, ["d1", "d2"], ["e1", "e2", "e3"],
                         [("d1", "e1", 0.9), ("d1", "e2", 0.8), ("d1", "e3", 0.1),
                          ("d2", "e1", 0.3), ("d2", "e2", 0.2), ("d2", "e3", 0.25)])
    result = _solve(document)
    assert result.weakest_dossier == ("d2", 0.55)


def test_solve_many_listed_pairs_builds_arcs_vectorised():
    rng = np.random.default_rng(3)
    n_dossiers, n_experts, per = 2000, 1000, 40
    pair_dossier = np.repeat(np.arange(n_dossiers), per)
    pair_expert = rng.integers(0, n_experts, n_dossiers * per)
    instance = AssignmentInstance(
        reviews_per_dossier=3, max_load=8,
        dossiers=[f"d{i}" for i in range(n_dossiers)],
        experts=[f"e{i}" for i in range(n_experts)],
        pair_dossier=pair_dossier, pair_expert=pair_expert,
        pair_affinity=np.round(rng.random(n_dossiers * per), 2),
        conflict_dossier=pair_dossier[::100], conflict_expert=pair_expert[::100])
    result = solve_assignment(instance)
    assert result.status == "optimal"
    assert result.objective == result.upper_bound
    assert len(result.pairs) == 3 * n_dossiers
    assert max(Counter(e for _, e in result.pairs).values()) <= 8
    conflicts = {(f"d{d}", f"e{e}") for d, e in zip(pair_dossier[::100], pair_expert[::100],
                                                    strict=True)}
    assert not conflicts & set(result.pairs)
    assert result.seconds < 10


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "not valid JSON"),
        ({**CONTRACT_INSTANCE, "reviews_per_dossier": 0},
         "reviews_per_dossier: Expected `int` >= 1"),
        ({**CONTRACT_INSTANCE, "max_load": "8"}, "max_load: Expected `int`, got `str`"),
        ({**CONTRACT_INSTANCE, "dossiers": ["d1", "d1"]}, "dossiers[1]: duplicate id 'd1'"),
        ({**CONTRACT_INSTANCE, "affinity": [["d1", "e1", 0.5], ["d9", "e1", 0.5]]},
         "affinity[1]: unknown dossier 'd9'"),
        ({**CONTRACT_INSTANCE, "affinity": [["d1", "x", 0.5]]}, "affinity[0]: unknown expert 'x'"),
        ({**CONTRACT_INSTANCE, "affinity": [["d1", "e1", -0.5]]},
         "affinity[0][2]: Expected `float` >= 0.0"),
        ({**CONTRACT_INSTANCE, "affinity": [["d1", "e1"]]},
         "affinity[0]: Expected `array` of length 3"),
        ({**CONTRACT_INSTANCE, "conflicts": [["d3", "e1"]]}, "conflicts[0]: unknown dossier 'd3'"),
        ({**CONTRACT_INSTANCE, "loads": {"e9": 2}}, "loads.e9: unknown expert"),
        ({**CONTRACT_INSTANCE, "loads": {"e1": -2}}, "loads.e1: expected an integer >= 0"),
        ({**CONTRACT_INSTANCE, "max_loads": 2}, "max_loads: unknown field"),
        ({**CONTRACT_INSTANCE, "reviews_per_dossier": 2**31},
         "reviews_per_dossier: must be below 2**31"),
    ],
)
def test_parse_unreadable_instance_names_field(document, message):
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(InstanceError, match="^" + re.escape(message)):
        parse_assignment_instance(text)


def test_parse_invalid_utf8_refused_with_offset():
    text = json.dumps(CONTRACT_INSTANCE).replace('"d1"', '"d\\u00e9"', 1).encode()
    bad = text.replace(b"\\u00e9", b"\xff", 1)
    with pytest.raises(InstanceError, match=r"^not valid UTF-8 \(byte 0xff at offset \d+\)$"):
        parse_assignment_instance(bad)


def test_parse_huge_number_refused():
    text = json.dumps(CONTRACT_INSTANCE).replace("0.83", "1e400")
    with pytest.raises(InstanceError, match=r"affinity\[0\]\[2\]"):
        parse_assignment_instance(text)


def test_instance_non_finite_affinity_refused():
    with pytest.raises(InstanceError, match=r"^affinity\[1\]: inf"):
        AssignmentInstance(reviews_per_dossier=1, max_load=1, dossiers=["d1"], experts=["e1"],
                           pair_dossier=[0, 0], pair_expert=[0, 0], pair_affinity=[0.5, np.inf])


def test_instance_allow_unlisted_too_many_pairs_refused():
    experts = [f"e{i}" for i in range(MAX_DENSE_PAIRS // 1000 + 1)]
    document = _instance(1, 1, [f"d{i}" for i in range(1000)], experts, [], allow_unlisted=True)
    with pytest.raises(InstanceError, match=r"^allow_unlisted: .* more than the 20,000,000"):
        _parse(document)


# --- `guichet assign` --------------------------------------------------------------------------


def _assign(tmp_path, *args, stdin: bytes | None = None):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    return subprocess.run([str(GUICHET), "assign", *args], cwd=tmp_path, input=stdin,
                          capture_output=True, env=env, timeout=60, check=False)


def _write(tmp_path, document) -> str:
    path = tmp_path / "instance.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document),
                    encoding="utf-8")
    return path.name


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_assign_solved_exits_zero_with_result(tmp_path):
    done = _assign(tmp_path, _write(tmp_path, {**CONTRACT_INSTANCE, "allow_unlisted": True}))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    result = json.loads(done.stdout)
    assert (result["objective"], result["upper_bound"], result["optimal"]) == (0.93, 0.93, True)
    assert len(result["assignment"]) == 6
    assert result["weakest_dossier"] == {"dossier": "d2", "affinity": 0.0}


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_assign_stdin_accepted(tmp_path):
    document = {**CONTRACT_INSTANCE, "allow_unlisted": True}
    done = _assign(tmp_path, "-", stdin=json.dumps(document).encode())
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    result = json.loads(done.stdout)
    assert (result["objective"], result["upper_bound"], result["optimal"]) == (0.93, 0.93, True)
    assert len(result["assignment"]) == 6
    assert result["weakest_dossier"] == {"dossier": "d2", "affinity": 0.0}
    from_file = json.loads(_assign(tmp_path, _write(tmp_path, document)).stdout)
    assert {k: v for k, v in result.items() if k != "seconds"} == {
        k: v for k, v in from_file.items() if k != "seconds"}


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_assign_infeasible_exits_one_with_reason(tmp_path):
    done = _assign(tmp_path, _write(tmp_path, CONTRACT_INSTANCE))
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "infeasible"
    assert "'d1'" in result["reason"]
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("guichet assign: instance.json: infeasible: dossier 'd1'")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("not json", "guichet assign: instance.json: not valid JSON"),
        ({**CONTRACT_INSTANCE, "experts": "e1"}, "guichet assign: instance.json: experts: "),
    ],
)
@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_assign_unreadable_exits_two_one_line(tmp_path, document, expected):
    done = _assign(tmp_path, _write(tmp_path, document))
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)
    assert b"Traceback" not in done.stderr


@pytest.mark.integration  # `guichet` in a process of its own
def test_cli_assign_missing_file_exits_two(tmp_path):
    done = _assign(tmp_path, "absent.json")
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "guichet assign: absent.json: cannot read the file (No such file or directory)"]


# --- an instance built in code is checked like one read from JSON -----------------------------


def _direct(**changes) -> AssignmentInstance:
    fields = {"reviews_per_dossier": 1, "max_load": 2, "dossiers": ["d1", "d2"],
              "experts": ["e1", "e2"], "pair_dossier": [0, 1], "pair_expert": [0, 1],
              "pair_affinity": [0.5, 0.25], **changes}
    return AssignmentInstance(**fields)


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"reviews_per_dossier": True}, "reviews_per_dossier", "expected an integer"),
    ({"max_load": 1.0}, "max_load", "expected an integer"),
    ({"reviews_per_dossier": 0}, "reviews_per_dossier", "must be at least 1"),
    ({"reviews_per_dossier": 2**31}, "reviews_per_dossier", "must be below 2**31"),
    ({"max_load": -1}, "max_load", "must not be negative"),
    ({"dossiers": ["d1", ""]}, "dossiers", "expected a list of non-empty strings"),
    ({"experts": ("e1", "e2")}, "experts", "expected a list of non-empty strings"),
    ({"experts": ["e1", "e1"]}, "experts[1]", "duplicate id 'e1'"),
    ({"pair_expert": [0]}, "affinity", "dossier and expert arrays differ in length"),
    ({"pair_dossier": [0, 2]}, "affinity[1]", "dossier index 2 out of range"),
    ({"pair_expert": [-1, 1]}, "affinity[0]", "expert index -1 out of range"),
    ({"conflict_dossier": [1], "conflict_expert": [2]}, "conflicts[0]",
     "expert index 2 out of range"),
    ({"conflict_dossier": [0, 1], "conflict_expert": [1]}, "conflicts",
     "dossier and expert arrays differ in length"),
    ({"pair_affinity": [0.5]}, "affinity", "affinity and pair arrays differ in length"),
    ({"pair_dossier": [[0, 1]]}, "pair_dossier", "expected a one-dimensional array"),
    ({"loads": {"e3": 1}}, "loads.e3", "unknown expert"),
    ({"loads": {"e1": 1.5}}, "loads.e1", "expected an integer >= 0"),
    ({"loads": {"e1": -1}}, "loads.e1", "expected an integer >= 0"),
])
def test_instance_built_in_code_refused_naming_field(changes, field, reason):
    with pytest.raises(InstanceError) as refused:
        _direct(**changes)
    assert (refused.value.field, refused.value.reason) == (field, reason)
    assert str(refused.value) == f"{field}: {reason}"


@pytest.mark.parametrize("changes", [
    {"max_load": 0}, {"pair_dossier": [1, 1]}, {"loads": {"e1": 0}},
    {"reviews_per_dossier": 2**31 - 1},
])
def test_instance_built_in_code_at_its_limits_accepted(changes):
    instance = _direct(**changes)
    assert instance.pair_dossier.dtype == np.int32
    assert instance.pair_affinity.dtype == np.float64


def test_instance_total_load_counts_personal_loads():
    instance = _direct(max_load=3, experts=["e1", "e2", "e3"], loads={"e2": 1})
    assert instance.total_load() == 3 + 1 + 3
    assert instance.expert_capacities().tolist() == [2, 1, 2]  # no more than the 2 dossiers
    assert instance.expert_capacities().dtype == np.int64
