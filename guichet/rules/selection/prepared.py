"""The instance as numpy arrays, shared by the rank-order line, the solver and the explanation,
and the exact check of a selection against every rule."""

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np

from guichet.rules.selection.instance import Cap, Floor, SelectionInstance


class Prepared:
    """The instance as numpy arrays (indices are positions in `instance.dossiers`)."""

    def __init__(self, instance: SelectionInstance):
        dossiers = instance.dossiers
        count = len(dossiers)
        self.instance = instance
        self.ids = [d.id for d in dossiers]
        self.position = {d.id: index for index, d in enumerate(dossiers)}
        # Aid in whole cents, exact (amounts have exactly two decimals).
        self.cents = np.fromiter((int(d.aid.scaleb(2)) for d in dossiers), dtype=np.int64,
                                 count=count)
        self.scores = np.fromiter((d.score for d in dossiers), dtype=np.float64, count=count)
        weighted = instance.objective == "score_weighted_aid"
        # The objective's coefficients: the score, or score × aid in euros.
        self.coef = self.scores * (self.cents / 100.0) if weighted else self.scores.copy()
        self.budget_cents = int(instance.budget.scaleb(2))
        self.pinned_in = self._flags(instance.pinned_in)
        self.pinned_out = self._flags(instance.pinned_out)
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

    def _flags(self, ids: Iterable[str]) -> np.ndarray:
        flags = np.zeros(len(self.ids), dtype=bool)
        flags[[self.position[i] for i in ids]] = True
        return flags

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

    def mask(self, ids: Sequence[str]) -> np.ndarray:
        """The selection `ids` as flags; ValueError for an id the instance does not have."""
        mask = np.zeros(len(self.ids), dtype=bool)
        for name in ids:
            if name not in self.position:
                raise ValueError(f"unknown dossier id {name!r}")
            mask[self.position[name]] = True
        return mask


class Room:
    """What a selection leaves: room in the budget and in every cap (cents), and the dossiers
    it counts in every floor; kept up to date as dossiers are added or removed."""

    def __init__(self, prep: Prepared, selected: np.ndarray | None = None):
        self.prep = prep
        mask = np.zeros(len(prep.ids), dtype=bool) if selected is None else selected.copy()
        self.selected = mask
        self.budget = prep.budget_cents - int(prep.cents[mask].sum())
        self.caps = [limit - int(prep.cents[members[mask[members]]].sum())
                     for members, limit in zip(prep.cap_members, prep.cap_cents, strict=True)]
        self.floors = [int(mask[members].sum()) for members in prep.floor_members]
        self._cents = prep.cents.tolist()

    def change(self, i: int, sign: int) -> None:
        """Add dossier `i` (`sign` +1) or remove it (-1)."""
        cents = sign * self._cents[i]
        self.selected[i] = sign > 0
        self.budget -= cents
        for k in self.prep.caps_of(i):
            self.caps[k] -= cents
        for k in self.prep.floors_of(i):
            self.floors[k] += sign

    def caps_blocking(self, i: int) -> list[int]:
        """The caps dossier `i` would break if it were added."""
        return [k for k in self.prep.caps_of(i) if self._cents[i] > self.caps[k]]

    def blocking(self, i: int) -> str | None:
        """Why dossier `i` cannot be added: "budget", "cap group=value", or None if it fits."""
        if self._cents[i] > self.budget:
            return "budget"
        caps = self.caps_blocking(i)
        if caps:
            cap = self.prep.instance.caps[caps[0]]
            return f"cap {cap.group}={cap.value}"
        return None


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


def meets_floors(prep: Prepared, chosen: np.ndarray) -> bool:
    mask = np.zeros(len(prep.ids), dtype=bool)
    mask[chosen] = True
    return all(int(mask[members].sum()) >= floor.min_count
               for floor, members in zip(prep.instance.floors, prep.floor_members, strict=True))


def violations(prep: Prepared, chosen: np.ndarray, *, exact: bool = False) -> list[str]:
    """Every rule the selection breaks, in English (the CLI's "violations"). Amounts are
    compared in whole cents as Python integers (exact); with `exact`, the budget and the caps
    are checked once more with the `Decimal` amounts of the instance, as the reported total is."""
    mask = np.zeros(len(prep.ids), dtype=bool)
    mask[chosen] = True
    return [*_amount_violations(prep, mask, exact), *_floor_violations(prep, mask),
            *_pin_violations(prep, mask)]


def _amount_violations(prep: Prepared, mask: np.ndarray, exact: bool) -> list[str]:
    instance, dossiers = prep.instance, prep.instance.dossiers

    def aid(indices: np.ndarray) -> Decimal:
        if exact:
            return sum((dossiers[i].aid for i in indices.tolist()), Decimal("0.00"))
        return Decimal(sum(prep.cents[indices].tolist())).scaleb(-2)

    problems = []
    total = aid(np.flatnonzero(mask))
    if total > instance.budget:
        problems.append(f"total aid {total} exceeds the budget {instance.budget}")
    for cap, members in zip(instance.caps, prep.cap_members, strict=True):
        used = aid(members[mask[members]])
        if used > cap.max_aid:
            problems.append(f"aid in {cap.group}={cap.value} is {used}, above its cap "
                            f"{cap.max_aid}")
    return problems


def _floor_violations(prep: Prepared, mask: np.ndarray) -> list[str]:
    problems = []
    for floor, members in zip(prep.instance.floors, prep.floor_members, strict=True):
        selected = int(mask[members].sum())
        if selected < floor.min_count:
            problems.append(f"{selected} dossiers in {floor.group}={floor.value}, below its floor "
                            f"{floor.min_count}")
    return problems


def _pin_violations(prep: Prepared, mask: np.ndarray) -> list[str]:
    return ([f"dossier {prep.ids[i]} is pinned out or below min_score"
             for i in np.flatnonzero(mask & ~prep.eligible).tolist()]
            + [f"pinned dossier {prep.ids[i]} is not selected"
               for i in np.flatnonzero(prep.pinned_in & ~mask).tolist()])


def group_reason(kind: str, item: Cap | Floor) -> dict:
    return {"kind": kind, "group": item.group, "value": item.value}


def eur(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))
