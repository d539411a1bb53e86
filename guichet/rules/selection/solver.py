"""The exact solver: the selection maximising the objective, certified by HiGHS.

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
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import highspy
import numpy as np

from guichet.rules.selection.baseline import (
    RankOrderLine,
    greedy,
    rank_order_line,
    rank_order_to_dict,
    repaired_line,
)
from guichet.rules.selection.explain import explain
from guichet.rules.selection.infeasibility import infeasibility_text, obvious_infeasibility
from guichet.rules.selection.instance import SelectionInstance
from guichet.rules.selection.prepared import Prepared, violations

DEFAULT_GAP = 1e-6
DEFAULT_TIME_LIMIT = 60.0
# Feasibility tolerance given to HiGHS (absolute, on rows expressed in cents and on integrality).
FEASIBILITY_TOLERANCE = 1e-9
# Differences between HiGHS's bound and the exact objective below this (relative) are float noise.
NOISE = 1e-12
TINY = 1e-9


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
    prep = Prepared(instance)
    line = rank_order_line(prep)
    common = {"rank_order": line, "gap_limit": gap, "time_limit": time_limit,
              "notes": instance.notes}
    why = obvious_infeasibility(prep)
    if why:
        return _no_selection("infeasible", why, start, common)
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
        return _no_selection(status, why, start, common)
    return _checked_result(prep, status, chosen, highs_bound, start, common)


def _no_selection(status: str, why: dict, start: float, common: dict) -> SelectionResult:
    return SelectionResult(status=status, optimal=False, selected=None, objective=None,
                           total_aid=None, upper_bound=None, gap=None,
                           reason=infeasibility_text(why), why=why,
                           seconds=time.perf_counter() - start, **common)


def _checked_result(prep: Prepared, status: str, chosen: np.ndarray, highs_bound: float,
                    start: float, common: dict) -> SelectionResult:
    """The selection found, checked exactly, with the best bound known and the gap."""
    objective = prep.objective(chosen)
    bound = min(highs_bound, knapsack_bound(prep))
    if bound - objective <= NOISE * max(1.0, abs(objective)):
        bound = objective
    broken = tuple(violations(prep, chosen, exact=True))
    if broken:
        status = "tolerance_violation"
    selected = tuple(prep.ids[i] for i in prep.ranking(chosen.tolist()))
    return SelectionResult(
        status=status, optimal=status == "optimal", selected=selected, objective=objective,
        total_aid=prep.total_aid(chosen), upper_bound=bound,
        gap=(bound - objective) / max(abs(objective), TINY), violations=broken,
        reason="; ".join(broken) or None, seconds=time.perf_counter() - start, **common)


def _warm_start(prep: Prepared, line: RankOrderLine) -> np.ndarray | None:
    """A first selection for HiGHS: the rank-order line when it is feasible, else the better of
    the line with its floors repaired and the line meeting the floors first, when feasible."""
    chosen = np.array([prep.position[i] for i in line.selected], dtype=np.int64)
    if line.meets_floors:
        return None if violations(prep, chosen) else chosen
    candidates = [repaired_line(prep, line),
                  np.array(greedy(prep, floors_first=True)[0], dtype=np.int64)]
    feasible = [c for c in candidates if c is not None and not violations(prep, c)]
    return max(feasible, key=prep.objective, default=None)


def _model_rows(prep: Prepared, column_of: np.ndarray) -> tuple[list, list, list, list]:
    """The budget, cap and floor rows over the eligible dossiers' columns: (column indices,
    coefficients, lower and upper bounds), one entry per row."""
    cents = prep.cents.astype(np.float64)
    eligible = np.flatnonzero(prep.eligible)
    indices, values = [column_of[eligible]], [cents[eligible]]
    lower, upper = [-highspy.kHighsInf], [float(prep.budget_cents)]
    for members, limit in zip(prep.cap_members, prep.cap_cents, strict=True):
        members = members[prep.eligible[members]]
        indices.append(column_of[members])
        values.append(cents[members])
        lower.append(-highspy.kHighsInf)
        upper.append(float(limit))
    for floor, members in zip(prep.instance.floors, prep.floor_members, strict=True):
        members = members[prep.eligible[members]]
        indices.append(column_of[members])
        values.append(np.ones(len(members)))
        lower.append(float(floor.min_count))
        upper.append(highspy.kHighsInf)
    return indices, values, lower, upper


def _build_model(highs: highspy.Highs, prep: Prepared, columns: np.ndarray, gap: float) -> None:
    """One binary column per eligible dossier (fixed to 1 when pinned in), rows as CSR."""
    count = len(columns)
    column_of = np.full(len(prep.ids), -1, dtype=np.int64)
    column_of[columns] = np.arange(count)
    for name, value in (("mip_rel_gap", float(gap)), ("mip_abs_gap", 0.0),
                        ("primal_feasibility_tolerance", FEASIBILITY_TOLERANCE),
                        ("mip_feasibility_tolerance", FEASIBILITY_TOLERANCE)):
        if highs.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise RuntimeError(f"HiGHS refused the option {name}={value!r}")
    highs.addVars(count, prep.pinned_in[columns].astype(np.float64), np.ones(count))
    all_columns = np.arange(count, dtype=np.int32)
    highs.changeColsIntegrality(count, all_columns,
                                np.full(count, highspy.HighsVarType.kInteger, dtype=np.uint8))
    highs.changeColsCost(count, all_columns, prep.coef[columns])
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    row_indices, row_values, lower, upper = _model_rows(prep, column_of)
    starts = np.zeros(len(row_indices), dtype=np.int32)
    starts[1:] = np.cumsum([len(part) for part in row_indices[:-1]])
    indices = np.concatenate(row_indices).astype(np.int32)
    highs.addRows(len(lower), np.array(lower), np.array(upper), len(indices), starts,
                  indices, np.concatenate(row_values))


def _solve_with_highs(prep: Prepared, gap: float, deadline: float,
                      warm: np.ndarray | None) -> tuple[str, np.ndarray | None, float]:
    """Return (status, chosen dossier indices or None, HiGHS's upper bound or +inf).

    HiGHS may search until `deadline` (a `time.perf_counter()` value)."""
    columns = np.flatnonzero(prep.eligible)
    count = len(columns)
    if count == 0:  # nothing can be selected; the checks above ruled out any floor
        return "optimal", np.zeros(0, dtype=np.int64), 0.0
    with _QuietHighs() as highs:
        _build_model(highs, prep, columns, gap)
        if warm is not None:
            start = np.zeros(len(prep.ids))
            start[warm] = 1.0
            highs.setSolution(count, np.arange(count, dtype=np.int32), start[columns])
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


def knapsack_bound(prep: Prepared) -> float:
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
    optional = {"reason": result.reason, "violations": list(result.violations),
                "notes": list(result.notes)}
    document.update((key, value) for key, value in optional.items() if value)
    if instance is not None and result.selected is not None:
        document["difference"] = explain(instance, result.selected, result.rank_order.selected)
    return document
