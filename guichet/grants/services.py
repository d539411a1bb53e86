"""Grants and money: commitment against the envelopes, early closure, agreement, tranches,
payments, reports, amendments. Amounts are exact to the cent; commitments are serialised on
the programme's row so that parallel publications never over-commit an envelope."""

import datetime as dt
from decimal import Decimal

import msgspec
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.services import append_event
from guichet.calls.models import Call, CallStatus, Programme, Wave
from guichet.core.clock import in_paris
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.core.tasks import run_after_commit
from guichet.core.text import mail_subject
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier
from guichet.dossiers.notifications import participants
from guichet.dossiers.pdf_check import DocumentRefused, check_pdf
from guichet.dossiers.permissions import is_lead
from guichet.grants.models import (
    Amendment,
    Decision,
    Grant,
    GrantStatus,
    Payment,
    RecoveryOrder,
    Report,
    ReportKind,
    ReportStatus,
    Tranche,
    TrancheStatus,
)
from guichet.rules import dossier as fmt
from guichet.rules.eligibility import compute_figures, evaluate
from guichet.rules.grants import (
    balance_due,
    final_report_due,
    months_after,
    tranche_amounts,
    wave_allowances,
)
from guichet.rules.money import CENT, ZERO, format_eur_fr

TRIGGER_SIGNED = "agreement_signed"
TRIGGER_INTERMEDIATE = "intermediate_report_approved"
TRIGGER_FINAL = "final_report_approved"


class GrantRefused(ServiceError):
    code = "grant_refused"


# --- commitment and envelopes -----------------------------------------------------------------

def committed_by_wave(call: Call) -> dict[int, Decimal]:
    rows = Grant.objects.filter(wave__call=call).values("wave").annotate(total=Sum("award"))
    return {row["wave"]: row["total"] for row in rows}


def allowances(call: Call) -> dict[int, Decimal]:
    """What each wave of the call can still commit (rules.grants.wave_allowances)."""
    waves = list(call.waves.order_by("position"))
    committed = committed_by_wave(call)
    envelope = call.programme.envelope - _committed_outside(call)
    available = wave_allowances(envelope, [(w.budget, committed.get(w.pk, ZERO)) for w in waves],
                                call.rules().funding.carry_over)
    return {wave.pk: amount for wave, amount in zip(waves, available, strict=True)}


def _committed_outside(call: Call) -> Decimal:
    """Aid the same programme committed through its other calls."""
    return Grant.objects.filter(wave__call__programme=call.programme).exclude(
        wave__call=call).aggregate(total=Sum("award"))["total"] or ZERO


def programme_remaining(programme: Programme) -> Decimal:
    committed = Grant.objects.filter(wave__call__programme=programme).aggregate(
        total=Sum("award"))["total"] or ZERO
    return programme.envelope - committed


def commit_grant(decision: Decision, by, now=None) -> Grant:
    """Commit a selected decision's aid; refused with the remaining amount when it does not fit
    the wave or the programme. Call inside the transaction that publishes the decision."""
    now = now or server_now()
    dossier = decision.dossier
    call = dossier.call
    # One lock per programme: commitments of all its calls and waves are serialised, so the
    # sums read below cannot change before this commitment is written. `make test` (SQLite,
    # which serialises every write) stays green without it: only the PostgreSQL run of
    # tests/test_grants_concurrency.py (.ci/run) fails if this lock goes.
    Programme.objects.select_for_update().get(pk=call.programme_id)
    available = allowances(call)[dossier.wave_id]
    if decision.awarded_aid > available:
        raise GrantRefused(_(
            "Engagement refusé pour le dossier %(number)s : l'aide de %(aid)s dépasse ce qui "
            "reste à engager (%(remaining)s).") % {
                "number": dossier.receipt_number, "aid": format_eur_fr(decision.awarded_aid),
                "remaining": format_eur_fr(max(available, ZERO))})
    frozen = submitted_dossier(dossier.submissions.order_by("-version").first().snapshot)
    figures = compute_figures(frozen, call.rules())
    grant = Grant.objects.create(
        dossier=dossier, decision=decision, wave=dossier.wave, award=decision.awarded_aid,
        eligible_base=figures.eligible_base, duration_months=frozen.duration_months,
        start_date=frozen.start_date or now.date(), committed_at=now)
    _schedule(grant, call)
    append_event("grant.committed", dossier, by=by, at=now,
                 details={"award": str(grant.award), "wave": dossier.wave.code})
    run_after_commit(close_if_exhausted, call.pk)
    return grant


def _schedule(grant: Grant, call: Call) -> None:
    rules = call.rules()
    amounts = tranche_amounts(grant.award, [tranche.share for tranche in rules.tranches])
    Tranche.objects.bulk_create(
        Tranche(grant=grant, number=number, label=tranche.label, trigger=tranche.trigger,
                scheduled_amount=amount)
        for number, (tranche, amount) in enumerate(zip(rules.tranches, amounts, strict=True),
                                                   start=1))
    intermediate_due = months_after(grant.start_date, rules.eligibility.first_results_month)
    final_due = final_report_due(grant.start_date, grant.duration_months,
                                 rules.reporting.final_report_delay_months)
    Report.objects.bulk_create([
        Report(grant=grant, kind=ReportKind.INTERMEDIATE, due_on=intermediate_due),
        Report(grant=grant, kind=ReportKind.FINAL, due_on=final_due)])


def release_grant(decision: Decision, by) -> None:
    """Undo the commitment of a reverted decision, releasing its aid into the envelopes.
    Refused once money was paid: that takes a recovery order, not a revert."""
    grant = Grant.objects.select_for_update().filter(decision=decision).first()
    if grant is None:
        return
    if Payment.objects.filter(tranche__grant=grant).exists():
        raise GrantRefused(_("Des versements ont eu lieu sur cette subvention : elle ne peut "
                             "être annulée que par un ordre de reversement."))
    append_event("grant.released", grant.dossier, by=by, details={"award": str(grant.award)})
    grant.tranches.all().delete()
    grant.reports.all().delete()
    grant.delete()


# --- early closure ---------------------------------------------------------------------------

def close_if_exhausted(call_pk: int) -> bool:
    """Close the call by itself when what remains of the programme falls below the threshold."""
    call = Call.objects.select_related("programme").get(pk=call_pk)
    threshold = call.rules().funding.early_closure_threshold
    remaining = programme_remaining(call.programme)
    if call.is_closed or remaining >= threshold:
        return False
    close_call(call, None, _(
        "L'enveloppe du programme est consommée (reste %(remaining)s, moins que l'aide minimale "
        "d'un projet) : l'appel est clos.") % {"remaining": format_eur_fr(remaining)})
    return True


@transaction.atomic
def close_call(call: Call, by, message: str, now=None) -> None:
    """Close a call before its end (an administrator, or the envelope running out): the open
    wave closes now, the waves not yet open are cancelled (they keep their planned dates),
    submissions are refused with `message`, every account holder is told."""
    if by is not None:
        require_perm(by, "review.publish_decisions", call)
    if not message.strip():
        raise GrantRefused(_("Expliquez la clôture."), field="message")
    now = now or server_now()
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.is_closed:
        return
    locked.status, locked.closed_message, locked.closed_at = CallStatus.CLOSED, message, now
    locked.save(update_fields=["status", "closed_message", "closed_at"])
    Wave.objects.filter(call=locked, opens_at__lte=now, closes_at__gt=now).update(closes_at=now)
    append_event("call.closed", locked, by=by, at=now, details={"message": message})
    run_after_commit(notify_closure, locked.pk)


def account_holders(call: Call) -> list[str]:
    """Everyone with an account on the call: the participants of its dossiers and its staff."""
    applicants = User.objects.filter(participations__member__consortium__dossiers__call=call)
    staff = User.objects.filter(call_roles__call=call)
    return sorted(set(applicants.values_list("email", flat=True))
                  | set(staff.values_list("email", flat=True)))


def notify_closure(call_pk: int) -> None:
    call = Call.objects.get(pk=call_pk)
    for email in account_holders(call):
        send_mail(mail_subject(_("Clôture de l'appel %(call)s") % {"call": call.name}),
                  call.closed_message, None, [email])


# --- agreement and signature -----------------------------------------------------------------

@transaction.atomic
def sign_agreement(grant: Grant, by, upload, now=None) -> Grant:
    """The lead uploads the signed agreement (a PDF, checked and hashed); tranche 1 becomes due."""
    if not _is_lead(by, grant.dossier):
        raise GrantRefused(_("Seul le chef de file signe la convention."))
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    if locked.status != GrantStatus.COMMITTED:
        raise GrantRefused(_("La convention est déjà signée."))
    try:
        checked = check_pdf(upload)
    except DocumentRefused as refused:
        raise GrantRefused(refused.reason, field="file") from None
    upload.seek(0)
    now = now or server_now()
    locked.signed_sha256, locked.signed_at, locked.status = checked.sha256, now, GrantStatus.SIGNED
    locked.signed_active_content = list(checked.active_content)
    locked.signed_file.save("signed.pdf", ContentFile(upload.read()), save=False)
    locked.save()
    _make_due(locked, TRIGGER_SIGNED, now)
    append_event("grant.signed", grant.dossier, by=by, at=now,
                 details={"sha256": checked.sha256, **checked.audit_details()})
    return locked


def _is_lead(user, dossier: Dossier) -> bool:
    return is_lead(user, dossier)


def _make_due(grant: Grant, trigger: str, now, amount: Decimal | None = None) -> Tranche:
    tranche = grant.tranches.select_for_update().get(trigger=trigger)
    tranche.status, tranche.due_at = TrancheStatus.DUE, now
    tranche.amount = tranche.scheduled_amount if amount is None else amount
    tranche.save(update_fields=["status", "due_at", "amount"])
    return tranche


# --- payments --------------------------------------------------------------------------------

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
    locked.status = TrancheStatus.PAID
    locked.save(update_fields=["status"])
    append_event("grant.tranche_paid", tranche.grant.dossier, by=by, at=now, details={
        "tranche": locked.number, "amount": str(payment.amount), "reference": payment.reference})
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
    locked.status = TrancheStatus.DUE
    locked.save(update_fields=["status"])
    Grant.objects.filter(pk=grant.pk, status=GrantStatus.CLOSED).update(
        status=GrantStatus.SIGNED)
    append_event("grant.payment_reversed", grant.dossier, by=by, at=now, details={
        "tranche": locked.number, "amount": str(reversal.amount),
        "reference": payment.reference, "reason": reversal.reason})
    return reversal


def paid_total(grant: Grant) -> Decimal:
    """What was paid, net of reversals."""
    return Payment.objects.filter(tranche__grant=grant).aggregate(
        total=Sum("amount"))["total"] or ZERO


def _close_if_settled(grant: Grant) -> None:
    if not grant.tranches.exclude(status=TrancheStatus.PAID).exists():
        Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.CLOSED)


# --- reports ---------------------------------------------------------------------------------

@transaction.atomic
def submit_report(report: Report, by, *, narrative: str, indicators: dict[str, int],
                  expenses: list[tuple[int, str, Decimal]], now=None) -> Report:
    """The lead hands in a report: narrative, the call's indicators, and the statement of
    actual expenses (member id, category, amount)."""
    if not _is_lead(by, report.grant.dossier):
        raise GrantRefused(_("Seul le chef de file remet les rapports."))
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status not in (ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED):
        raise GrantRefused(_("Ce rapport est déjà remis."))
    if locked.grant.status == GrantStatus.COMMITTED:
        raise GrantRefused(_("La convention n'est pas encore signée."))
    known = {indicator.id for indicator in report.grant.dossier.call.rules().indicators}
    unknown = sorted(set(indicators) - known)
    if unknown:
        raise GrantRefused(_("Indicateur inconnu : %(ids)s.") % {"ids": ", ".join(unknown)})
    members = set(report.grant.dossier.consortium.members.values_list("pk", flat=True))
    if any(member not in members for member, _category, _amount in expenses):
        raise GrantRefused(_("Un membre de l'état des dépenses n'appartient pas au consortium."))
    if not narrative.strip():
        raise GrantRefused(_("Le rapport doit décrire les résultats."), field="narrative")
    locked.narrative, locked.indicators = narrative.strip(), indicators
    locked.status, locked.submitted_at = ReportStatus.SUBMITTED, now or server_now()
    locked.save()
    locked.expenses.all().delete()
    locked.expenses.model.objects.bulk_create(
        locked.expenses.model(report=locked, member_id=member, category=category, amount=amount)
        for member, category, amount in expenses)
    append_event("grant.report_submitted", report.grant.dossier, by=by,
                 details={"kind": locked.kind})
    return locked


@transaction.atomic
def review_report(report: Report, by, *, approve: bool, comment: str = "", now=None) -> Report:
    """Approve a report (which makes the next tranche due) or ask for changes. Approving the
    final report recomputes the balance; a negative balance issues a recovery order."""
    require_perm(by, "review.instruct", report.grant.dossier)
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.SUBMITTED:
        raise GrantRefused(_("Ce rapport n'est pas en attente d'examen."))
    if not approve and not comment.strip():
        raise GrantRefused(_("Précisez les compléments demandés."), field="comment")
    if approve and locked.kind == ReportKind.FINAL and locked.grant.reports.filter(
            kind=ReportKind.INTERMEDIATE).exclude(status=ReportStatus.APPROVED).exists():
        raise GrantRefused(_("Le rapport intermédiaire doit être approuvé avant le rapport "
                             "final : le solde se calcule sur ce qui a déjà été versé."))
    now = now or server_now()
    locked.status = ReportStatus.APPROVED if approve else ReportStatus.CHANGES_REQUESTED
    locked.reviewed_at, locked.review_comment = now, comment.strip()
    locked.save()
    append_event("grant.report_reviewed", report.grant.dossier, by=by,
                 details={"kind": locked.kind, "approved": approve})
    if approve and locked.kind == ReportKind.INTERMEDIATE:
        _make_due(locked.grant, TRIGGER_INTERMEDIATE, now)
    elif approve:
        _settle_balance(locked, by, now)
    return locked


def accepted_expenses(report: Report) -> Decimal:
    total = report.expenses.filter(eligible=True).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(CENT)


def _settle_balance(report: Report, by, now) -> None:
    grant = Grant.objects.select_for_update().get(pk=report.grant_id)
    committed_tranches = grant.tranches.exclude(trigger=TRIGGER_FINAL).filter(
        status__in=[TrancheStatus.DUE, TrancheStatus.PAID])
    paid_or_due = committed_tranches.aggregate(total=Sum("amount"))["total"] or ZERO
    balance = balance_due(grant.award, grant.eligible_base, accepted_expenses(report),
                          paid_or_due)
    _make_due(grant, TRIGGER_FINAL, now, amount=max(balance, ZERO))
    if balance < 0:
        RecoveryOrder.objects.create(grant=grant, amount=-balance, issued_at=now, issued_by=by)
    append_event("grant.balance_computed", grant.dossier, by=by, at=now,
                 details={"balance": str(balance), "accepted": str(accepted_expenses(report))})


# --- amendments ------------------------------------------------------------------------------

@transaction.atomic
def amend_grant(grant: Grant, by, *, reason: str, duration_months: int | None = None,
                expenses: list[fmt.Expense] | None = None, now=None) -> Amendment:
    """An avenant: a longer duration (never beyond the call's maximum) and/or budget moved
    between lines and members. The rules core re-checks the amended dossier; the eligible base
    and the award do not change; every version is kept."""
    require_perm(by, "review.instruct", grant.dossier)
    if not reason.strip():
        raise GrantRefused(_("Motivez l'avenant."), field="reason")
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    current = _current_document(locked)
    amended = msgspec.structs.replace(
        current, duration_months=duration_months or current.duration_months,
        expenses=expenses if expenses is not None else current.expenses)
    amended = fmt.dossier_from_builtins(fmt.dossier_to_builtins(amended))
    rules = grant.dossier.call.rules()
    verdict = evaluate(msgspec.structs.replace(amended, submitted_at=None,
                                               first_submitted_at=None), rules)
    failed = [r for r in verdict.results if not r.ok]
    if failed:
        raise GrantRefused(_("L'avenant ne respecte pas les règles de l'appel : %(rules)s")
                           % {"rules": " ".join(r.message for r in failed)})
    if verdict.figures.eligible_base != locked.eligible_base:
        raise GrantRefused(_("Un avenant déplace le budget sans changer l'assiette éligible "
                             "(%(base)s).") % {"base": format_eur_fr(locked.eligible_base)},
                           field="expenses")
    locked.version += 1
    locked.duration_months = amended.duration_months
    locked.save(update_fields=["version", "duration_months"])
    amendment = Amendment.objects.create(
        grant=locked, version=locked.version, reason=reason.strip(),
        document=fmt.dossier_to_builtins(amended), created_by=by, created_at=now or server_now())
    Report.objects.filter(grant=locked, kind=ReportKind.FINAL).update(due_on=final_report_due(
        locked.start_date, locked.duration_months, rules.reporting.final_report_delay_months))
    append_event("grant.amended", grant.dossier, by=by,
                 details={"version": locked.version, "duration": locked.duration_months})
    return amendment


def _current_document(grant: Grant) -> fmt.Dossier:
    latest = grant.amendments.order_by("-version").first()
    if latest is not None:
        return fmt.dossier_from_builtins(latest.document)
    return submitted_dossier(grant.dossier.submissions.order_by("-version").first().snapshot)


# --- reminders -------------------------------------------------------------------------------

def remind_reports(today: dt.date) -> int:
    """Tell the participants of a grant that a report falls due within the call's
    `reporting.reminder_days`; each report is reminded once."""
    sent = 0
    pending = Report.objects.filter(
        reminded_at__isnull=True, grant__status=GrantStatus.SIGNED,
        status__in=[ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED],
    ).select_related("grant__dossier__call")
    for report in pending:
        days = report.grant.dossier.call.rules().reporting.reminder_days
        if report.due_on - today > dt.timedelta(days=days):
            continue
        recipients = participants(report.grant.dossier)
        if recipients:
            send_mail(mail_subject(_("Rappel : %(report)s attendu le %(due)s") % {
                "report": report.get_kind_display(), "due": f"{report.due_on:%d/%m/%Y}"}),
                _("Le %(report)s de la subvention %(number)s est attendu le %(due)s.") % {
                    "report": report.get_kind_display(),
                    "number": report.grant.dossier.receipt_number,
                    "due": f"{report.due_on:%d/%m/%Y}"}, None, recipients)
        Report.objects.filter(pk=report.pk).update(reminded_at=server_now())
        append_event("grant.report_reminded", report.grant.dossier,
                     details={"kind": report.kind, "recipients": len(recipients)})
        sent += 1
    return sent


def move_budget(grant: Grant, by, *, from_line: int, to_line: int, amount: Decimal,
                reason: str) -> Amendment:
    """An avenant moving `amount` from one expense line to another (between members or
    categories), re-checked by the rules like any amendment. Lines are counted from 0 in the
    grant's current budget."""
    expenses = list(_current_document(grant).expenses)
    if not (0 <= from_line < len(expenses) and 0 <= to_line < len(expenses)) \
            or from_line == to_line:
        raise GrantRefused(_("Choisissez deux lignes différentes du budget."), field="to_line")
    if amount <= 0 or amount > expenses[from_line].amount:
        raise GrantRefused(_("Le montant déplacé doit être positif et au plus celui de la ligne "
                             "d'origine (%(amount)s).")
                           % {"amount": format_eur_fr(expenses[from_line].amount)},
                           field="amount")
    expenses[from_line] = msgspec.structs.replace(
        expenses[from_line], amount=expenses[from_line].amount - amount)
    expenses[to_line] = msgspec.structs.replace(
        expenses[to_line], amount=expenses[to_line].amount + amount)
    return amend_grant(grant, by, reason=reason, expenses=expenses)


def current_budget(grant: Grant) -> list[fmt.Expense]:
    """The grant's expense lines as last amended."""
    return list(_current_document(grant).expenses)
