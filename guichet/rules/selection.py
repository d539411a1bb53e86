"""Portfolio selection: which dossiers to fund (contracts/optimisation.md, "Portfolio selection").

Pure Python plus HiGHS (highspy) and numpy; no Django import, so `guichet select` runs on a file.

The model has one binary variable per eligible dossier (score ≥ min_score, not pinned out), fixed
to 1 when the dossier is pinned in, and three kinds of rows: the budget, one row per cap (sum of
the aid in a group value) and one row per floor (count in a group value). Amounts enter HiGHS as
whole numbers of cents held in doubles, which is exact up to 2^53 cents (about 90 000 billion
euros, far above `money.MAX_AMOUNT`); the selection HiGHS returns is then checked again exactly
with `Decimal` (budget, caps, floors, pins, threshold) before it is reported. HiGHS accepts a
selection within its feasibility tolerance (set here to 1e-9), so in principle a rounded
selection could exceed a limit by a fraction of a cent: the exact check would then report it
(status "tolerance_violation") instead of hiding it. It has not been seen to happen.

`optimal` is true only when HiGHS certifies the selection (model status kOptimal) within the
requested relative gap (`mip_rel_gap`, 1e-6 by default; 0 asks for a proof of optimality). When
the time limit stops HiGHS first, the best selection found is reported with status "time_limit",
`optimal` false and the gap it reached.

The rank-order funding line (best score first, ties: smaller aid, then id) is computed for
comparison; `explain` says, as data, why dossiers enter or leave between the two.
"""

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import highspy
import numpy as np

from guichet.rules.money import AmountError, exact_cents

OBJECTIVES = ("score_sum", "score_weighted_aid")
DEFAULT_GAP = 1e-6
DEFAULT_TIME_LIMIT = 60.0
# Feasibility tolerance given to HiGHS (absolute, on rows expressed in cents and on integrality).
FEASIBILITY_TOLERANCE = 1e-9
# Differences between HiGHS's bound and the exact objective below this (relative) are float noise.
NOISE = 1e-12
TINY = 1e-9
RANK_ORDER_NOTE = ("rank-order line: best score first (ties: smaller aid, then id), pinned-in "
                   "dossiers first; a dossier is skipped when it no longer fits the budget or "
                   "would break a cap; floors are not enforced (see meets_floors)")

_INSTANCE_FIELDS = {"budget", "min_score", "objective", "dossiers", "caps", "floors",
                    "pinned_in", "pinned_out"}
_REQUIRED_FIELDS = ("budget", "objective", "dossiers")


class InstanceError(ValueError):
    """The instance cannot be read: `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    aid: Decimal
    score: float
    groups: Mapping[str, str]
    cents: int  # aid in whole cents, exact


@dataclass(frozen=True, slots=True)
class Cap:
    group: str
    value: str
    max_aid: Decimal


@dataclass(frozen=True, slots=True)
class Floor:
    group: str
    value: str
    min_count: int


@dataclass(frozen=True)
class SelectionInstance:
    budget: Decimal
    min_score: float | None
    objective: str
    dossiers: tuple[Candidate, ...]
    caps: tuple[Cap, ...] = ()
    floors: tuple[Floor, ...] = ()
    pinned_in: tuple[str, ...] = ()
    pinned_out: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # readable but worth saying (a cap on a group nobody has…)


@dataclass(frozen=True)
class RankOrderLine:
    selected: tuple[str, ...]
    objective: float
    total_aid: Decimal
    meets_floors: bool
    skipped: Mapping[str, str] = field(default_factory=dict)  # id -> "budget" or "cap group=value"


@dataclass(frozen=True)
class SelectionResult:
    status: str  # "optimal", "time_limit", "infeasible", "tolerance_violation" or HiGHS's status
    optimal: bool
    selected: tuple[str, ...] | None
    objective: float | None
    total_aid: Decimal | None
    upper_bound: float | None
    gap: float | None
    rank_order: RankOrderLine
    seconds: float
    gap_limit: float
    time_limit: float
    reason: str | None = None  # in English; `why` says it as data when no selection exists
    notes: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()
    why: Mapping | None = None  # {"kind": one of INFEASIBILITY_TEXTS, …its figures}

    @property
    def solved(self) -> bool:
        """A selection meeting every rule (exact check) is reported, optimal or not."""
        return self.selected is not None and not self.violations


# Reading ---------------------------------------------------------------------------------------

def read_selection_instance(document: bytes | str) -> SelectionInstance:
    """Decode a JSON instance (numbers read exactly as `Decimal`) and parse it."""
    try:
        data = json.loads(document, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InstanceError("", f"not valid JSON ({exc})") from None
    return parse_selection_instance(data)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def parse_selection_instance(data: object) -> SelectionInstance:
    """Check a decoded instance; amounts become exact cents. Raise `InstanceError` naming the field.

    Amounts are decimal strings, integers or `Decimal` (a binary float is refused: it cannot be read
    exactly); scores and min_score are finite numbers.
    """
    if not isinstance(data, dict):
        raise InstanceError("", "expected a JSON object")
    _check_keys(data, "", _INSTANCE_FIELDS, _REQUIRED_FIELDS)
    budget = _amount(data["budget"], "budget")
    min_score = None if data.get("min_score") is None else _number(data["min_score"], "min_score")
    objective = data["objective"]
    if objective not in OBJECTIVES:
        raise InstanceError("objective", f"unknown objective {objective!r}; expected one of "
                            f"{', '.join(OBJECTIVES)}")
    dossiers = tuple(_candidate(item, f"dossiers[{index}]")
                     for index, item in enumerate(_list(data["dossiers"], "dossiers")))
    seen: dict[str, int] = {}
    for index, dossier in enumerate(dossiers):
        if dossier.id in seen:
            raise InstanceError(f"dossiers[{index}].id",
                                f"duplicate id {dossier.id!r} (also dossiers[{seen[dossier.id]}])")
        seen[dossier.id] = index
    caps = tuple(Cap(*_group_key(item, f"caps[{index}]", "max_aid"),
                     _amount(item["max_aid"], f"caps[{index}].max_aid"))
                 for index, item in enumerate(_list(data.get("caps", []), "caps")))
    floors = tuple(Floor(*_group_key(item, f"floors[{index}]", "min_count"),
                         _count(item["min_count"], f"floors[{index}].min_count"))
                   for index, item in enumerate(_list(data.get("floors", []), "floors")))
    pinned = {name: _pins(data.get(name, []), name, seen) for name in ("pinned_in", "pinned_out")}
    return SelectionInstance(
        budget=budget, min_score=min_score, objective=objective, dossiers=dossiers, caps=caps,
        floors=floors, pinned_in=pinned["pinned_in"], pinned_out=pinned["pinned_out"],
        notes=_group_notes(dossiers, caps, floors))


def _check_keys(data: dict, where: str, allowed: set[str], required: Iterable[str]) -> None:
    prefix = f"{where}." if where else ""
    for key in required:
        if key not in data:
            raise InstanceError(f"{prefix}{key}", "missing required field")
    for key in data:
        if key not in allowed:
            raise InstanceError(f"{prefix}{key}", "unknown field")


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise InstanceError(where, f"expected a list, got {_kind(value)}")
    return value


def _object(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise InstanceError(where, f"expected an object, got {_kind(value)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InstanceError(where, f"expected a non-empty string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _amount(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        reason = ("a binary float cannot be read exactly; give the amount as a decimal string"
                  if isinstance(value, float) else f"expected a decimal amount, got {_kind(value)}")
        raise InstanceError(where, reason)
    try:
        return exact_cents(Decimal(value.strip() if isinstance(value, str) else value))
    except InvalidOperation:
        raise InstanceError(where, f"not a decimal amount: {value!r}") from None
    except AmountError as exc:
        raise InstanceError(where, str(exc)) from None


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InstanceError(where, f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InstanceError(where, "not a finite number")
    return number


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InstanceError(where, "expected a whole number ≥ 0")
    return value


def _candidate(item: object, where: str) -> Candidate:
    item = _object(item, where)
    _check_keys(item, where, {"id", "aid", "score", "groups"}, ("id", "aid", "score"))
    groups = _object(item.get("groups", {}), f"{where}.groups")
    for name, value in groups.items():
        _text(value, f"{where}.groups.{name}")
    aid = _amount(item["aid"], f"{where}.aid")
    return Candidate(id=_text(item["id"], f"{where}.id"), aid=aid,
                     score=_number(item["score"], f"{where}.score"), groups=dict(groups),
                     cents=int(aid.scaleb(2)))


def _group_key(item: object, where: str, limit: str) -> tuple[str, str]:
    item = _object(item, where)
    _check_keys(item, where, {"group", "value", limit}, ("group", "value", limit))
    return _text(item["group"], f"{where}.group"), _text(item["value"], f"{where}.value")


def _pins(value: object, where: str, known: Mapping[str, int]) -> tuple[str, ...]:
    ids = []
    for index, item in enumerate(_list(value, where)):
        name = _text(item, f"{where}[{index}]")
        if name not in known:
            raise InstanceError(f"{where}[{index}]", f"unknown dossier id {name!r}")
        if name not in ids:
            ids.append(name)
    return tuple(ids)


def _group_notes(dossiers, caps, floors) -> tuple[str, ...]:
    values: dict[str, set[str]] = {}
    for dossier in dossiers:
        for name, value in dossier.groups.items():
            values.setdefault(name, set()).add(value)
    notes = []
    for kind, items in (("caps", caps), ("floors", floors)):
        for index, item in enumerate(items):
            if item.group not in values:
                notes.append(f"{kind}[{index}]: no dossier has a group {item.group!r}")
            elif item.value not in values[item.group]:
                notes.append(f"{kind}[{index}]: no dossier has {item.group}={item.value}")
    return tuple(notes)


# Arrays shared by the rank-order line, the model and the checks ---------------------------------

class _Prepared:
    """The instance as numpy arrays (indices are positions in `instance.dossiers`)."""

    def __init__(self, instance: SelectionInstance):
        dossiers = instance.dossiers
        count = len(dossiers)
        self.instance = instance
        self.ids = [d.id for d in dossiers]
        self.position = {d.id: index for index, d in enumerate(dossiers)}
        self.cents = np.fromiter((d.cents for d in dossiers), dtype=np.int64, count=count)
        self.scores = np.fromiter((d.score for d in dossiers), dtype=np.float64, count=count)
        weighted = instance.objective == "score_weighted_aid"
        # The objective's coefficients: the score, or score × aid in euros.
        self.coef = self.scores * (self.cents / 100.0) if weighted else self.scores.copy()
        self.budget_cents = int(instance.budget.scaleb(2))
        self.pinned_in = np.zeros(count, dtype=bool)
        self.pinned_in[[self.position[i] for i in instance.pinned_in]] = True
        self.pinned_out = np.zeros(count, dtype=bool)
        self.pinned_out[[self.position[i] for i in instance.pinned_out]] = True
        self.above_threshold = (np.ones(count, dtype=bool) if instance.min_score is None
                                else self.scores >= instance.min_score)
        self.eligible = self.above_threshold & ~self.pinned_out
        members = _group_members(dossiers, [*instance.caps, *instance.floors])
        self.cap_members = [members[(cap.group, cap.value)] for cap in instance.caps]
        self.cap_cents = [int(cap.max_aid.scaleb(2)) for cap in instance.caps]
        self.floor_members = [members[(floor.group, floor.value)] for floor in instance.floors]

        # Every dossier's place in the ranking: best score first; ties: smaller aid, then id.
        order = np.lexsort((np.array(self.ids, dtype=str), self.cents, -self.scores))
        self.rank = np.empty(count, dtype=np.int64)
        self.rank[order] = np.arange(count)
        # Group memberships as columns of plain integers (-1: none), not one list per dossier.
        self._cap_columns = _membership_columns(count, self.cap_members)
        self._floor_columns = _membership_columns(count, self.floor_members)

    def ranking(self, indices: Iterable[int] | np.ndarray) -> list[int]:
        """The given dossiers, best score first; ties: smaller aid first, then id."""
        indices = np.asarray(indices if isinstance(indices, np.ndarray) else list(indices),
                             dtype=np.int64)
        return indices[np.argsort(self.rank[indices], kind="stable")].tolist()

    def caps_of(self, i: int) -> list[int]:
        """The caps dossier `i` counts in."""
        return [column[i] for column in self._cap_columns if column[i] >= 0]

    def floors_of(self, i: int) -> list[int]:
        return [column[i] for column in self._floor_columns if column[i] >= 0]

    def objective(self, chosen: np.ndarray) -> float:
        return math.fsum(self.coef[chosen].tolist())

    def total_aid(self, chosen: np.ndarray) -> Decimal:
        dossiers = self.instance.dossiers
        return sum((dossiers[i].aid for i in chosen.tolist()), Decimal("0.00"))


def _membership_columns(count: int, groups: list[np.ndarray]) -> list[list[int]]:
    """Column j holds, for every dossier, the index of its j-th group (cap or floor), or -1."""
    width = np.zeros(count, dtype=np.int64)
    table = np.full((count, len(groups)), -1, dtype=np.int64)
    for k, members in enumerate(groups):
        table[members, width[members]] = k
        width[members] += 1
    used = int(width.max()) if count and groups else 0
    return [table[:, j].tolist() for j in range(used)]


def _group_members(dossiers, keyed) -> dict[tuple[str, str], np.ndarray]:
    wanted: dict[str, set[str]] = {}
    for item in keyed:
        wanted.setdefault(item.group, set()).add(item.value)
    found: dict[tuple[str, str], list[int]] = {
        (group, value): [] for group, values in wanted.items() for value in values}
    for index, dossier in enumerate(dossiers):
        groups = dossier.groups
        for group, values in wanted.items():
            value = groups.get(group)
            if value in values:
                found[(group, value)].append(index)
    return {key: np.array(indices, dtype=np.int64) for key, indices in found.items()}


# The rank-order funding line --------------------------------------------------------------------

def rank_order(instance: SelectionInstance) -> RankOrderLine:
    """The classic funding line: pinned-in dossiers, then best score first while it fits.

    A dossier below min_score or pinned out is never taken; a dossier whose aid no longer fits the
    budget, or would break a cap, is skipped and the line goes on. Floors cannot be honoured
    greedily: `meets_floors` says whether the line happens to meet them.
    """
    return _rank_order(_Prepared(instance))


def _rank_order(prep: _Prepared) -> RankOrderLine:
    taken, skipped = _greedy(prep, floors_first=False)
    chosen = np.array(taken, dtype=np.int64)
    return RankOrderLine(selected=tuple(prep.ids[i] for i in taken),
                         objective=prep.objective(chosen), total_aid=prep.total_aid(chosen),
                         meets_floors=_meets_floors(prep, chosen), skipped=skipped)


def _greedy(prep: _Prepared, *, floors_first: bool) -> tuple[list[int], dict[str, str]]:
    """Pinned-in dossiers, then (`floors_first`: the best-ranked dossiers of each floor until it
    is met, then) every eligible dossier in rank order, skipping what would break the budget or a
    cap. Return the indices taken, in order, and why each skipped dossier was skipped."""
    instance, caps_of = prep.instance, prep.caps_of
    cap_room = list(prep.cap_cents)
    budget_room = prep.budget_cents
    cents = prep.cents.tolist()
    taken: list[int] = []
    is_taken = np.zeros(len(prep.ids), dtype=bool)
    skipped: dict[str, str] = {}

    def take(i: int) -> None:
        nonlocal budget_room
        taken.append(i)
        is_taken[i] = True
        budget_room -= cents[i]
        for k in caps_of(i):
            cap_room[k] -= cents[i]

    def fits(i: int) -> bool:
        if cents[i] > budget_room:
            skipped[prep.ids[i]] = "budget"
            return False
        for k in caps_of(i):
            if cents[i] > cap_room[k]:
                cap = instance.caps[k]
                skipped[prep.ids[i]] = f"cap {cap.group}={cap.value}"
                return False
        return True

    for i in prep.ranking(np.flatnonzero(prep.pinned_in)):
        take(i)  # decisions of the committee: taken whatever they cost
    if floors_first:
        for floor, members in zip(instance.floors, prep.floor_members, strict=True):
            missing = floor.min_count - int(is_taken[members].sum())
            for i in prep.ranking(members[prep.eligible[members] & ~is_taken[members]]):
                if missing <= 0:
                    break
                if fits(i):
                    take(i)
                    missing -= 1
    for i in prep.ranking(np.flatnonzero(prep.eligible & ~is_taken)):
        if fits(i):
            take(i)
    return taken, skipped


def _repaired_line(prep: _Prepared, line: RankOrderLine) -> np.ndarray | None:
    """The rank-order line with its floors repaired as a committee would: bring in the
    best-ranked dossiers a floor lacks and, to pay for each, drop the worst-ranked selected
    dossiers that no pin or met floor holds (inside the cap that overflows, if one does); then
    fill what room is left in rank order. None when this does not reach a feasible selection."""
    instance, caps_of, floors_of = prep.instance, prep.caps_of, prep.floors_of
    cents = prep.cents.tolist()
    selected = np.zeros(len(prep.ids), dtype=bool)
    selected[[prep.position[i] for i in line.selected]] = True
    budget_room = prep.budget_cents - int(prep.cents[selected].sum())
    cap_room = [limit - int(prep.cents[members[selected[members]]].sum())
                for members, limit in zip(prep.cap_members, prep.cap_cents, strict=True)]
    count = [int(selected[members].sum()) for members in prep.floor_members]
    held = prep.pinned_in.copy()  # never dropped: pins and the dossiers brought in
    worst_first = prep.ranking(np.flatnonzero(selected))[::-1]
    cap_worst_first = [prep.ranking(members[selected[members]])[::-1]
                       for members in prep.cap_members]
    cursor, cap_cursor = [0], [0] * len(prep.cap_members)

    def change(i: int, sign: int) -> None:
        nonlocal budget_room
        selected[i] = sign > 0
        budget_room -= sign * cents[i]
        for k in caps_of(i):
            cap_room[k] -= sign * cents[i]
        for k in floors_of(i):
            count[k] += sign

    def droppable(i: int) -> bool:
        return (selected[i] and not held[i]
                and all(count[k] > instance.floors[k].min_count for k in floors_of(i)))

    def drop_from(order: list[int], position: list[int], at: int) -> bool:
        while position[at] < len(order):
            i = order[position[at]]
            position[at] += 1
            if droppable(i):
                change(i, -1)
                return True
        return False

    for k, (floor, members) in enumerate(zip(instance.floors, prep.floor_members, strict=True)):
        for i in prep.ranking(members[prep.eligible[members] & ~selected[members]]):
            if count[k] >= floor.min_count:
                break
            change(i, +1)
            held[i] = True
            for c in caps_of(i):
                while cap_room[c] < 0:
                    if not drop_from(cap_worst_first[c], cap_cursor, c):
                        return None
            while budget_room < 0:
                if not drop_from(worst_first, cursor, 0):
                    return None
    for i in prep.ranking(np.flatnonzero(prep.eligible & ~selected)):
        if cents[i] <= budget_room and all(cents[i] <= cap_room[k] for k in caps_of(i)):
            change(i, +1)
    chosen = np.flatnonzero(selected)
    return None if _violations(prep, chosen) else chosen


def _meets_floors(prep: _Prepared, chosen: np.ndarray) -> bool:
    mask = np.zeros(len(prep.ids), dtype=bool)
    mask[chosen] = True
    return all(int(mask[members].sum()) >= floor.min_count
               for floor, members in zip(prep.instance.floors, prep.floor_members, strict=True))


# Solving ----------------------------------------------------------------------------------------

class _QuietHighs(highspy.Highs):
    """`highspy.Highs` that prints nothing, not even its banner (stdout carries the JSON result).

    The banner is written when the constructor enables callbacks, before any option can be set
    by the caller: switching `output_flag` off first keeps it quiet.
    """

    def enableCallbacks(self):  # noqa: N802 (HiGHS's name)
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


def solve_selection(instance: SelectionInstance, *, gap: float = DEFAULT_GAP,
                    time_limit: float = DEFAULT_TIME_LIMIT) -> SelectionResult:
    """The selection maximising the objective, with a proven upper bound and the gap reached.

    `gap` is HiGHS's `mip_rel_gap` (0: prove optimality). `time_limit` is in seconds for the
    whole call (preparing the model, first selections, HiGHS's presolve and search, checking the
    result); HiGHS checks its clock now and then, so the call may end a few hundredths of a
    second after it.
    """
    if not (math.isfinite(gap) and gap >= 0):
        raise ValueError(f"gap must be a finite number ≥ 0, got {gap!r}")
    if not (time_limit > 0):
        raise ValueError(f"time_limit must be > 0, got {time_limit!r}")
    start = time.perf_counter()
    prep = _Prepared(instance)
    line = _rank_order(prep)
    common = {"rank_order": line, "gap_limit": gap, "time_limit": time_limit,
              "notes": instance.notes}
    why = _obvious_infeasibility(prep)
    if why:
        return SelectionResult(status="infeasible", optimal=False, selected=None, objective=None,
                               total_aid=None, upper_bound=None, gap=None,
                               reason=infeasibility_text(why), why=why,
                               seconds=time.perf_counter() - start, **common)
    warm = _warm_start(prep, line)
    # The time limit covers the whole solve: HiGHS gets what the preparation left, less what
    # checking its selection takes afterwards (about 3 µs per dossier).
    reserve = min(0.1 * time_limit, 3e-6 * len(prep.ids))
    status, chosen, highs_bound = _solve_with_highs(prep, gap, start + time_limit - reserve, warm)
    if chosen is None and warm is not None and status != "infeasible":
        chosen = warm  # stopped before HiGHS had a selection of its own: the first one
    elif chosen is not None and warm is not None and prep.objective(warm) > prep.objective(chosen):
        chosen = warm
    if chosen is None:
        why = ({"kind": "no_selection"} if status == "infeasible"
               else {"kind": "time_limit", "seconds": time_limit} if status == "time_limit"
               else {"kind": "solver_stopped", "status": status})
        return SelectionResult(status=status, optimal=False, selected=None, objective=None,
                               total_aid=None, upper_bound=None, gap=None,
                               reason=infeasibility_text(why), why=why,
                               seconds=time.perf_counter() - start, **common)
    objective = prep.objective(chosen)
    bound = min(highs_bound, _knapsack_bound(prep))
    if bound - objective <= NOISE * max(1.0, abs(objective)):
        bound = objective
    violations = tuple(_violations(prep, chosen, exact=True))
    if violations:
        status = "tolerance_violation"
    selected = tuple(prep.ids[i] for i in prep.ranking(chosen.tolist()))
    return SelectionResult(
        status=status, optimal=status == "optimal", selected=selected, objective=objective,
        total_aid=prep.total_aid(chosen), upper_bound=bound,
        gap=(bound - objective) / max(abs(objective), TINY), violations=violations,
        reason="; ".join(violations) or None, seconds=time.perf_counter() - start, **common)


# Why no selection exists: the kinds of `SelectionResult.why`, with their English reason.
INFEASIBILITY_TEXTS = {
    "pinned_both": "dossier {dossier} is both pinned in and pinned out",
    "pinned_below_min_score": "pinned dossier {dossier} has score {score:g}, below min_score "
                              "{min_score:g}",
    "pinned_over_budget": "the pinned dossiers need {need}, more than the budget {budget}",
    "pinned_over_cap": "the pinned dossiers in {group}={value} need {need}, more than its cap "
                       "{cap}",
    "floor_unreachable": "floor {group}={value} needs {min_count} dossiers, only {available} "
                         "can be selected (score ≥ min_score, not pinned out)",
    "floor_over_budget": "floor {group}={value}: its {min_count} cheapest possible dossiers and "
                         "the pinned ones need {need}, more than the budget {budget}",
    "floor_over_cap": "floor {group}={value}: its {min_count} cheapest possible dossiers need "
                      "{need}, more than its cap {cap}",
    "no_selection": "no selection meets the budget, the caps, the floors and the pins together "
                    "(HiGHS: infeasible)",
    "time_limit": "the time limit ({seconds:g} s) was reached before any selection meeting "
                  "every rule was found",
    "solver_stopped": "HiGHS stopped ({status}) before finding a selection",
}


def infeasibility_text(why: Mapping) -> str:
    """The English reason of a `SelectionResult.why`."""
    return INFEASIBILITY_TEXTS[why["kind"]].format(**why)


def _obvious_infeasibility(prep: _Prepared) -> dict | None:
    """Reasons a person can check by hand, before asking HiGHS (see INFEASIBILITY_TEXTS)."""
    instance = prep.instance
    both = sorted(set(instance.pinned_in) & set(instance.pinned_out))
    if both:
        return {"kind": "pinned_both", "dossier": both[0]}
    below = [i for i in np.flatnonzero(prep.pinned_in & ~prep.above_threshold).tolist()]
    if below:
        i = below[0]
        return {"kind": "pinned_below_min_score", "dossier": prep.ids[i],
                "score": float(prep.scores[i]), "min_score": instance.min_score}
    pinned_cents = int(prep.cents[prep.pinned_in].sum())
    if pinned_cents > prep.budget_cents:
        return {"kind": "pinned_over_budget", "need": _eur(pinned_cents),
                "budget": str(instance.budget)}
    for cap, members, limit in zip(instance.caps, prep.cap_members, prep.cap_cents, strict=True):
        used = int(prep.cents[members[prep.pinned_in[members]]].sum())
        if used > limit:
            return {**_group_reason("pinned_over_cap", cap), "need": _eur(used),
                    "cap": str(cap.max_aid)}
    for floor, members in zip(instance.floors, prep.floor_members, strict=True):
        floor_reason = {**_group_reason("", floor), "min_count": floor.min_count}
        eligible = members[prep.eligible[members]]
        if len(eligible) < floor.min_count:
            return {**floor_reason, "kind": "floor_unreachable", "available": len(eligible)}
        pinned = eligible[prep.pinned_in[eligible]]
        free = np.sort(prep.cents[eligible[~prep.pinned_in[eligible]]])
        needed = int(free[:max(0, floor.min_count - len(pinned))].sum())
        if pinned_cents + needed > prep.budget_cents:
            return {**floor_reason, "kind": "floor_over_budget",
                    "need": _eur(pinned_cents + needed), "budget": str(instance.budget)}
        in_group = int(prep.cents[pinned].sum()) + needed
        for cap, limit in zip(instance.caps, prep.cap_cents, strict=True):
            if (cap.group, cap.value) == (floor.group, floor.value) and in_group > limit:
                return {**floor_reason, "kind": "floor_over_cap", "need": _eur(in_group),
                        "cap": str(cap.max_aid)}
    return None


def _warm_start(prep: _Prepared, line: RankOrderLine) -> np.ndarray | None:
    """A first selection for HiGHS: the rank-order line when it is feasible, else the better of
    the line with its floors repaired and the line meeting the floors first, when feasible."""
    chosen = np.array([prep.position[i] for i in line.selected], dtype=np.int64)
    if line.meets_floors:
        return None if _violations(prep, chosen) else chosen
    candidates = [_repaired_line(prep, line),
                  np.array(_greedy(prep, floors_first=True)[0], dtype=np.int64)]
    feasible = [c for c in candidates if c is not None and not _violations(prep, c)]
    return max(feasible, key=prep.objective, default=None)


def _solve_with_highs(prep: _Prepared, gap: float, deadline: float,
                      warm: np.ndarray | None) -> tuple[str, np.ndarray | None, float]:
    """Return (status, chosen dossier indices or None, HiGHS's upper bound or +inf).

    HiGHS may search until `deadline` (a `time.perf_counter()` value)."""
    columns = np.flatnonzero(prep.eligible)
    count = len(columns)
    if count == 0:  # nothing can be selected; the checks above ruled out any floor
        return "optimal", np.zeros(0, dtype=np.int64), 0.0
    column_of = np.full(len(prep.ids), -1, dtype=np.int64)
    column_of[columns] = np.arange(count)
    cents = prep.cents.astype(np.float64)
    # Rows, as CSR: the budget, then the caps, then the floors.
    row_indices = [np.arange(count)]
    row_values = [cents[columns]]
    lower, upper = [-highspy.kHighsInf], [float(prep.budget_cents)]
    for members, limit in zip(prep.cap_members, prep.cap_cents, strict=True):
        members = members[prep.eligible[members]]
        row_indices.append(column_of[members])
        row_values.append(cents[members])
        lower.append(-highspy.kHighsInf)
        upper.append(float(limit))
    for floor, members in zip(prep.instance.floors, prep.floor_members, strict=True):
        members = members[prep.eligible[members]]
        row_indices.append(column_of[members])
        row_values.append(np.ones(len(members)))
        lower.append(float(floor.min_count))
        upper.append(highspy.kHighsInf)
    starts = np.zeros(len(row_indices), dtype=np.int32)
    starts[1:] = np.cumsum([len(part) for part in row_indices[:-1]])
    indices = np.concatenate(row_indices).astype(np.int32)
    values = np.concatenate(row_values)

    with _QuietHighs() as highs:
        for name, value in (("mip_rel_gap", float(gap)), ("mip_abs_gap", 0.0),
                            ("primal_feasibility_tolerance", FEASIBILITY_TOLERANCE),
                            ("mip_feasibility_tolerance", FEASIBILITY_TOLERANCE)):
            if highs.setOptionValue(name, value) != highspy.HighsStatus.kOk:
                raise RuntimeError(f"HiGHS refused the option {name}={value!r}")
        lower_bounds = prep.pinned_in[columns].astype(np.float64)
        highs.addVars(count, lower_bounds, np.ones(count))
        all_columns = np.arange(count, dtype=np.int32)
        highs.changeColsIntegrality(count, all_columns,
                                    np.full(count, highspy.HighsVarType.kInteger, dtype=np.uint8))
        highs.changeColsCost(count, all_columns, prep.coef[columns])
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        highs.addRows(len(lower), np.array(lower), np.array(upper), len(indices), starts,
                      indices, values)
        if warm is not None:
            start = np.zeros(count)
            start[column_of[warm]] = 1.0
            highs.setSolution(count, all_columns, start)
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        highs.run()
        model_status = highs.getModelStatus()
        info = highs.getInfo()
        has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
        values_found = np.asarray(highs.getSolution().col_value) if has_solution else None
        bound = info.mip_dual_bound
    status = {highspy.HighsModelStatus.kOptimal: "optimal",
              highspy.HighsModelStatus.kTimeLimit: "time_limit",
              highspy.HighsModelStatus.kInfeasible: "infeasible"}.get(
        model_status, model_status.name.removeprefix("k").lower())
    if status == "infeasible":
        return status, None, math.inf
    chosen = None if values_found is None else columns[values_found > 0.5]
    if not math.isfinite(bound) or status not in ("optimal", "time_limit"):
        bound = math.inf
    return status, chosen, bound


def _knapsack_bound(prep: _Prepared) -> float:
    """An upper bound always valid: the fractional knapsack on the budget alone (no caps/floors)."""
    pinned = prep.pinned_in
    free = np.flatnonzero(prep.eligible & ~pinned & (prep.coef > 0))
    room = prep.budget_cents - int(prep.cents[pinned].sum())
    total = math.fsum(prep.coef[pinned].tolist())
    zero = free[prep.cents[free] == 0]
    total += math.fsum(prep.coef[zero].tolist())
    paid = free[prep.cents[free] > 0]
    if room <= 0 or len(paid) == 0:
        return total
    order = paid[np.argsort(-(prep.coef[paid] / prep.cents[paid]), kind="stable")]
    cumulative = np.cumsum(prep.cents[order])
    whole = int(np.searchsorted(cumulative, room, side="right"))
    total += math.fsum(prep.coef[order[:whole]].tolist())
    if whole < len(order):
        used = int(cumulative[whole - 1]) if whole else 0
        last = order[whole]
        total += (room - used) / float(prep.cents[last]) * float(prep.coef[last])
    return total


def _violations(prep: _Prepared, chosen: np.ndarray, *, exact: bool = False) -> list[str]:
    """Every rule the selection breaks. Amounts are compared in whole cents as Python integers
    (exact); with `exact`, the budget and the caps are checked once more with the `Decimal`
    amounts of the instance, as the reported total is."""
    instance, dossiers = prep.instance, prep.instance.dossiers
    mask = np.zeros(len(dossiers), dtype=bool)
    mask[chosen] = True
    problems = []

    def aid(indices: np.ndarray) -> Decimal:
        if exact:
            return sum((dossiers[i].aid for i in indices.tolist()), Decimal("0.00"))
        return Decimal(sum(prep.cents[indices].tolist())).scaleb(-2)

    total = aid(chosen)
    if total > instance.budget:
        problems.append(f"total aid {total} exceeds the budget {instance.budget}")
    for cap, members in zip(instance.caps, prep.cap_members, strict=True):
        used = aid(members[mask[members]])
        if used > cap.max_aid:
            problems.append(f"aid in {cap.group}={cap.value} is {used}, above its cap "
                            f"{cap.max_aid}")
    for floor, members in zip(instance.floors, prep.floor_members, strict=True):
        selected = int(mask[members].sum())
        if selected < floor.min_count:
            problems.append(f"{selected} dossiers in {floor.group}={floor.value}, below its floor "
                            f"{floor.min_count}")
    for i in np.flatnonzero(mask & ~prep.eligible).tolist():
        problems.append(f"dossier {prep.ids[i]} is pinned out or below min_score")
    for i in np.flatnonzero(prep.pinned_in & ~mask).tolist():
        problems.append(f"pinned dossier {prep.ids[i]} is not selected")
    return problems


def _eur(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


# Output -----------------------------------------------------------------------------------------

def rank_order_to_dict(line: RankOrderLine) -> dict:
    return {"selected": list(line.selected), "objective": line.objective,
            "total_aid": str(line.total_aid), "meets_floors": line.meets_floors,
            "notes": RANK_ORDER_NOTE}


def selection_result_to_dict(result: SelectionResult,
                             instance: SelectionInstance | None = None) -> dict:
    """The contract's JSON result; with the instance, the difference with the rank-order line
    explained (`explain`) is added under "difference"."""
    document = {
        "status": result.status,
        "selected": None if result.selected is None else list(result.selected),
        "objective": result.objective,
        "total_aid": None if result.total_aid is None else str(result.total_aid),
        "upper_bound": result.upper_bound,
        "gap": result.gap,
        "optimal": result.optimal,
        "rank_order": rank_order_to_dict(result.rank_order),
        "seconds": round(result.seconds, 4),
        "gap_limit": result.gap_limit,
        "time_limit": result.time_limit,
    }
    if result.reason:
        document["reason"] = result.reason
    if result.violations:
        document["violations"] = list(result.violations)
    if result.notes:
        document["notes"] = list(result.notes)
    if instance is not None and result.selected is not None:
        document["difference"] = explain(instance, result.selected, result.rank_order.selected)
    return document


# The difference explained -----------------------------------------------------------------------

def explain(instance: SelectionInstance, optimal_selection: Sequence[str],
            rank_order_selection: Sequence[str], *, max_inversions: int = 100) -> dict:
    """Why dossiers enter or leave between the rank-order line and the optimal portfolio, as
    data (the Django layer writes the sentences, in the reader's language).

    Returns, ready for JSON:
    - "same": whether both lines select the same dossiers;
    - "enters" / "leaves": the dossiers only the optimal portfolio / only the rank-order line
      selects, best ranked first;
    - "pinned_in" / "pinned_out": the committee's own decisions (taken or set aside whatever
      their score and aid), never explained by the budget or a score;
    - "below_min_score": the dossiers under the call's threshold, which neither line may take;
    - "passed_over": the dossiers left out of the optimal portfolio although a lower-scored one
      is in it (each first member of a rank inversion), with "in_rank_order" telling whether
      the rank-order line took it (then it is also in "leaves") or set it aside too; at most
      `max_inversions` of them, best ranked first, and "passed_over_total" counts them all;
    - "rank_inversions": pairs [a, b] where a scores higher than b, can be selected (score ≥
      min_score, not pinned out), yet b is in the optimal portfolio and a is not (at most
      `max_inversions`, best a first, then lowest b), and "rank_inversions_total", all counted.
    Every dossier listed is {"id", "score", "aid"}; those of "enters", "leaves" and
    "passed_over" carry "reasons", a list of {"kind": …} read from the constraints that are
    tight (see `REASON_KINDS`).
    """
    prep = _Prepared(instance)
    optimal = _mask(prep, optimal_selection)
    ranked = _mask(prep, rank_order_selection)
    enters = prep.ranking(np.flatnonzero(optimal & ~ranked).tolist())
    leaves = prep.ranking(np.flatnonzero(ranked & ~optimal).tolist())
    state_optimal, state_ranked = _State(prep, optimal), _State(prep, ranked)
    by_floor = {i for i in enters if _floors_needing(prep, i, state_optimal, state_ranked)}
    budget_enters = [i for i in enters if i not in by_floor]
    budget_leaves = [i for i in leaves if not _caps_blocking(prep, i, state_optimal)]
    gain = math.fsum(prep.coef[budget_enters].tolist())
    loss = math.fsum(prep.coef[budget_leaves].tolist())
    leaves_by_cap: dict[int, list[int]] = {}
    for j in leaves:
        for k in prep.caps_of(j):
            leaves_by_cap.setdefault(k, []).append(j)

    def left_out_reasons(i: int, *, swapped: bool) -> list[dict]:
        """Why an eligible dossier is not in the optimal portfolio (`swapped`: the rank-order
        line took it, so its room went to the dossiers entering)."""
        caps = _caps_blocking(prep, i, state_optimal)
        if caps:
            return [_group_reason("cap_reached", instance.caps[k]) for k in caps]
        if prep.cents[i] > state_optimal.budget_room:
            if swapped and budget_enters:
                return [{"kind": "budget_swap", "entering": len(budget_enters),
                         "better_in_total": gain > loss}]
            return [{"kind": "budget_full"}]
        if prep.coef[i] <= 0:
            return [{"kind": "adds_nothing"}]
        return [{"kind": "optimisation"}]

    def enter_reasons(i: int) -> list[dict]:
        floors = _floors_needing(prep, i, state_optimal, state_ranked)
        if floors:
            return [{**_group_reason("floor", instance.floors[k]),
                     "min_count": instance.floors[k].min_count} for k in floors]
        caps = [k for k in prep.caps_of(i) if prep.cents[i] > state_ranked.cap_room[k]]
        if caps:
            return [{**_group_reason("cap_room", instance.caps[k]),
                     "freed_by": [prep.ids[j] for j in leaves_by_cap.get(k, [])]}
                    for k in caps]
        if prep.cents[i] > state_ranked.budget_room:
            return [{"kind": "budget_room",
                     "freed_by": [prep.ids[j] for j in budget_leaves or leaves]}]
        return [{"kind": "optimisation"}]

    inversions, total, passed_over = _rank_inversions(prep, optimal, max_inversions)
    return {
        "same": not enters and not leaves,
        "enters": [_entry(instance, i, enter_reasons(i)) for i in enters],
        "leaves": [_entry(instance, i, left_out_reasons(i, swapped=True)) for i in leaves],
        "pinned_in": [_entry(instance, i) for i in prep.ranking(np.flatnonzero(prep.pinned_in))],
        "pinned_out": [_entry(instance, i)
                       for i in prep.ranking(np.flatnonzero(prep.pinned_out))],
        "below_min_score": [_entry(instance, i) for i in prep.ranking(
            np.flatnonzero(~prep.above_threshold & ~prep.pinned_out))],
        "passed_over": [{**_entry(instance, i, left_out_reasons(i, swapped=bool(ranked[i]))),
                         "in_rank_order": bool(ranked[i])}
                        for i in passed_over[:max(max_inversions, 0)]],
        "passed_over_total": len(passed_over),
        "rank_inversions": inversions,
        "rank_inversions_total": total,
    }


# The kinds of reason `explain` gives, with what each carries besides "kind".
REASON_KINDS = {
    "floor": "group, value, min_count: the portfolio needs this many dossiers of the group, "
             "which the rank-order line misses",
    "cap_room": "group, value, freed_by: it fits under the group's cap in the room the "
                "dossiers leaving (ids) free",
    "budget_room": "freed_by: it is paid by the aid the dossiers leaving (ids) free",
    "cap_reached": "group, value: adding it would exceed the group's cap",
    "budget_swap": "entering, better_in_total: its aid goes to that many dossiers entering, "
                   "of greater value in all (or not: then simply entering)",
    "budget_full": "its aid no longer fits in the budget left",
    "adds_nothing": "it adds nothing to the objective",
    "optimisation": "the optimiser's choice, no single constraint explains it",
}


def _group_reason(kind: str, item: Cap | Floor) -> dict:
    return {"kind": kind, "group": item.group, "value": item.value}


class _State:
    """Room left in the budget and in every cap by one selection, and floor counts."""

    def __init__(self, prep: _Prepared, mask: np.ndarray):
        self.budget_room = prep.budget_cents - int(prep.cents[mask].sum())
        self.cap_room = [limit - int(prep.cents[members[mask[members]]].sum())
                         for members, limit in zip(prep.cap_members, prep.cap_cents, strict=True)]
        self.floor_count = [int(mask[members].sum()) for members in prep.floor_members]


def _caps_blocking(prep: _Prepared, i: int, state: _State) -> list[int]:
    """The caps a dossier left out would break if it were added back."""
    return [k for k in prep.caps_of(i) if prep.cents[i] > state.cap_room[k]]


def _floors_needing(prep: _Prepared, i: int, optimal: _State, ranked: _State) -> list[int]:
    """The floors this selected dossier is needed for, which the rank-order line misses."""
    return [k for k, floor in enumerate(prep.instance.floors)
            if optimal.floor_count[k] <= floor.min_count and ranked.floor_count[k] < floor.min_count
            and k in prep.floors_of(i)]


def _mask(prep: _Prepared, ids: Sequence[str]) -> np.ndarray:
    mask = np.zeros(len(prep.ids), dtype=bool)
    for name in ids:
        if name not in prep.position:
            raise ValueError(f"unknown dossier id {name!r}")
        mask[prep.position[name]] = True
    return mask


def _entry(instance: SelectionInstance, i: int, reasons: list[dict] | None = None) -> dict:
    dossier = instance.dossiers[i]
    entry = {"id": dossier.id, "score": dossier.score, "aid": str(dossier.aid)}
    return entry if reasons is None else {**entry, "reasons": reasons}


def _rank_inversions(prep: _Prepared, selected: np.ndarray,
                     most: int) -> tuple[list[list[str]], int, list[int]]:
    """The rank inversions (at most `most` pairs, and their count) and the dossiers passed over:
    left out while scoring higher than a selected one, best ranked first."""
    inside = np.flatnonzero(selected)
    outside = np.flatnonzero(~selected & prep.eligible)
    inside_scores = np.sort(prep.scores[inside])
    # For each dossier left out, how many selected ones have a strictly lower score.
    lower = np.searchsorted(inside_scores, prep.scores[outside], side="left")
    total = int(lower.sum())
    passed_over = prep.ranking(outside[lower > 0].tolist())
    pairs: list[list[str]] = []
    if most > 0 and total:
        worst_first = sorted(inside.tolist(), key=lambda j: (prep.scores[j], -prep.cents[j],
                                                             prep.ids[j]))
        for a in passed_over:
            for b in worst_first:
                if prep.scores[b] >= prep.scores[a]:
                    break
                pairs.append([prep.ids[a], prep.ids[b]])
                if len(pairs) == most:
                    return pairs, total, passed_over
    return pairs, total, passed_over
