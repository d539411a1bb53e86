"""Decisions: prepared one by one, published together, reverted only by an administrator."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import WebhookEvent
from guichet.calls.webhooks import emit
from guichet.core.clock import format_paris_instant
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.pdf import render_pdf
from guichet.core.permissions import require_perm
from guichet.dossiers.lifecycle import DOSSIER, DossierAction, apply_dossier_transition
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.dossiers.selectors import lead_addressee
from guichet.grants.commitment import commit_grant, release_grant
from guichet.grants.lifecycle.decision import DecisionAction, apply_decision_transition
from guichet.grants.models import Decision, DecisionStatus, Outcome
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify

# How publishing a decision moves its dossier (guichet.dossiers.lifecycle).
OUTCOME_ACTION = {Outcome.SELECTED: DossierAction.SELECT,
                  Outcome.REJECTED: DossierAction.REJECT,
                  Outcome.REDIRECTED: DossierAction.REDIRECT}


class DecisionRefused(ServiceError):
    code = "decision_refused"


@transaction.atomic
def prepare_decision(dossier: Dossier, by, outcome: str, *, awarded_aid: Decimal | None = None,
                     motivation: str = "", redirected_to: str = "") -> Decision:
    """A pending decision (replacing any pending one): selected with its awarded aid (less than
    requested only with a reason), rejected with a motivation, or redirected to a named
    programme."""
    require_perm(by, "review.prepare_decision", dossier)
    if dossier.status != DossierStatus.INSTRUCTED:
        raise DecisionRefused(_("Seul un dossier instruit reçoit une décision."))
    motivation, redirected_to = motivation.strip(), redirected_to.strip()
    _check(outcome, awarded_aid, motivation, redirected_to, dossier.requested_aid)
    Decision.objects.filter(dossier=dossier, status=DecisionStatus.PENDING).delete()
    decision = Decision.objects.create(
        dossier=dossier, outcome=outcome, motivation=motivation, redirected_to=redirected_to,
        awarded_aid=awarded_aid if outcome == Outcome.SELECTED else None,
        prepared_by=by, prepared_at=server_now())
    append_event(AuditAction.DECISION_PREPARED, dossier, by=by, details={
        "outcome": outcome, "awarded_aid": str(decision.awarded_aid or "")})
    return decision


def _check(outcome, awarded_aid, motivation, redirected_to, requested) -> None:
    if outcome not in Outcome.values:
        raise DecisionRefused(_("Issue inconnue."), field="outcome")
    if outcome == Outcome.SELECTED:
        if awarded_aid is None or awarded_aid <= 0:
            raise DecisionRefused(_("Indiquez l'aide attribuée."), field="awarded_aid")
        if requested is not None and awarded_aid > requested:
            raise DecisionRefused(_("L'aide attribuée ne peut dépasser l'aide demandée."),
                                  field="awarded_aid")
        if requested is not None and awarded_aid < requested and not motivation:
            raise DecisionRefused(_("Motivez une aide inférieure à la demande."),
                                  field="motivation")
    elif outcome == Outcome.REJECTED and not motivation:
        raise DecisionRefused(_("Un refus doit être motivé."), field="motivation")
    elif outcome == Outcome.REDIRECTED and not redirected_to:
        raise DecisionRefused(_("Nommez le programme vers lequel le dossier est réorienté."),
                              field="redirected_to")


@transaction.atomic
def publish_decisions(wave, by) -> list[Decision]:
    """Publish every pending decision of the wave at the same instant, committing each selected
    aid against the envelopes (all or nothing: one that does not fit refuses the publication,
    saying what remains); each lead and member then gets a notice with the decision letter."""
    require_perm(by, "review.publish_decisions", wave.call)
    pending = list(Decision.objects.select_for_update().filter(
        dossier__wave=wave, status=DecisionStatus.PENDING).select_related("dossier"))
    if not pending:
        raise DecisionRefused(_("Aucune décision en attente de publication."))
    _check_still_instructed(pending)
    instant = server_now()
    for decision in pending:
        apply_decision_transition(decision, DecisionAction.PUBLISH, published_at=instant)
        apply_dossier_transition(decision.dossier, OUTCOME_ACTION[decision.outcome])
        if decision.outcome == Outcome.SELECTED:
            commit_grant(decision, by, now=instant)
        append_event(AuditAction.DECISION_PUBLISHED, decision.dossier, by=by, at=instant,
                     details={"outcome": decision.outcome,
                              "awarded_aid": str(decision.awarded_aid or "")})
        notify(Kind.DECISION_PUBLISHED, decision=decision.pk)
        emit(wave.call, WebhookEvent.DECISION_PUBLISHED, {
            "dossier": decision.dossier_id, "decision": decision.pk,
            "outcome": decision.outcome, "awarded_aid": str(decision.awarded_aid or "")})
    return pending


def _check_still_instructed(pending: list[Decision]) -> None:
    """Refuse the publication, naming the dossier, when a dossier was sent back for corrections
    after its decision was prepared: its decision must be prepared again once re-instructed."""
    for decision in pending:
        if not DOSSIER.allows(decision.dossier.status, OUTCOME_ACTION[decision.outcome]):
            raise DecisionRefused(_(
                "Le dossier %(number)s n'est plus instruit (%(status)s) : instruisez-le et "
                "préparez de nouveau sa décision avant de publier.") % {
                    "number": decision.dossier.receipt_number,
                    "status": decision.dossier.get_status_display()})


@transaction.atomic
def revert_decision(decision: Decision, by, motivation: str) -> None:
    require_perm(by, "review.revert_decision", decision.dossier)
    if decision.status != DecisionStatus.PUBLISHED:
        raise DecisionRefused(_("Seule une décision publiée peut être annulée."))
    if not motivation.strip():
        raise DecisionRefused(_("Motivez l'annulation."), field="motivation")
    release_grant(decision, by)
    apply_decision_transition(decision, DecisionAction.REVERT, reverted_at=server_now(),
                              revert_motivation=motivation.strip())
    apply_dossier_transition(Dossier.objects.select_for_update().get(pk=decision.dossier_id),
                             DossierAction.REVERT_DECISION)
    append_event(AuditAction.DECISION_REVERTED, decision.dossier, by=by,
                 details={"decision": decision.pk, "motivation": motivation.strip()})


def published_decision(dossier: Dossier) -> Decision | None:
    return Decision.objects.filter(dossier=dossier, status=DecisionStatus.PUBLISHED).first()


def decision_letter_pdf(decision: Decision) -> bytes:
    """The letter: addressed to the lead organisation and its representative, signed for the
    call's attributing body; a refusal says how and within what time it may be appealed."""
    organisation, representative = lead_addressee(decision.dossier)
    return render_pdf("grants/decision_letter.html", {
        "decision": decision, "dossier": decision.dossier, "rules": decision.dossier.call.rules(),
        "lead": organisation, "representative": representative,
        "published_at": format_paris_instant(decision.published_at) if decision.published_at
        else None})
