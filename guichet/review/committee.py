"""The committee's ranking and funding-line simulation, kept for audit."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier, DossierStatus, Submission
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Decision, Outcome, SelectionRun
from guichet.grants.selectors import allowances
from guichet.review import committee_text
from guichet.review.experts import reviewable_dossiers
from guichet.review.scoring import Aggregate, aggregates
from guichet.rules.eligibility import compute_figures
from guichet.rules.selection import (
    InstanceError,
    explain,
    read_selection_instance,
    selection_result_to_dict,
    solve_selection,
)
from guichet.rules.whatif import FrozenDossier, ThresholdError, Thresholds, WhatIf, what_if


class SelectionRefused(ServiceError):
    code = "selection_refused"


@dataclass(frozen=True)
class RankedDossier:
    dossier: Dossier
    aid: Decimal
    region: str
    aggregate: Aggregate


DECIDED = (DossierStatus.SELECTED, DossierStatus.REJECTED, DossierStatus.REDIRECTED)


def ranking(wave, *, normalised: bool = False, decided: bool = False) -> list[RankedDossier]:
    """Reviewable dossiers of the wave, best score first (unscored ones last); with `decided`,
    the dossiers whose decision is published too (the ranking the committee decided on)."""
    dossiers = reviewable_dossiers(wave)
    if decided:
        dossiers = Dossier.objects.filter(
            wave=wave, status__in=(DossierStatus.INSTRUCTED, *DECIDED),
            instruction__admissible=True, instruction__eligible=True)
    # Every row's data in a fixed number of queries, whatever the size of the wave. The aid
    # is the one the latest submission computed and stored (`Dossier.requested_aid`, the
    # ceiling of the decision too), not recomputed from every frozen snapshot.
    dossiers = list(dossiers.prefetch_related("consortium__members__organisation"))
    scores = aggregates(wave.call, [d.pk for d in dossiers])
    rows = [RankedDossier(d, d.requested_aid, _lead_region(d), scores[d.pk])
            for d in dossiers]

    def key(row: RankedDossier):
        value = row.aggregate.normalised if normalised else row.aggregate.mean
        return (value is None, -(value or 0), row.aid, row.dossier.pk)

    return sorted(rows, key=key)


def _lead_region(dossier: Dossier) -> str:
    lead = next((m for m in dossier.consortium.members.all() if m.is_lead), None)
    return lead.organisation.region if lead else ""


def available_budget(wave) -> Decimal:
    """What the wave can still commit: the very computation the commitment rule applies when
    decisions are published (carry-over, "what remains" waves and the programme's other calls
    included), so that the committee never draws a funding line that publication refuses."""
    return allowances(wave.call)[wave.pk]


def selection_id(dossier_pk: int) -> str:
    """A dossier's id in a selection instance (the contract's "d1"; never shown to people)."""
    return f"d{dossier_pk}"


def dossier_pk(selection_id_: str) -> int:
    return int(selection_id_.removeprefix("d"))


def selection_instance(wave, *, budget: Decimal, caps=(), floors=(), pinned_in=(),
                       pinned_out=(), objective: str | None = None,
                       normalised: bool = False) -> dict:
    """The wave's selection problem in the contract's format (auditable with `guichet select`);
    `pinned_in` and `pinned_out` are dossier primary keys."""
    grid = wave.call.rules().selection
    rows = [row for row in ranking(wave, normalised=normalised) if row.aggregate.mean is not None]
    return {
        "budget": str(budget), "min_score": float(grid.min_score),
        "objective": objective or grid.objective,
        "dossiers": [{"id": selection_id(row.dossier.pk), "aid": str(row.aid),
                      "score": float(row.aggregate.normalised if normalised
                                     else row.aggregate.mean),
                      "groups": _groups(row)}
                     for row in rows],
        "caps": list(caps), "floors": list(floors),
        "pinned_in": [selection_id(pk) for pk in pinned_in],
        "pinned_out": [selection_id(pk) for pk in pinned_out],
    }


def _groups(row: RankedDossier) -> dict[str, str]:
    """Region and sector when known (a cap or floor on a group ignores dossiers without it)."""
    groups = {"region": row.region, "sector": row.dossier.sector}
    return {name: value for name, value in groups.items() if value}


def _check_pins(instance: dict) -> None:
    """Pinned dossiers must be candidates of this wave (reviewed, with a score)."""
    candidates = {dossier["id"] for dossier in instance["dossiers"]}
    for name in ("pinned_in", "pinned_out"):
        unknown = [dossier_pk(pin) for pin in instance[name] if pin not in candidates]
        if unknown:
            numbers = Dossier.objects.filter(pk__in=unknown).values_list("receipt_number",
                                                                         flat=True)
            raise SelectionRefused(
                _("Dossier sans note dans le classement de cette vague : %(numbers)s.")
                % {"numbers": ", ".join(sorted(n or "?" for n in numbers))}, field=name)


def simulate(wave, by, **options) -> SelectionRun:
    """Solve the funding line (optimal portfolio and rank order), explain the difference,
    and keep the run for audit (with the options, so that the page shows them again)."""
    require_perm(by, "review.select", wave.call)
    instance = selection_instance(wave, budget=available_budget(wave), **options)
    _check_pins(instance)
    try:
        parsed = read_selection_instance(json.dumps(instance))
    except InstanceError as exc:
        field = exc.field.split("[", 1)[0].split(".", 1)[0]
        raise SelectionRefused(_("Paramètres de simulation refusés : une valeur est hors des "
                                 "limites admises."), field=field) from None
    result = solve_selection(parsed)
    if result.selected is None:
        why = committee_text.why_impossible(result.why, names_of(instance), wave.call.rules())
        raise SelectionRefused(_("Sélection impossible : %(reason)s.") % {"reason": why},
                               details=result.why)
    payload = selection_result_to_dict(result)
    explanation = explain(parsed, payload["selected"], payload["rank_order"]["selected"])
    return SelectionRun.objects.create(call=wave.call, wave=wave, created_by=by,
                                       created_at=server_now(), instance=instance,
                                       normalised=options.get("normalised", False),
                                       result=payload, explanation=explanation)


def names_of(instance: dict) -> dict[str, str]:
    """What people call the dossiers of a selection instance: their receipt numbers."""
    pks = [dossier_pk(dossier["id"]) for dossier in instance["dossiers"]]
    numbers = dict(Dossier.objects.filter(pk__in=pks).values_list("pk", "receipt_number"))
    return {selection_id(pk): numbers[pk] for pk in pks if numbers.get(pk)}


def describe(run: SelectionRun) -> committee_text.RunText:
    """The run as the committee page shows it."""
    return committee_text.describe_run(run, names_of(run.instance), run.call.rules())


def adoption_plan(run: SelectionRun) -> list[tuple[int, str, Decimal | None]]:
    """What adopting a run prepares, dossier by dossier of its instance: (primary key,
    outcome, awarded aid); the selected receive the aid the simulation counted, the others
    are not retained. Dossiers without a score were not in the run and stay undecided."""
    selected = set(run.result["selected"])
    return [(dossier_pk(item["id"]),
             Outcome.SELECTED if item["id"] in selected else Outcome.REJECTED,
             Decimal(item["aid"]) if item["id"] in selected else None)
            for item in run.instance["dossiers"]]


@transaction.atomic
def adopt_simulation(wave, run_pk: int | None, by) -> list[Decision]:
    """Prepare the decisions of the simulation `run_pk` in one step (each replacing a pending
    one), so that the committee publishes exactly the portfolio it simulated. Only the wave's
    last run may be adopted (the one the page showed), and only while each of its dossiers is
    still instructed (all or none)."""
    require_perm(by, "review.select", wave.call)
    run = SelectionRun.objects.filter(wave=wave).order_by("-created_at", "-pk").first()
    if run is None or run.pk != run_pk:
        raise SelectionRefused(_("Seule la dernière simulation de la vague peut être adoptée : "
                                 "rechargez la page."))
    plan = adoption_plan(run)
    dossiers = Dossier.objects.select_for_update().in_bulk([pk for pk, _o, _a in plan])
    motivation = _("Non retenu par le comité de sélection : le dossier n'entre pas dans la "
                   "ligne de financement de la vague, compte tenu des notes et du budget "
                   "disponible.")
    prepared = []
    for pk, outcome, aid in plan:
        dossier = dossiers[pk]
        if dossier.status != DossierStatus.INSTRUCTED:
            raise SelectionRefused(
                _("Le dossier %(number)s n'est plus en attente de décision (%(status)s) : "
                  "relancez la simulation.") % {"number": dossier.receipt_number,
                                                "status": dossier.get_status_display()})
        prepared.append(prepare_decision(
            dossier, by, outcome, awarded_aid=aid,
            motivation="" if outcome == Outcome.SELECTED else motivation))
    append_event(AuditAction.REVIEW_SELECTION_ADOPTED, run, by=by, details={
        "selected": len([d for d in prepared if d.outcome == Outcome.SELECTED]),
        "rejected": len([d for d in prepared if d.outcome == Outcome.REJECTED])})
    return prepared


def threshold_what_if(wave, by, thresholds: Thresholds) -> tuple[WhatIf, dict[str, Dossier]]:
    """Which submitted dossiers of the wave would change verdict under other thresholds, and
    the aid their eligible dossiers would then request; read-only (the frozen verdicts stay).
    Returns the comparison and the dossiers it names (by their key in it)."""
    require_perm(by, "review.select", wave.call)
    latest = {}
    for submission in (Submission.objects.filter(dossier__wave=wave)
                       .exclude(dossier__status=DossierStatus.DRAFT)
                       .select_related("dossier").order_by("dossier", "version")):
        latest[submission.dossier_id] = submission  # the last version wins
    rules = wave.call.rules()
    frozen = []
    for submission in latest.values():
        document = submitted_dossier(submission.snapshot)
        failed = frozenset(result["rule"] for result in submission.verdict["results"]
                           if not result["ok"])
        frozen.append(FrozenDossier(str(submission.dossier_id), document, failed,
                                    compute_figures(document, rules).aid))
    try:
        comparison = what_if(frozen, rules, thresholds)
    except ThresholdError as exc:
        raise SelectionRefused(_("Seuil hors des limites admises."), field=exc.field) from None
    return comparison, {str(s.dossier_id): s.dossier for s in latest.values()}
