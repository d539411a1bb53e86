"""Tranches falling due, their payments and the reversal of a mistaken payment. A tranche is
paid once (a retry with the same reference returns the recorded payment); a grant whose
tranches are all paid is settled."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import WebhookEvent
from guichet.calls.webhooks import emit
from guichet.core.clock import in_paris
from guichet.core.clock import now as server_now
from guichet.core.permissions import require_perm
from guichet.grants.errors import GrantRefused
from guichet.grants.lifecycle.grant import GrantAction, apply_grant_transition
from guichet.grants.lifecycle.tranche import TrancheAction, apply_tranche_transition
from guichet.grants.models import Grant, GrantStatus, Payment, Tranche, TrancheStatus
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify

# The triggers of the call definition's tranches (`[[tranches]] trigger`).
TRIGGER_SIGNED = "agreement_signed"
TRIGGER_INTERMEDIATE = "intermediate_report_approved"
TRIGGER_FINAL = "final_report_approved"


def make_due(grant: Grant, trigger: str, now, amount: Decimal | None = None) -> Tranche:
    """The grant's tranche of `trigger` becomes due, for its scheduled amount unless told."""
    tranche = grant.tranches.select_for_update().get(trigger=trigger)
    apply_tranche_transition(
        tranche, TrancheAction.MAKE_DUE, due_at=now,
        amount=tranche.scheduled_amount if amount is None else amount)
    return tranche


@transaction.atomic
def record_payment(tranche: Tranche, by, *, paid_on: dt.date, reference: str,
                   now: dt.datetime | None = None) -> Payment:
    """Record the payment of a due tranche, once: a retry with the same reference returns the
    recorded payment; any other second payment is refused, and so is a transfer dated after
    today (Paris). After a reversal the tranche is due again and is paid anew."""
    require_perm(by, "review.instruct", tranche.grant.dossier)
    now = now or server_now()
    locked = Tranche.objects.select_for_update().get(pk=tranche.pk)
    existing = _live_payment(locked)
    if existing is not None:
        if existing.reference == reference.strip():
            return existing
        raise GrantRefused(_("Cette tranche est déjà versée (référence %(ref)s).")
                           % {"ref": existing.reference})
    if locked.status != TrancheStatus.DUE:
        raise GrantRefused(_("Cette tranche n'est pas exigible."))
    if not reference.strip():
        raise GrantRefused(_("Indiquez la référence du virement."), field="reference")
    today = in_paris(now).date()
    if paid_on > today:
        raise GrantRefused(_("La date du virement ne peut pas être postérieure à aujourd'hui "
                             "(%(today)s).") % {"today": f"{today:%d/%m/%Y}"}, field="paid_on")
    attempt = Payment.objects.filter(tranche=locked, reverses__isnull=True).count() + 1
    payment = Payment.objects.create(tranche=locked, attempt=attempt, amount=locked.amount,
                                     paid_on=paid_on, reference=reference.strip(),
                                     recorded_by=by, recorded_at=now)
    apply_tranche_transition(locked, TrancheAction.PAY)
    append_event(AuditAction.GRANT_TRANCHE_PAID, tranche.grant.dossier, by=by, at=now, details={
        "tranche": locked.number, "amount": str(payment.amount), "reference": payment.reference})
    notify(Kind.PAYMENT_MADE, payment=payment.pk)
    emit(tranche.grant.dossier.call, WebhookEvent.PAYMENT_RECORDED, {
        "dossier": tranche.grant.dossier_id, "grant": tranche.grant_id, "tranche": locked.number,
        "amount": str(payment.amount), "paid_on": paid_on.isoformat(),
        "reference": payment.reference})
    _close_if_settled(locked.grant)
    return payment


def _live_payment(tranche: Tranche) -> Payment | None:
    """The tranche's payment that no reversal cancelled, if any."""
    return Payment.objects.filter(tranche=tranche, reverses__isnull=True,
                                  reversal__isnull=True).first()


@transaction.atomic
def reverse_payment(payment: Payment, by, *, reason: str, now: dt.datetime | None = None
                    ) -> Payment:
    """Correct a mistaken payment by a reversal entry (the opposite amount, dated today in
    Paris): both entries are kept and audited, the tranche is due again, totals and the grant's
    status follow. A payment is reversed once; a reversal is never reversed."""
    grant = payment.tranche.grant
    require_perm(by, "review.instruct", grant.dossier)
    if not reason.strip():
        raise GrantRefused(_("Expliquez pourquoi ce versement est annulé."), field="reason")
    now = now or server_now()
    locked = Tranche.objects.select_for_update().get(pk=payment.tranche_id)
    payment = Payment.objects.get(pk=payment.pk)
    if payment.reverses_id is not None:
        raise GrantRefused(_("Une annulation ne s'annule pas : enregistrez un nouveau "
                             "versement."))
    earlier = Payment.objects.filter(reverses=payment).first()
    if earlier is not None:
        raise GrantRefused(_("Ce versement a déjà été annulé le %(date)s.")
                           % {"date": f"{earlier.paid_on:%d/%m/%Y}"})
    reversal = Payment.objects.create(
        tranche=locked, attempt=payment.attempt, amount=-payment.amount,
        paid_on=in_paris(now).date(), reference=payment.reference, reverses=payment,
        reason=reason.strip(), recorded_by=by, recorded_at=now)
    apply_tranche_transition(locked, TrancheAction.REVERSE)
    settled = Grant.objects.select_for_update().get(pk=grant.pk)
    if settled.status == GrantStatus.CLOSED:
        apply_grant_transition(settled, GrantAction.REOPEN)
    append_event(AuditAction.GRANT_PAYMENT_REVERSED, grant.dossier, by=by, at=now, details={
        "tranche": locked.number, "amount": str(reversal.amount),
        "reference": payment.reference, "reason": reversal.reason})
    return reversal


def _close_if_settled(grant: Grant) -> None:
    if not grant.tranches.exclude(status=TrancheStatus.PAID).exists():
        apply_grant_transition(Grant.objects.select_for_update().get(pk=grant.pk),
                               GrantAction.SETTLE)
