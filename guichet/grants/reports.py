"""Reports: the lead hands them in, an instructor approves them or asks for changes; approval
makes the next tranche due, and the final report settles the balance. Reminders before they
fall due."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import WebhookEvent
from guichet.calls.webhooks import emit
from guichet.core.clock import now as server_now
from guichet.core.permissions import require_perm
from guichet.dossiers.permissions import is_lead
from guichet.dossiers.selectors import participants
from guichet.grants.errors import GrantRefused
from guichet.grants.lifecycle.report import ReportAction, apply_report_transition
from guichet.grants.models import (
    Grant,
    GrantStatus,
    RecoveryOrder,
    Report,
    ReportKind,
    ReportStatus,
    TrancheStatus,
)
from guichet.grants.payments import TRIGGER_FINAL, TRIGGER_INTERMEDIATE, make_due
from guichet.grants.selectors import accepted_expenses
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
from guichet.rules.grants import balance_due
from guichet.rules.money import ZERO


@transaction.atomic
def submit_report(report: Report, by, *, narrative: str, indicators: dict[str, int],
                  expenses: list[tuple[int, str, Decimal]], now=None) -> Report:
    """The lead hands in a report: narrative, the call's indicators, and the statement of
    actual expenses (member id, category, amount)."""
    if not is_lead(by, report.grant.dossier):
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
    apply_report_transition(locked, ReportAction.SUBMIT, narrative=narrative.strip(),
                            indicators=indicators, submitted_at=now or server_now())
    locked.expenses.all().delete()
    locked.expenses.model.objects.bulk_create(
        locked.expenses.model(report=locked, member_id=member, category=category, amount=amount)
        for member, category, amount in expenses)
    append_event(AuditAction.GRANT_REPORT_SUBMITTED, report.grant.dossier, by=by,
                 details={"kind": locked.kind})
    emit(report.grant.dossier.call, WebhookEvent.REPORT_SUBMITTED,
         {"dossier": report.grant.dossier_id, "grant": report.grant_id, "report": locked.pk,
          "kind": locked.kind})
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
    apply_report_transition(
        locked, ReportAction.APPROVE if approve else ReportAction.REQUEST_CHANGES,
        reviewed_at=now, review_comment=comment.strip())
    append_event(AuditAction.GRANT_REPORT_REVIEWED, report.grant.dossier, by=by,
                 details={"kind": locked.kind, "approved": approve})
    notify(Kind.REPORT_APPROVED if approve else Kind.REPORT_CHANGES_REQUESTED,
           report=locked.pk)
    if approve and locked.kind == ReportKind.INTERMEDIATE:
        make_due(locked.grant, TRIGGER_INTERMEDIATE, now)
    elif approve:
        _settle_balance(locked, by, now)
    return locked


def _settle_balance(report: Report, by, now) -> None:
    grant = Grant.objects.select_for_update().get(pk=report.grant_id)
    committed_tranches = grant.tranches.exclude(trigger=TRIGGER_FINAL).filter(
        status__in=[TrancheStatus.DUE, TrancheStatus.PAID])
    paid_or_due = committed_tranches.aggregate(total=Sum("amount"))["total"] or ZERO
    balance = balance_due(grant.award, grant.eligible_base, accepted_expenses(report),
                          paid_or_due)
    make_due(grant, TRIGGER_FINAL, now, amount=max(balance, ZERO))
    if balance < 0:
        RecoveryOrder.objects.create(grant=grant, amount=-balance, issued_at=now, issued_by=by)
    append_event(AuditAction.GRANT_BALANCE_COMPUTED, grant.dossier, by=by, at=now,
                 details={"balance": str(balance), "accepted": str(accepted_expenses(report))})


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
        with transaction.atomic():
            if recipients:
                notify(Kind.REPORT_REMINDER, key=f"report_reminder:{report.pk}",
                       report=report.pk)
            Report.objects.filter(pk=report.pk).update(reminded_at=server_now())
            append_event(AuditAction.GRANT_REPORT_REMINDED, report.grant.dossier,
                         details={"kind": report.kind, "recipients": len(recipients)})
        sent += 1
    return sent
