"""Expert assignment: give every dossier exactly R distinct experts, maximising the total affinity.

The instance format and the result are those of contracts/optimisation.md (`guichet assign`).
The problem is a transportation problem, solved exactly as a min-cost flow (OR-Tools'
`SimpleMinCostFlow`) on the graph

    source --(capacity R, cost 0)--> dossier --(capacity 1, cost -c_de)--> expert
           --(capacity load_e, cost 0)--> sink

with R × (number of dossiers) units sent from the source to the sink. One arc per allowed
(dossier, expert) pair, capacity 1, so the R experts of a dossier are distinct; the expert's arc
to the sink carries its load. Network-flow LPs have integral optimal vertices (the constraint
matrix is totally unimodular), so the min-cost flow is both the optimal assignment and the
optimum of the LP relaxation: with exact integer costs the proven bound equals the objective.

Everything is vectorised with numpy: no Python loop over the dossier × expert pairs (the listed
pairs are read once when the JSON is parsed). No Django here: `guichet assign` runs without it.
"""

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Annotated

import msgspec
import numpy as np
from ortools.graph.python import min_cost_flow

from guichet.rules.errors import decode_json

# With "allow_unlisted" every non-conflicting dossier × expert pair becomes an arc, and each arc
# costs about 85 bytes at the peak (mostly the solver's own storage): 20 million pairs take about
# 1.7 GB and ten seconds (benchmarks/assignment.py). Larger instances are refused rather than
# exhausting the memory: they should list their candidate pairs instead.
MAX_DENSE_PAIRS = 20_000_000

# Affinities written with at most this many decimals are solved exactly (integer costs).
MAX_EXACT_DECIMALS = 6

# Relative tolerance for `optimal` when the costs had to be rounded (see `_choose_scale`).
OPTIMALITY_TOLERANCE = 1e-9


class InstanceError(ValueError):
    """The instance cannot be read: `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


_Id = Annotated[str, msgspec.Meta(min_length=1)]
_Affinity = Annotated[float, msgspec.Meta(ge=0)]


class _InstanceDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reviews_per_dossier: Annotated[int, msgspec.Meta(ge=1)]
    max_load: Annotated[int, msgspec.Meta(ge=0)]
    dossiers: list[_Id]
    experts: list[_Id]
    affinity: list[tuple[_Id, _Id, _Affinity]]
    conflicts: list[tuple[_Id, _Id]] = []
    allow_unlisted: bool = False
    loads: dict[_Id, int] = {}  # checked by AssignmentInstance, to name the expert


_decoder = msgspec.json.Decoder(_InstanceDocument)


@dataclass(frozen=True, eq=False)
class AssignmentInstance:
    """An assignment instance, with the pairs as index arrays into `dossiers` and `experts`.

    `pair_dossier[i]`, `pair_expert[i]`, `pair_affinity[i]` is the i-th listed pair (a pair listed
    twice keeps its highest affinity); `conflict_dossier[j]`, `conflict_expert[j]` the j-th
    conflict. `loads` holds the experts' personal loads, by id; the others have `max_load`.
    Arrays are converted to int32 / float64 and the whole instance is checked on creation
    (`InstanceError` naming the field).
    """

    reviews_per_dossier: int
    max_load: int
    dossiers: list[str]
    experts: list[str]
    pair_dossier: np.ndarray
    pair_expert: np.ndarray
    pair_affinity: np.ndarray
    conflict_dossier: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    conflict_expert: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    allow_unlisted: bool = False
    loads: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        for name, dtype in (("pair_dossier", np.int32), ("pair_expert", np.int32),
                            ("pair_affinity", np.float64), ("conflict_dossier", np.int32),
                            ("conflict_expert", np.int32)):
            value = np.asarray(getattr(self, name))
            if value.ndim != 1:
                raise InstanceError(name, "expected a one-dimensional array")
            if value.dtype != dtype:
                value = value.astype(dtype)
            object.__setattr__(self, name, value)
        self._check()

    def _check(self) -> None:
        for name in ("reviews_per_dossier", "max_load"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InstanceError(name, "expected an integer")
        if self.reviews_per_dossier < 1:
            raise InstanceError("reviews_per_dossier", "must be at least 1")
        if self.reviews_per_dossier >= 2**31:
            raise InstanceError("reviews_per_dossier", "must be below 2**31")
        if self.max_load < 0:
            raise InstanceError("max_load", "must not be negative")
        for name in ("dossiers", "experts"):
            _check_ids(name, getattr(self, name))
        n_dossiers, n_experts = len(self.dossiers), len(self.experts)
        for field_name, pairs in (("affinity", (self.pair_dossier, self.pair_expert)),
                                  ("conflicts", (self.conflict_dossier, self.conflict_expert))):
            dossier, expert = pairs
            if len(dossier) != len(expert):
                raise InstanceError(field_name, "dossier and expert arrays differ in length")
            _check_range(field_name, dossier, n_dossiers, "dossier")
            _check_range(field_name, expert, n_experts, "expert")
        if len(self.pair_affinity) != len(self.pair_dossier):
            raise InstanceError("affinity", "affinity and pair arrays differ in length")
        bad = np.flatnonzero(~np.isfinite(self.pair_affinity) | (self.pair_affinity < 0))
        if len(bad):
            raise InstanceError(f"affinity[{bad[0]}]",
                                f"{self.pair_affinity[bad[0]]}: expected a finite number >= 0")
        known = set(self.experts)
        for expert, load in self.loads.items():
            if expert not in known:
                raise InstanceError(f"loads.{expert}", "unknown expert")
            if isinstance(load, bool) or not isinstance(load, int) or load < 0:
                raise InstanceError(f"loads.{expert}", "expected an integer >= 0")
        if self.allow_unlisted and n_dossiers * n_experts > MAX_DENSE_PAIRS:
            raise InstanceError(
                "allow_unlisted", f"{n_dossiers} dossiers × {n_experts} experts = "
                f"{n_dossiers * n_experts:,} pairs, more than the {MAX_DENSE_PAIRS:,} that can "
                "be built in memory: list the candidate pairs in affinity instead")

    def expert_capacities(self) -> np.ndarray:
        """Each expert's load (personal or `max_load`), as an int64 array in `experts` order.

        Capped at the number of dossiers, which no expert can exceed (so any load fits int64).
        """
        cap = len(self.dossiers)
        capacities = np.full(len(self.experts), min(self.max_load, cap), dtype=np.int64)
        if self.loads:
            index = {expert: i for i, expert in enumerate(self.experts)}
            capacities[[index[e] for e in self.loads]] = [min(v, cap) for v in self.loads.values()]
        return capacities

    def total_load(self) -> int:
        """The experts' loads added up, exactly."""
        return (self.max_load * (len(self.experts) - len(self.loads))
                + sum(self.loads.values()))


def _check_ids(name: str, ids: list[str]) -> None:
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise InstanceError(name, "expected a list of non-empty strings")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for position, identifier in enumerate(ids):
            if identifier in seen:
                raise InstanceError(f"{name}[{position}]", f"duplicate id {identifier!r}")
            seen.add(identifier)


def _check_range(name: str, indices: np.ndarray, size: int, kind: str) -> None:
    bad = np.flatnonzero((indices < 0) | (indices >= size))
    if len(bad):
        raise InstanceError(f"{name}[{bad[0]}]", f"{kind} index {indices[bad[0]]} out of range")


def parse_assignment_instance(data: bytes | str) -> AssignmentInstance:
    """Read an instance (contracts/optimisation.md) or raise `InstanceError` naming the field."""
    document = decode_json(_decoder, data, InstanceError)
    _check_ids("dossiers", document.dossiers)
    _check_ids("experts", document.experts)
    dossier_index = {d: i for i, d in enumerate(document.dossiers)}
    expert_index = {e: i for i, e in enumerate(document.experts)}
    # One pass over the listed pairs (never over all dossier × expert pairs).
    pair_dossier = _indices(document.affinity, 0, dossier_index, "affinity", "dossier")
    pair_expert = _indices(document.affinity, 1, expert_index, "affinity", "expert")
    affinity = np.fromiter((a for _, _, a in document.affinity), dtype=np.float64,
                           count=len(document.affinity))
    conflict_dossier = _indices(document.conflicts, 0, dossier_index, "conflicts", "dossier")
    conflict_expert = _indices(document.conflicts, 1, expert_index, "conflicts", "expert")
    return AssignmentInstance(
        reviews_per_dossier=document.reviews_per_dossier, max_load=document.max_load,
        dossiers=document.dossiers, experts=document.experts,
        pair_dossier=pair_dossier, pair_expert=pair_expert, pair_affinity=affinity,
        conflict_dossier=conflict_dossier, conflict_expert=conflict_expert,
        allow_unlisted=document.allow_unlisted, loads=document.loads)


def _indices(rows: list[tuple], column: int, index: dict[str, int], name: str,
             kind: str) -> np.ndarray:
    try:
        return np.fromiter((index[row[column]] for row in rows), dtype=np.int32, count=len(rows))
    except KeyError:
        for position, row in enumerate(rows):
            if row[column] not in index:
                raise InstanceError(f"{name}[{position}]",
                                    f"unknown {kind} {row[column]!r}") from None
        raise


@dataclass(frozen=True)
class AssignmentResult:
    """The outcome of `solve_assignment`.

    status: "optimal" (proven), "feasible" (an assignment whose optimality could only be proven
    within the rounding bound, see `_choose_scale`) or "infeasible" (`reason` says why; pairs
    empty, objective and upper_bound None). `exact_costs` tells whether the integer costs given
    to the solver were exactly the affinities times `scale`. `phases` holds the seconds spent
    building the graph, solving and extracting the assignment.
    """

    status: str
    pairs: list[tuple[str, str]]
    objective: float | None
    upper_bound: float | None
    optimal: bool
    seconds: float
    weakest_dossier: tuple[str, float] | None = None
    reason: str | None = None
    scale: float | None = None
    exact_costs: bool = False
    phases: dict[str, float] = field(default_factory=dict)


def solve_assignment(instance: AssignmentInstance) -> AssignmentResult:
    """The assignment maximising the total affinity, or why there is none."""
    start = time.perf_counter()
    phases: dict[str, float] = {}
    reviews = instance.reviews_per_dossier
    n_dossiers = len(instance.dossiers)
    needed = reviews * n_dossiers
    capacities = instance.expert_capacities()

    def infeasible(reason: str) -> AssignmentResult:
        return AssignmentResult(status="infeasible", pairs=[], objective=None, upper_bound=None,
                                optimal=False, seconds=time.perf_counter() - start,
                                reason=reason, phases=phases)

    arcs = _allowed_pairs(instance, capacities)
    reason = _obvious_infeasibility(instance, capacities, *arcs.degrees())
    if reason:
        phases["build"] = time.perf_counter() - start
        return infeasible(reason)
    if n_dossiers == 0:
        phases["build"] = time.perf_counter() - start
        return AssignmentResult(status="optimal", pairs=[], objective=0.0, upper_bound=0.0,
                                optimal=True, seconds=time.perf_counter() - start,
                                scale=1.0, exact_costs=True, phases=phases)
    scale = _choose_scale(arcs.listed_affinity,
                          _cost_budget(n_dossiers + len(instance.experts) + 2))
    solver, n_pairs = _build_solver(instance, arcs, scale.costs(arcs.listed_affinity),
                                    capacities)
    phases["build"] = time.perf_counter() - start

    # A maximum flow of minimum cost: unlike solve(), it also answers when the R × n reviews do
    # not all fit, and then tells how many do (solve() reports INFEASIBLE with no flows to read,
    # and reading them then crashes the process).
    solve_start = time.perf_counter()
    status = solver.solve_max_flow_with_min_cost()
    phases["solve"] = time.perf_counter() - solve_start
    if status != solver.OPTIMAL:
        raise RuntimeError(f"the min-cost flow solver failed ({status.name})")

    extract_start = time.perf_counter()
    chosen = _arcs_with_flow(solver, n_pairs)
    maximum_flow, best_total = solver.maximum_flow(), -solver.optimal_cost()
    if maximum_flow < needed:
        dossier_flow = solver.flows(np.arange(n_pairs, n_pairs + n_dossiers, dtype=np.int32))
        del solver
        reason = _hall_violation(instance, arcs, chosen, dossier_flow, capacities, maximum_flow)
        phases["extract"] = time.perf_counter() - extract_start
        return infeasible(reason)
    del solver  # its memory (about 80 bytes per arc) before the arrays below
    # The keys are sorted by dossier and every dossier has exactly R chosen pairs.
    keys = arcs.keys()[chosen]
    n_experts = len(instance.experts)
    chosen_dossier, chosen_expert = np.divmod(keys, n_experts)
    dossiers, experts = instance.dossiers, instance.experts
    pairs = list(zip([dossiers[i] for i in chosen_dossier.tolist()],
                     [experts[i] for i in chosen_expert.tolist()], strict=True))
    affinity = arcs.affinity_of(keys)
    if scale.exact:  # best_total is the exact optimum, times the scale
        objective = upper_bound = _to_float(Fraction(best_total) / scale.value)
        per_dossier = scale.costs(affinity).reshape(n_dossiers, reviews).sum(axis=1)
        weakest = int(np.argmin(per_dossier))
        weakest_value = _to_float(Fraction(int(per_dossier[weakest])) / scale.value)
    else:
        objective = math.fsum(affinity.tolist())
        upper_bound = _ceil_float((best_total + needed * scale.slack) / scale.value)
        per_dossier = affinity.reshape(n_dossiers, reviews).sum(axis=1)
        weakest = int(np.argmin(per_dossier))
        weakest_value = float(per_dossier[weakest])
    optimal = scale.exact or (
        objective >= upper_bound - OPTIMALITY_TOLERANCE * max(1.0, upper_bound))
    phases["extract"] = time.perf_counter() - extract_start
    return AssignmentResult(
        status="optimal" if optimal else "feasible", pairs=pairs, objective=objective,
        upper_bound=upper_bound, optimal=optimal, seconds=time.perf_counter() - start,
        weakest_dossier=(dossiers[weakest], weakest_value), scale=float(scale.value),
        exact_costs=scale.exact, phases=phases)


@dataclass(frozen=True, eq=False)
class _PairArcs:
    """The assignable (dossier, expert) pairs, as int64 keys dossier × n_experts + expert.

    `listed_keys` (sorted, unique) are the listed pairs that may be assigned, `listed_affinity`
    their affinities. With allow_unlisted, `dense` marks which of all the n_d × n_e pairs may be
    assigned (the unlisted ones at affinity 0): 1 byte per pair, and the keys of the arcs are
    only materialised while the graph is built and after it is solved (`keys()`).
    """

    n_dossiers: int
    n_experts: int
    listed_keys: np.ndarray
    listed_affinity: np.ndarray
    dense: np.ndarray | None

    def keys(self) -> np.ndarray:
        """The keys of the arcs, sorted: arc i of the graph is pair keys()[i]."""
        return self.listed_keys if self.dense is None else np.flatnonzero(self.dense)

    def degrees(self) -> tuple[np.ndarray, np.ndarray]:
        """The number of assignable pairs of each dossier and of each expert."""
        if self.dense is not None:
            grid = self.dense.reshape(self.n_dossiers, self.n_experts)
            return grid.sum(axis=1), grid.sum(axis=0)
        dossier, expert = np.divmod(self.listed_keys, max(self.n_experts, 1))
        return (np.bincount(dossier, minlength=self.n_dossiers),
                np.bincount(expert, minlength=self.n_experts))

    def affinity_of(self, keys: np.ndarray) -> np.ndarray:
        """The affinity of each given pair: its listed affinity, else 0."""
        if len(self.listed_keys) == 0:
            return np.zeros(len(keys), dtype=np.float64)
        position = np.minimum(np.searchsorted(self.listed_keys, keys), len(self.listed_keys) - 1)
        listed = self.listed_keys[position] == keys
        return np.where(listed, self.listed_affinity[position], 0.0)


def _allowed_pairs(instance: AssignmentInstance, capacities: np.ndarray) -> _PairArcs:
    """The listed pairs (a duplicate keeps its highest affinity), plus with allow_unlisted every
    other pair at affinity 0; minus the conflicts and the experts whose load is 0."""
    n_dossiers, n_experts = len(instance.dossiers), len(instance.experts)
    keys = instance.pair_dossier.astype(np.int64) * n_experts + instance.pair_expert
    affinity = instance.pair_affinity
    if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys, affinity = keys[order], affinity[order]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        if len(starts) < len(keys):  # duplicates: keep the highest affinity of each pair
            affinity = np.maximum.reduceat(affinity, starts)
            keys = keys[starts]
    conflict_keys = (instance.conflict_dossier.astype(np.int64) * n_experts
                     + instance.conflict_expert)
    dense = None
    if instance.allow_unlisted:
        # n_dossiers × n_experts booleans (bounded by MAX_DENSE_PAIRS on creation).
        dense = np.tile(capacities > 0, n_dossiers)
        dense[conflict_keys] = False
        keep = dense[keys]
    else:
        keep = capacities[keys % max(n_experts, 1)] > 0
        if len(conflict_keys) and len(keys):
            # keys are sorted: locate each conflict by binary search (vectorised).
            position = np.minimum(np.searchsorted(keys, conflict_keys), len(keys) - 1)
            keep[position[keys[position] == conflict_keys]] = False
    return _PairArcs(n_dossiers, n_experts, keys[keep], affinity[keep], dense)


def _build_solver(instance: AssignmentInstance, arcs: _PairArcs, listed_costs: np.ndarray,
                  capacities: np.ndarray):
    """The flow network, built from numpy arrays in one call; returns (solver, pair arcs).

    Nodes: dossiers 0..n_d-1, experts n_d..n_d+n_e-1, then source and sink. Arcs: the pairs
    first, in key order (arc i is pair arcs.keys()[i]), then source → dossier, then
    expert → sink. The arrays are freed on return: the solver keeps its own copy.
    """
    n_dossiers, n_experts = arcs.n_dossiers, arcs.n_experts
    reviews = instance.reviews_per_dossier
    needed = reviews * n_dossiers
    source, sink = n_dossiers + n_experts, n_dossiers + n_experts + 1
    keys = arcs.keys()
    n_pairs = len(keys)
    n_arcs = n_pairs + n_dossiers + n_experts
    # Written in place into the final arrays: no temporary copies of the 8-byte keys.
    tails = np.empty(n_arcs, dtype=np.int32)
    np.floor_divide(keys, n_experts, out=tails[:n_pairs], casting="unsafe")
    tails[n_pairs:n_pairs + n_dossiers] = source
    tails[n_pairs + n_dossiers:] = np.arange(n_dossiers, n_dossiers + n_experts)
    heads = np.empty(n_arcs, dtype=np.int32)
    # expert = key - dossier × n_experts (faster than a remainder cast to int32)
    np.subtract(keys, tails[:n_pairs].astype(np.int64) * n_experts, out=heads[:n_pairs],
                casting="unsafe")
    heads[:n_pairs] += n_dossiers
    heads[n_pairs:n_pairs + n_dossiers] = np.arange(n_dossiers)
    heads[n_pairs + n_dossiers:] = sink
    arc_capacities = np.empty(n_arcs, dtype=np.int64)
    arc_capacities[:n_pairs] = 1
    arc_capacities[n_pairs:n_pairs + n_dossiers] = reviews
    arc_capacities[n_pairs + n_dossiers:] = capacities
    unit_costs = np.zeros(n_arcs, dtype=np.int64)
    if arcs.dense is None:
        np.negative(listed_costs, out=unit_costs[:n_pairs])
    else:  # the unlisted pairs cost 0
        unit_costs[np.searchsorted(keys, arcs.listed_keys)] = -listed_costs
    del keys
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, arc_capacities, unit_costs)
    solver.set_nodes_supplies(np.array([source, sink], np.int32),
                              np.array([needed, -needed], np.int64))
    return solver, n_pairs


def _arcs_with_flow(solver, n_pairs: int, chunk: int = 1 << 20) -> np.ndarray:
    """The indices of the pair arcs that carry flow (read in chunks, to bound the memory)."""
    parts = [np.zeros(0, dtype=np.int64)]
    for low in range(0, n_pairs, chunk):
        flows = solver.flows(np.arange(low, min(low + chunk, n_pairs), dtype=np.int32))
        parts.append(np.flatnonzero(flows) + low)
    return np.concatenate(parts)


def _obvious_infeasibility(instance: AssignmentInstance, capacities: np.ndarray,
                           dossier_degree: np.ndarray, expert_degree: np.ndarray) -> str | None:
    """A clear reason when a dossier has too few experts or the loads are too small in all."""
    reviews = instance.reviews_per_dossier
    n_dossiers = len(instance.dossiers)
    short = np.flatnonzero(dossier_degree < reviews)
    if len(short):
        first = short[0]
        others = {0: "", 1: " (and 1 other dossier)"}.get(
            len(short) - 1, f" (and {len(short) - 1} other dossiers)")
        return (f"dossier {instance.dossiers[first]!r} has {dossier_degree[first]} eligible "
                f"experts (listed, not in conflict, with a load above 0) but needs "
                f"{reviews}{others}")
    needed = reviews * n_dossiers
    total = instance.total_load()
    if total < needed:
        return (f"the experts' loads add up to {total} reviews but {n_dossiers} dossiers × "
                f"{reviews} reviews = {needed} are needed")
    usable = int(np.minimum(capacities, expert_degree).sum())
    if usable < needed:
        return (f"the experts can take at most {usable} reviews in all (each within its load "
                f"and the dossiers it may review) but {needed} are needed")
    return None


def _hall_violation(instance: AssignmentInstance, arcs: _PairArcs, chosen: np.ndarray,
                    dossier_flow: np.ndarray, capacities: np.ndarray, maximum_flow: int) -> str:
    """Name a set of dossiers whose eligible experts cannot give them enough reviews.

    From a maximum flow, the nodes reachable from the source in the residual graph are a
    minimum cut: dossiers S and experts T such that every pair from S to an expert outside T is
    used (else that expert would be reachable). So S can get at most load(T) + the number of
    pairs from S to experts outside T, which is less than R × |S|: a proof of infeasibility.
    """
    reviews = instance.reviews_per_dossier
    n_dossiers, n_experts = arcs.n_dossiers, arcs.n_experts
    pair_dossier, pair_expert = np.divmod(arcs.keys(), n_experts)
    used = np.zeros(len(pair_dossier), dtype=bool)
    used[chosen] = True
    unused = ~used
    in_s = dossier_flow < reviews
    in_t = np.zeros(n_experts, dtype=bool)
    while True:  # breadth-first search, one vectorised step per layer
        reached_t = np.zeros(n_experts, dtype=bool)
        reached_t[pair_expert[in_s[pair_dossier] & unused]] = True
        reached_s = np.zeros(n_dossiers, dtype=bool)
        reached_s[pair_dossier[(in_t | reached_t)[pair_expert] & used]] = True
        if not (reached_t & ~in_t).any() and not (reached_s & ~in_s).any():
            break
        in_t |= reached_t
        in_s |= reached_s
    need = reviews * int(in_s.sum())
    available = int(capacities[in_t].sum()) + int((in_s[pair_dossier] & ~in_t[pair_expert]).sum())
    needed_total = reviews * n_dossiers
    if available >= need:  # not expected: fall back on the count alone
        return (f"at most {maximum_flow} of the {needed_total} reviews fit within the experts' "
                "loads and the allowed pairs")
    count = int(in_s.sum())
    names = [instance.dossiers[i] for i in np.flatnonzero(in_s)[:5].tolist()]
    fits = f"(at most {maximum_flow} of the {needed_total} reviews can be assigned)"
    if count == 1:
        return (f"dossier {names[0]!r} needs {need} reviews but its eligible experts can give "
                f"it at most {available} within their loads {fits}")
    listed = ", ".join(repr(name) for name in names) + (", …" if count > 5 else "")
    return (f"the {count} dossiers {listed} need {need} reviews between them but their "
            f"eligible experts can give them at most {available} within their loads {fits}")


def _cost_budget(n_nodes: int) -> int:
    """The largest integer cost magnitude that is safe in int64 for this graph.

    OR-Tools multiplies the costs by (n_nodes + 1) internally, and the total cost is at most
    (R × n_dossiers ≤ n_dossiers × n_experts ≤ n_nodes²/4) × the largest cost: both stay below
    2**62 when every cost is at most 2**62 / (n_nodes + 2)².
    """
    return 2**62 // (n_nodes + 2) ** 2


@dataclass(frozen=True)
class _Scale:
    """Integer costs are round(affinity × value): 10**decimals, or 2**exponent."""

    value: Fraction
    exact: bool  # every cost is exactly affinity × value
    slack: Fraction  # the largest affinity × value − cost over the pairs (0 when exact)
    decimals: int | None = None
    exponent: int = 0

    def costs(self, affinity: np.ndarray) -> np.ndarray:
        if self.decimals is not None:
            return np.rint(affinity * 10.0**self.decimals).astype(np.int64)
        return np.rint(np.ldexp(affinity, self.exponent)).astype(np.int64)


def _choose_scale(affinity: np.ndarray, budget: int) -> _Scale:
    """The scale of the integer costs c = round(a × scale) given to the solver.

    The solver needs integer costs. Rounding could change the optimum only if two assignments
    differed by less than the accumulated rounding error, and for arbitrary floats that gap is
    unknown. So:
    1. if every affinity is a decimal with at most 6 digits after the point (checked exactly:
       round(a × 10**k) / 10**k == a, with costs below 2**53 so the numerator is unique), the
       scale is 10**k and the costs are the exact decimals: the integer optimum *is* the
       optimum, objective == upper_bound and optimal is true;
    2. otherwise the scale is the largest power of two within the int64 budget: a × 2**p is
       computed without error, and if it is an integer for every pair (floats with few
       significant bits) the costs are exact too;
    3. otherwise the costs are rounded. With δ = a × scale − c ≤ slack (slack ≤ 1/2, the largest
       δ over the pairs), any assignment of N = R × n_dossiers pairs has scale × its affinity ≤
       its integer cost + N × slack ≤ C* + N × slack, C* being the solver's integer optimum. So
       upper_bound = (C* + N × slack) / scale is a proven bound on the true optimum, the
       objective is the exact float sum of the chosen affinities, and `optimal` is true only
       when the objective reaches that bound within a relative 1e-9 (the gap is at most
       N / scale, tiny but not zero; beyond that tolerance the status is honestly "feasible").
    Unlisted pairs (allow_unlisted) have affinity 0, exact at any scale: only the listed
    affinities are given here.
    """
    if len(affinity) == 0:
        return _Scale(Fraction(1), exact=True, slack=Fraction(0), decimals=0)
    largest = float(affinity.max())
    exact_limit = min(budget, 2**53)
    for digits in range(MAX_EXACT_DECIMALS + 1):
        factor = 10.0**digits
        if largest * factor >= exact_limit:
            break
        if np.array_equal(np.rint(affinity * factor) / factor, affinity):
            return _Scale(Fraction(10**digits), exact=True, slack=Fraction(0), decimals=digits)
    # largest < 2**e, so largest × 2**(bits - 1 - e) < 2**(bits - 1) <= budget.
    # (At most 2**1000, so that the scale itself stays a float, even for subnormal affinities.)
    exponent = min(budget.bit_length() - 1 - math.frexp(largest)[1], 1000)
    while math.ldexp(largest, exponent) + 1 > budget:  # room for rounding up
        exponent -= 1
    scaled = np.ldexp(affinity, exponent)  # exact: a power of two
    rounding = scaled - np.rint(scaled)  # exact too
    slack = max(Fraction(float(rounding.max())), Fraction(0))
    return _Scale(Fraction(2) ** exponent, exact=not rounding.any(), slack=slack,
                  exponent=exponent)


def _to_float(value: Fraction) -> float:
    return value.numerator / value.denominator  # correctly rounded


def _ceil_float(value: Fraction) -> float:
    """The smallest float >= value (so a bound stays a bound)."""
    result = _to_float(value)
    return result if Fraction(result) >= value else math.nextafter(result, math.inf)


def assignment_result_to_dict(result: AssignmentResult) -> dict:
    """The result as in contracts/optimisation.md, with "status" and "weakest_dossier"."""
    if result.status == "infeasible":
        return {"status": "infeasible", "reason": result.reason}
    weakest = None
    if result.weakest_dossier is not None:
        weakest = {"dossier": result.weakest_dossier[0], "affinity": result.weakest_dossier[1]}
    return {
        "status": result.status,
        "assignment": [[dossier, expert] for dossier, expert in result.pairs],
        "objective": result.objective,
        "upper_bound": result.upper_bound,
        "optimal": result.optimal,
        "seconds": round(result.seconds, 3),
        "weakest_dossier": weakest,
    }
