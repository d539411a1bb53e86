"""Why the optimal portfolio differs from the rank-order funding line, as data.

The rules core says which dossiers enter or leave and which constraint explains each, as codes
and figures (`REASON_KINDS`); guichet/review/committee_text.py writes the sentences, in the
reader's language.
"""

import math
from collections.abc import Sequence

import numpy as np

from guichet.rules.selection.instance import SelectionInstance
from guichet.rules.selection.prepared import Prepared, Room, group_reason


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
    prep = Prepared(instance)
    optimal, ranked = prep.mask(optimal_selection), prep.mask(rank_order_selection)
    why = _Difference(prep, optimal, ranked)
    inversions, total, passed_over = _rank_inversions(prep, optimal, max_inversions)
    return {
        "same": not why.enters and not why.leaves,
        "enters": [_entry(instance, i, why.entering(i)) for i in why.enters],
        "leaves": [_entry(instance, i, why.left_out(i, swapped=True)) for i in why.leaves],
        "pinned_in": [_entry(instance, i) for i in prep.ranking(np.flatnonzero(prep.pinned_in))],
        "pinned_out": [_entry(instance, i)
                       for i in prep.ranking(np.flatnonzero(prep.pinned_out))],
        "below_min_score": [_entry(instance, i) for i in prep.ranking(
            np.flatnonzero(~prep.above_threshold & ~prep.pinned_out))],
        "passed_over": [{**_entry(instance, i, why.left_out(i, swapped=bool(ranked[i]))),
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


class _Difference:
    """The dossiers entering and leaving between the two selections, and why each does."""

    def __init__(self, prep: Prepared, optimal: np.ndarray, ranked: np.ndarray):
        self.prep = prep
        self.enters = prep.ranking(np.flatnonzero(optimal & ~ranked).tolist())
        self.leaves = prep.ranking(np.flatnonzero(ranked & ~optimal).tolist())
        self.optimal, self.ranked = Room(prep, optimal), Room(prep, ranked)
        by_floor = {i for i in self.enters if self._floors_needing(i)}
        self.budget_enters = [i for i in self.enters if i not in by_floor]
        self.budget_leaves = [i for i in self.leaves if not self.optimal.caps_blocking(i)]
        self.better_in_total = (math.fsum(prep.coef[self.budget_enters].tolist())
                                > math.fsum(prep.coef[self.budget_leaves].tolist()))
        self.leaves_by_cap: dict[int, list[int]] = {}
        for j in self.leaves:
            for k in prep.caps_of(j):
                self.leaves_by_cap.setdefault(k, []).append(j)

    def left_out(self, i: int, *, swapped: bool) -> list[dict]:
        """Why an eligible dossier is not in the optimal portfolio (`swapped`: the rank-order
        line took it, so its room went to the dossiers entering)."""
        prep = self.prep
        caps = self.optimal.caps_blocking(i)
        if caps:
            return [group_reason("cap_reached", prep.instance.caps[k]) for k in caps]
        if prep.cents[i] > self.optimal.budget:
            if swapped and self.budget_enters:
                return [{"kind": "budget_swap", "entering": len(self.budget_enters),
                         "better_in_total": self.better_in_total}]
            return [{"kind": "budget_full"}]
        if prep.coef[i] <= 0:
            return [{"kind": "adds_nothing"}]
        return [{"kind": "optimisation"}]

    def entering(self, i: int) -> list[dict]:
        """Why a dossier only the optimal portfolio selects enters it."""
        prep, instance = self.prep, self.prep.instance
        floors = self._floors_needing(i)
        if floors:
            return [{**group_reason("floor", instance.floors[k]),
                     "min_count": instance.floors[k].min_count} for k in floors]
        caps = self.ranked.caps_blocking(i)
        if caps:
            return [{**group_reason("cap_room", instance.caps[k]),
                     "freed_by": [prep.ids[j] for j in self.leaves_by_cap.get(k, [])]}
                    for k in caps]
        if prep.cents[i] > self.ranked.budget:
            return [{"kind": "budget_room",
                     "freed_by": [prep.ids[j] for j in self.budget_leaves or self.leaves]}]
        return [{"kind": "optimisation"}]

    def _floors_needing(self, i: int) -> list[int]:
        """The floors this selected dossier is needed for, which the rank-order line misses."""
        floors, optimal, ranked = self.prep.instance.floors, self.optimal, self.ranked
        return [k for k in self.prep.floors_of(i)
                if optimal.floors[k] <= floors[k].min_count
                and ranked.floors[k] < floors[k].min_count]


def _entry(instance: SelectionInstance, i: int, reasons: list[dict] | None = None) -> dict:
    dossier = instance.dossiers[i]
    entry = {"id": dossier.id, "score": float(dossier.score), "aid": str(dossier.aid)}
    return entry if reasons is None else {**entry, "reasons": reasons}


def _rank_inversions(prep: Prepared, selected: np.ndarray,
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
