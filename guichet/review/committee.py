"""The committee's ranking and funding-line simulation, kept for audit."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.models import SelectionRun
from guichet.grants.selectors import allowances
from guichet.review import committee_text
from guichet.review.experts import reviewable_dossiers
from guichet.review.scoring import Aggregate, aggregates
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
