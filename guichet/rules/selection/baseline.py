"""The rank-order funding line, the classic baseline: best score first while it fits; and the
first selections the solver starts from (the line meeting the floors first, or repaired)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from guichet.rules.selection.instance import SelectionInstance
from guichet.rules.selection.prepared import Prepared, meets_floors, violations

RANK_ORDER_NOTE = ("rank-order line: best score first (ties: smaller aid, then id), pinned-in "
                   "dossiers first; a dossier is skipped when it no longer fits the budget or "
                   "would break a cap; floors are not enforced (see meets_floors)")


@dataclass(frozen=True)
class RankOrderLine:
    selected: tuple[str, ...]
    objective: float
    total_aid: Decimal
    meets_floors: bool
    skipped: Mapping[str, str] = field(default_factory=dict)  # id -> "budget" or "cap group=value"


def rank_order(instance: SelectionInstance) -> RankOrderLine:
    """The classic funding line: pinned-in dossiers, then best score first while it fits.

    A dossier below min_score or pinned out is never taken; a dossier whose aid no longer fits the
    budget, or would break a cap, is skipped and the line goes on. Floors cannot be honoured
    greedily: `meets_floors` says whether the line happens to meet them.
    """
    return rank_order_line(Prepared(instance))


def rank_order_line(prep: Prepared) -> RankOrderLine:
    taken, skipped = greedy(prep, floors_first=False)
    chosen = np.array(taken, dtype=np.int64)
    return RankOrderLine(selected=tuple(prep.ids[i] for i in taken),
                         objective=prep.objective(chosen), total_aid=prep.total_aid(chosen),
                         meets_floors=meets_floors(prep, chosen), skipped=skipped)


def rank_order_to_dict(line: RankOrderLine) -> dict:
    return {"selected": list(line.selected), "objective": line.objective,
            "total_aid": str(line.total_aid), "meets_floors": line.meets_floors,
            "notes": RANK_ORDER_NOTE}


def greedy(prep: Prepared, *, floors_first: bool) -> tuple[list[int], dict[str, str]]:
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


def repaired_line(prep: Prepared, line: RankOrderLine) -> np.ndarray | None:
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
    return None if violations(prep, chosen) else chosen
