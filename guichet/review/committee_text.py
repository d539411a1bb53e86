"""The committee's funding line in sentences, in the reader's language (gettext).

The rules core says why a selection differs from the rank-order line, or why none exists, as
data (`rules.selection.explain`, `SelectionResult.why`); this module writes it for people:
dossiers by their receipt number, groups by their label, amounts and scores as people read
them. `names` maps a selection id ("d12") to what people call the dossier.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.core import labels

MOST_NAMED = 3  # dossiers named in one reason ("place libérée par A, B, C …")


@dataclass(frozen=True)
class ExplainedDossier:
    name: str
    score: str
    aid: str
    reason: str


@dataclass(frozen=True)
class RunText:
    """A selection run as the committee page shows it."""

    objective: str
    normalised: bool
    selected: list[str]
    rank_order: list[str]
    total_aid: Decimal
    solver: str
    summary: str  # the two lines compared, in one sentence
    enters: list[ExplainedDossier]
    leaves: list[ExplainedDossier]
    passed_over_heading: str
    passed_over: list[ExplainedDossier]  # set aside by both lines, though better scored
    pinned_in: list[str]
    pinned_out: list[str]
    below_min_score: str


def describe_run(run, names: Mapping[str, str], definition) -> RunText:
    """What a `SelectionRun` found and why, in sentences."""
    result, explanation, instance = run.result, run.explanation, run.instance
    objective = instance["objective"]
    text = _Writer(names, definition, objective)
    same = explanation.get("same", not explanation["enters"] and not explanation["leaves"])
    shared = [entry for entry in explanation.get("passed_over", [])
              if not entry["in_rank_order"]]
    inversions = explanation.get("rank_inversions_total", 0)
    return RunText(
        objective=labels.label("objective", objective), normalised=run.normalised,
        selected=text.names(result["selected"]),
        rank_order=text.names(result["rank_order"]["selected"]),
        total_aid=Decimal(result["total_aid"]), solver=_solver(result),
        summary=_summary(same, inversions),
        enters=[text.dossier(entry, entering=True) for entry in explanation["enters"]],
        leaves=[text.dossier(entry, entering=False) for entry in explanation["leaves"]],
        passed_over_heading=(
            _("Les deux lignes écartent ces dossiers, mieux notés qu'un dossier retenu :")
            if shared else ""),
        passed_over=[text.dossier(entry, entering=False) for entry in shared],
        pinned_in=text.names(entry["id"] for entry in explanation.get("pinned_in", [])),
        pinned_out=text.names(entry["id"] for entry in explanation.get("pinned_out", [])),
        below_min_score=_below(explanation.get("below_min_score", []), instance, text),
    )


def _summary(same: bool, inversions: int) -> str:
    if same and not inversions:
        return _("Les deux lignes retiennent les mêmes dossiers.")
    if same:
        return ngettext(
            "Les deux lignes retiennent les mêmes dossiers, avec la même inversion de rang "
            "(un dossier mieux noté écarté faute de place).",
            "Les deux lignes retiennent les mêmes dossiers, avec les mêmes %(n)d inversions "
            "de rang (des dossiers mieux notés écartés faute de place).",
            inversions) % {"n": inversions}
    if not inversions:
        return _("Le portefeuille optimal diffère de la ligne au rang, sans inversion de rang.")
    return ngettext(
        "Le portefeuille optimal diffère de la ligne au rang ; il compte %(n)d inversion de "
        "rang (un dossier mieux noté écarté au profit d'un autre).",
        "Le portefeuille optimal diffère de la ligne au rang ; il compte %(n)d inversions de "
        "rang (un dossier mieux noté écarté au profit d'un autre).",
        inversions) % {"n": inversions}


def _solver(result: dict) -> str:
    if result["optimal"]:
        return _("optimum prouvé par le solveur")
    status = {"time_limit": _("temps limite atteint"),
              "tolerance_violation": _("tolérance numérique dépassée")}.get(
        result["status"], _("arrêt du solveur"))
    return _("optimum non prouvé (%(status)s, écart %(gap)s %%)") % {
        "status": status, "gap": number_format((result.get("gap") or 0) * 100, 2)}


def _below(entries: list[dict], instance: dict, text: "_Writer") -> str:
    if not entries:
        return ""
    return _("Sous la note minimale de l'appel (%(score)s) : %(names)s.") % {
        "score": number_format(instance.get("min_score") or 0, 2),
        "names": ", ".join(text.names(entry["id"] for entry in entries))}


def why_impossible(why: Mapping, names: Mapping[str, str], definition) -> str:
    """Why no selection exists (`SelectionResult.why`), in a sentence."""
    text = _Writer(names, definition, "")
    kind = why["kind"]
    figures = {
        "dossier": text.name(why.get("dossier", "")),
        "score": number_format(why.get("score", 0), 2),
        "min_score": number_format(why.get("min_score") or 0, 2),
        "need": text.money(why.get("need")), "budget": text.money(why.get("budget")),
        "cap": text.money(why.get("cap")),
        "group": text.group(why) if "group" in why else "",
        "projects": _projects(why.get("min_count", 0)),
        "available": why.get("available", 0),
        "seconds": number_format(why.get("seconds", 0), 0),
    }
    sentences = {
        "pinned_both": _("%(dossier)s est à la fois retenu et écarté d'office"),
        "pinned_below_min_score": _("%(dossier)s, retenu d'office, a la note %(score)s, sous "
                                    "la note minimale de l'appel (%(min_score)s)"),
        "pinned_over_budget": _("les dossiers retenus d'office demandent %(need)s, plus que le "
                                "budget disponible (%(budget)s)"),
        "pinned_over_cap": _("les dossiers retenus d'office en %(group)s demandent %(need)s, "
                             "plus que son plafond (%(cap)s)"),
        "floor_unreachable": _("le plancher %(group)s demande %(projects)s, mais %(available)d "
                               "seulement peuvent être retenus (note minimale atteinte, non "
                               "écartés d'office)"),
        "floor_over_budget": _("le plancher %(group)s : ses %(projects)s les moins coûteux et "
                               "les dossiers retenus d'office demandent %(need)s, plus que le "
                               "budget disponible (%(budget)s)"),
        "floor_over_cap": _("le plancher %(group)s : ses %(projects)s les moins coûteux "
                            "demandent %(need)s, plus que son plafond (%(cap)s)"),
        "no_selection": _("aucune sélection ne respecte à la fois le budget, les plafonds, les "
                          "planchers et les décisions d'office"),
        "time_limit": _("le temps limite (%(seconds)s s) est atteint avant qu'une sélection "
                        "respectant toutes les règles soit trouvée"),
    }
    sentence = sentences.get(kind, _("le solveur s'est arrêté avant de trouver une sélection"))
    return sentence % figures


def _projects(count: int) -> str:
    return ngettext("%(n)d projet", "%(n)d projets", count) % {"n": count}


class _Writer:
    """Names, amounts, groups and reasons of one run, as people read them."""

    def __init__(self, names: Mapping[str, str], definition, objective: str):
        self._names, self._definition, self._objective = names, definition, objective

    def name(self, selection_id: str) -> str:
        return self._names.get(selection_id, selection_id)

    def names(self, ids) -> list[str]:
        return [self.name(selection_id) for selection_id in ids]

    def some(self, ids: list[str]) -> str:
        if not ids:
            return _("d'autres projets")
        named = ", ".join(self.names(ids[:MOST_NAMED]))
        return named + (" …" if len(ids) > MOST_NAMED else "")

    def money(self, amount) -> str:
        return labels.money(Decimal(amount)) if amount is not None else ""

    def group(self, item: Mapping) -> str:
        value = item["value"]
        name = (labels.label("region", value) if item["group"] == "region"
                else labels.call_label(self._definition, "sectors", value))
        return f"{labels.SELECTION_GROUPS.get(item['group'], item['group'])} {name}"

    def dossier(self, entry: dict, *, entering: bool) -> ExplainedDossier:
        reasons = entry.get("reasons")
        reason = ("; ".join(self.reason(r, entry, entering=entering) for r in reasons)
                  if reasons is not None else entry.get("reason", ""))  # runs before reasons
        return ExplainedDossier(self.name(entry["id"]), number_format(entry["score"], 2),
                                self.money(entry["aid"]), reason)

    def reason(self, reason: dict, entry: dict, *, entering: bool) -> str:
        kind = reason["kind"]
        aid = self.money(entry["aid"])
        if kind == "floor":
            return _("plancher %(group)s : au moins %(projects)s") % {
                "group": self.group(reason), "projects": _projects(reason["min_count"])}
        if kind == "cap_room":
            return _("plafond %(group)s : place libérée par %(names)s") % {
                "group": self.group(reason), "names": self.some(reason["freed_by"])}
        if kind == "budget_room":
            return _("budget : financé par l'aide libérée par %(names)s") % {
                "names": self.some(reason["freed_by"])}
        if kind == "cap_reached":
            return _("plafond %(group)s atteint") % {"group": self.group(reason)}
        if kind == "budget_swap":
            return self._swap(aid, reason["entering"], reason["better_in_total"])
        if kind == "budget_full":
            return _("budget : l'aide de %(aid)s ne tient plus dans le budget restant") % {
                "aid": aid}
        if kind == "adds_nothing":
            return _("n'ajoute rien à l'objectif")
        return _("retenu par l'optimisation") if entering else _("non retenu par "
                                                                   "l'optimisation")

    def _swap(self, aid: str, count: int, better: bool) -> str:
        if not better:
            sentence = ngettext("budget : l'aide de %(aid)s laisse place à %(n)d projet entrant",
                                "budget : l'aide de %(aid)s laisse place à %(n)d projets "
                                "entrants", count)
        elif self._objective == "score_sum":
            sentence = ngettext("budget : l'aide de %(aid)s laisse place à %(n)d projet mieux "
                                "noté au total",
                                "budget : l'aide de %(aid)s laisse place à %(n)d projets mieux "
                                "notés au total", count)
        else:
            sentence = ngettext("budget : l'aide de %(aid)s laisse place à %(n)d projet de plus "
                                "grande valeur au total (note × aide)",
                                "budget : l'aide de %(aid)s laisse place à %(n)d projets de plus "
                                "grande valeur au total (note × aide)", count)
        return sentence % {"aid": aid, "n": count}
