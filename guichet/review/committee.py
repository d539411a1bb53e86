"""The committee's ranking and funding-line simulation, kept for audit."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier
from guichet.grants.models import SelectionRun
from guichet.grants.services import allowances
from guichet.review.experts import reviewable_dossiers
from guichet.review.instruction import require_perm
from guichet.review.scoring import Aggregate, aggregates
from guichet.rules.eligibility import compute_figures
from guichet.rules.selection import (
    InstanceError,
    explain,
    read_selection_instance,
    selection_result_to_dict,
    solve_selection,
)


class SelectionRefused(ServiceError):
    code = "selection_refused"


@dataclass(frozen=True)
class RankedDossier:
    dossier: Dossier
    aid: Decimal
    region: str
    aggregate: Aggregate


def requested_aid(dossier: Dossier) -> Decimal:
    latest = dossier.submissions.order_by("-version").first()
    return compute_figures(submitted_dossier(latest.snapshot), dossier.call.rules()).aid


def ranking(wave, *, normalised: bool = False) -> list[RankedDossier]:
    """Reviewable dossiers of the wave, best score first (unscored ones last)."""
    dossiers = list(reviewable_dossiers(wave).prefetch_related(
        "submissions", "consortium__members__organisation"))
    scores = aggregates(wave.call, [d.pk for d in dossiers])
    rows = [RankedDossier(d, requested_aid(d), _lead_region(d), scores[d.pk]) for d in dossiers]

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


def selection_instance(wave, *, budget: Decimal, caps=(), floors=(), pinned_in=(),
                       pinned_out=(), objective: str | None = None,
                       normalised: bool = False) -> dict:
    """The wave's selection problem in the contract's format (auditable with `guichet select`)."""
    grid = wave.call.rules().selection
    rows = [row for row in ranking(wave, normalised=normalised) if row.aggregate.mean is not None]
    return {
        "budget": str(budget), "min_score": float(grid.min_score),
        "objective": objective or grid.objective,
        "dossiers": [{"id": f"d{row.dossier.pk}", "aid": str(row.aid),
                      "score": float(row.aggregate.normalised if normalised
                                     else row.aggregate.mean),
                      "groups": _groups(row)}
                     for row in rows],
        "caps": list(caps), "floors": list(floors),
        "pinned_in": list(pinned_in), "pinned_out": list(pinned_out),
    }


def _groups(row: RankedDossier) -> dict[str, str]:
    """Region and sector when known (a cap or floor on a group ignores dossiers without it)."""
    groups = {"region": row.region, "sector": row.dossier.sector}
    return {name: value for name, value in groups.items() if value}


def _check_pins(instance: dict) -> None:
    """Pinned dossiers must be candidates of this wave (reviewed, with a score)."""
    candidates = {dossier["id"] for dossier in instance["dossiers"]}
    for name in ("pinned_in", "pinned_out"):
        unknown = [pin for pin in instance[name] if pin not in candidates]
        if unknown:
            raise SelectionRefused(
                _("Dossier absent du classement de cette vague : %(ids)s.")
                % {"ids": ", ".join(unknown)}, field=name)


def simulate(wave, by, **options) -> SelectionRun:
    """Solve the funding line (optimal portfolio and rank order), explain the difference,
    and keep the run for audit."""
    require_perm(by, "review.select", wave.call)
    instance = selection_instance(wave, budget=available_budget(wave), **options)
    _check_pins(instance)
    try:
        parsed = read_selection_instance(json.dumps(instance))
    except InstanceError as exc:
        field = exc.field.split("[", 1)[0].split(".", 1)[0]
        raise SelectionRefused(_("Paramètres de simulation refusés (%(field)s) : %(reason)s")
                               % {"field": exc.field, "reason": exc.reason},
                               field=field) from None
    result = solve_selection(parsed)
    payload = selection_result_to_dict(result)
    if payload.get("status") == "infeasible":
        raise SelectionRefused(_("Sélection impossible : %(reason)s")
                               % {"reason": payload.get("reason", "")})
    explanation = explain(parsed, payload["selected"], payload["rank_order"]["selected"])
    return SelectionRun.objects.create(call=wave.call, wave=wave, created_by=by,
                                       created_at=server_now(), instance=instance,
                                       result=payload, explanation=explanation)
