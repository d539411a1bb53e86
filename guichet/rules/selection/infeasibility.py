"""Why no selection exists, when a person can check it by hand: the kinds of
`SelectionResult.why`, as data (codes and figures), with their English reason for the CLI.
guichet/review/committee_text.py writes them for people, in their language."""

from collections.abc import Mapping

import numpy as np

from guichet.rules.selection.prepared import Prepared, eur, group_reason

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


def obvious_infeasibility(prep: Prepared) -> dict | None:
    """Reasons a person can check by hand, before asking HiGHS (see INFEASIBILITY_TEXTS)."""
    return _pin_conflict(prep) or _cap_conflict(prep) or _floor_conflict(prep)


def _pin_conflict(prep: Prepared) -> dict | None:
    instance = prep.instance
    both = sorted(set(instance.pinned_in) & set(instance.pinned_out))
    if both:
        return {"kind": "pinned_both", "dossier": both[0]}
    below = np.flatnonzero(prep.pinned_in & ~prep.above_threshold).tolist()
    if below:
        i = below[0]
        return {"kind": "pinned_below_min_score", "dossier": prep.ids[i],
                "score": float(prep.scores[i]), "min_score": float(instance.min_score)}
    pinned_cents = int(prep.cents[prep.pinned_in].sum())
    if pinned_cents > prep.budget_cents:
        return {"kind": "pinned_over_budget", "need": eur(pinned_cents),
                "budget": str(instance.budget)}
    return None


def _cap_conflict(prep: Prepared) -> dict | None:
    for cap, members, limit in zip(prep.instance.caps, prep.cap_members, prep.cap_cents,
                                   strict=True):
        used = int(prep.cents[members[prep.pinned_in[members]]].sum())
        if used > limit:
            return {**group_reason("pinned_over_cap", cap), "need": eur(used),
                    "cap": str(cap.max_aid)}
    return None


def _floor_conflict(prep: Prepared) -> dict | None:
    instance = prep.instance
    pinned_cents = int(prep.cents[prep.pinned_in].sum())
    for floor, members in zip(instance.floors, prep.floor_members, strict=True):
        floor_reason = {**group_reason("", floor), "min_count": floor.min_count}
        eligible = members[prep.eligible[members]]
        if len(eligible) < floor.min_count:
            return {**floor_reason, "kind": "floor_unreachable", "available": len(eligible)}
        pinned = eligible[prep.pinned_in[eligible]]
        free = np.sort(prep.cents[eligible[~prep.pinned_in[eligible]]])
        needed = int(free[:max(0, floor.min_count - len(pinned))].sum())
        if pinned_cents + needed > prep.budget_cents:
            return {**floor_reason, "kind": "floor_over_budget",
                    "need": eur(pinned_cents + needed), "budget": str(instance.budget)}
        in_group = int(prep.cents[pinned].sum()) + needed
        for cap, limit in zip(instance.caps, prep.cap_cents, strict=True):
            if (cap.group, cap.value) == (floor.group, floor.value) and in_group > limit:
                return {**floor_reason, "kind": "floor_over_cap", "need": eur(in_group),
                        "cap": str(cap.max_aid)}
    return None
