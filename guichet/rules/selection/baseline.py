"""The rank-order funding line, the classic baseline: best score first while it fits; and the
first selections the solver starts from (the line meeting the floors first, or repaired)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from guichet.rules.selection.instance import SelectionInstance
from guichet.rules.selection.prepared import Prepared, Room, meets_floors, violations

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
    room = Room(prep)
    taken: list[int] = []
    skipped: dict[str, str] = {}

    def offer(i: int) -> bool:
        reason = room.blocking(i)
        if reason:
            skipped[prep.ids[i]] = reason
            return False
        room.change(i, +1)
        taken.append(i)
        return True

    for i in prep.ranking(np.flatnonzero(prep.pinned_in)):
        room.change(i, +1)  # decisions of the committee: taken whatever they cost
        taken.append(i)
    if floors_first:
        for k, (floor, members) in enumerate(zip(prep.instance.floors, prep.floor_members,
                                                 strict=True)):
            for i in prep.ranking(members[prep.eligible[members] & ~room.selected[members]]):
                if room.floors[k] >= floor.min_count:
                    break
                offer(i)
    for i in prep.ranking(np.flatnonzero(prep.eligible & ~room.selected)):
        offer(i)
    return taken, skipped


def repaired_line(prep: Prepared, line: RankOrderLine) -> np.ndarray | None:
    """The rank-order line with its floors repaired as a committee would: bring in the
    best-ranked dossiers a floor lacks and, to pay for each, drop the worst-ranked selected
    dossiers that no pin or met floor holds (inside the cap that overflows, if one does); then
    fill what room is left in rank order. None when this does not reach a feasible selection."""
    return _FloorRepair(prep, prep.mask(line.selected)).run()


class _FloorRepair:
    def __init__(self, prep: Prepared, selected: np.ndarray):
        self.prep = prep
        self.room = Room(prep, selected)
        self.held = prep.pinned_in.copy()  # never dropped: pins and the dossiers brought in
        # Who to drop first, overall and inside each cap; each list is walked once.
        self.worst_first = [prep.ranking(np.flatnonzero(selected))[::-1]]
        self.worst_first += [prep.ranking(members[selected[members]])[::-1]
                             for members in prep.cap_members]
        self.cursor = [0] * len(self.worst_first)

    def run(self) -> np.ndarray | None:
        prep, room = self.prep, self.room
        for k, members in enumerate(prep.floor_members):
            if not self._meet(k, members):
                return None
        for i in prep.ranking(np.flatnonzero(prep.eligible & ~room.selected)):
            if room.blocking(i) is None:
                room.change(i, +1)
        chosen = np.flatnonzero(room.selected)
        return None if violations(prep, chosen) else chosen

    def _meet(self, k: int, members: np.ndarray) -> bool:
        """Bring in floor `k`'s best-ranked missing dossiers, paying for each."""
        prep, room = self.prep, self.room
        min_count = prep.instance.floors[k].min_count
        for i in prep.ranking(members[prep.eligible[members] & ~room.selected[members]]):
            if room.floors[k] >= min_count:
                break
            room.change(i, +1)
            self.held[i] = True
            if not self._pay_for(i):
                return False
        return True

    def _pay_for(self, i: int) -> bool:
        """Drop dossiers until the caps of `i`, then the budget, have room again."""
        for c in self.prep.caps_of(i):
            while self.room.caps[c] < 0:
                if not self._drop(1 + c):
                    return False
        while self.room.budget < 0:
            if not self._drop(0):
                return False
        return True

    def _drop(self, at: int) -> bool:
        """Drop the next droppable dossier of list `at` (0: all, 1 + c: cap c)."""
        order, room, floors = self.worst_first[at], self.room, self.prep.instance.floors
        while self.cursor[at] < len(order):
            i = order[self.cursor[at]]
            self.cursor[at] += 1
            if (room.selected[i] and not self.held[i]
                    and all(room.floors[k] > floors[k].min_count
                            for k in self.prep.floors_of(i))):
                room.change(i, -1)
                return True
        return False
