"""After the decision: the published decision, the grant with its tranches, payments and
reports, and a call's open data (SCDL). Opened to the dossier's participants and to the
call's instructors, committee and administrators, as the grant pages are."""

from django.http import Http404, HttpRequest
from ninja import Router

from guichet.api.dossiers import own_dossier
from guichet.api.schemas import DecisionOut, GrantOut
from guichet.api.serialise import in_paris_or_none
from guichet.backoffice.selectors import staff_call, staff_dossier
from guichet.dossiers.models import Dossier
from guichet.grants.decisions import published_decision
from guichet.grants.models import Grant
from guichet.grants.selectors import paid_total
from guichet.opendata.scdl import scdl_rows

router = Router(tags=["grants"])


def _followed(user, pk: int) -> Dossier:
    """The dossier, for its participants or for the staff who follow it after the decision
    (instruction, committee, administration: not the experts)."""
    own = own_dossier(user, pk)
    if own is not None:
        return own
    dossier = staff_dossier(user, pk)
    if not user.has_perm("review.write_note", dossier):
        raise Http404
    return dossier


@router.get("/dossiers/{pk}/decision", response=DecisionOut, summary="La décision publiée")
def decision(request: HttpRequest, pk: int):
    found = published_decision(_followed(request.user, pk))
    if found is None:
        raise Http404
    return {"outcome": found.outcome, "outcome_label": found.get_outcome_display(),
            "awarded_aid": found.awarded_aid, "motivation": found.motivation,
            "published_at": in_paris_or_none(found.published_at)}


@router.get("/dossiers/{pk}/grant", response=GrantOut,
            summary="La subvention : tranches, versements, rapports")
def grant(request: HttpRequest, pk: int):
    found = Grant.objects.filter(dossier=_followed(request.user, pk)).prefetch_related(
        "tranches__payments", "reports").first()
    if found is None:
        raise Http404
    return {
        "award": found.award, "eligible_base": found.eligible_base, "status": found.status,
        "status_label": found.get_status_display(), "start_date": found.start_date,
        "duration_months": found.duration_months,
        "signed_at": in_paris_or_none(found.signed_at), "paid": paid_total(found),
        "tranches": [{
            "number": tranche.number, "label": tranche.label,
            "scheduled_amount": tranche.scheduled_amount, "amount": tranche.amount,
            "status": tranche.status, "status_label": tranche.get_status_display(),
            "due_at": in_paris_or_none(tranche.due_at),
            "payments": [{"amount": payment.amount, "paid_on": payment.paid_on,
                          "reference": payment.reference,
                          "reversal": payment.reverses_id is not None}
                         for payment in sorted(tranche.payments.all(), key=lambda p: p.pk)]}
            for tranche in sorted(found.tranches.all(), key=lambda t: t.number)],
        "reports": [{"kind": report.kind, "kind_label": report.get_kind_display(),
                     "due_on": report.due_on, "status": report.status,
                     "status_label": report.get_status_display(),
                     "submitted_at": in_paris_or_none(report.submitted_at)}
                    for report in sorted(found.reports.all(), key=lambda r: r.due_on)]}


@router.get("/calls/{code}/scdl", response=list[dict[str, str]],
            summary="Les subventions de l'appel au format SCDL",
            description="Une ligne par membre de chaque subvention signée, sous les noms de "
                        "colonnes du schéma « subventions » du socle commun des données "
                        "locales, comme l'export CSV de la page des subventions.")
def scdl(request: HttpRequest, code: str):
    return list(scdl_rows(staff_call(request.user, code)))
