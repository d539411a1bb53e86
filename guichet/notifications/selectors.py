"""What staff see of the outbox: the work that failed for good, in words."""

from django.utils.translation import gettext_lazy as _

from guichet.notifications.kinds import Kind
from guichet.notifications.models import Notification, OutboxMessage, OutboxStatus

KIND_LABELS = {
    Kind.INVITATION: _("Invitation à rejoindre un consortium"),
    Kind.RECEIPT: _("Accusé de réception"),
    Kind.DRAFT_REMINDER: _("Rappel de clôture de vague"),
    Kind.CORRECTION_REQUESTED: _("Demande de corrections"),
    Kind.MESSAGE_POSTED: _("Nouveau message sur un dossier"),
    Kind.EXPERT_INVITED: _("Invitation d'un expert"),
    Kind.CALL_CLOSED: _("Clôture d'un appel"),
    Kind.DECISION_PUBLISHED: _("Publication d'une décision"),
    Kind.REPORT_REMINDER: _("Rappel de rapport"),
    Kind.EXPERT_ASSIGNED: _("Dossiers à expertiser"),
    Kind.REVIEW_DUE: _("Rappel d'expertise à rendre"),
    Kind.REVIEW_OVERDUE: _("Expertise en retard"),
    Kind.REPORT_REQUESTED: _("Rapports attendus"),
    Kind.REPORT_CHANGES_REQUESTED: _("Compléments demandés sur un rapport"),
    Kind.REPORT_APPROVED: _("Rapport approuvé"),
    Kind.PAYMENT_MADE: _("Versement effectué"),
    Kind.INSTRUCTION_DONE: _("Instruction terminée"),
    Kind.WAVE_ARCHIVE_READY: _("Archive d'une vague prête"),
    Kind.DAILY_DIGEST: _("Résumé quotidien des notifications"),
}
TASK_LABELS = {
    "receipt_pdf": _("PDF de l'accusé de réception"),
    "close_if_exhausted": _("Clôture automatique d'un appel à enveloppe épuisée"),
    "wave_archive": _("Archive d'une vague"),
    "webhook": _("Appel d'un webhook"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS[Kind(kind)])


def notifications_of(user, limit: int = 100) -> list[Notification]:
    """The person's most recent notifications (never anyone else's), each with its `label`."""
    rows = list(Notification.objects.filter(recipient=user)[:limit])
    for row in rows:
        row.label = kind_label(row.kind)
    return rows


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def label(message: OutboxMessage) -> str:
    if message.task == "notification":
        return _("Courriel : %(kind)s") % {"kind": KIND_LABELS[Kind(message.payload["kind"])]}
    return str(TASK_LABELS[message.task])


def failed_messages(limit: int | None = 200) -> list[OutboxMessage]:
    """The most recent failed rows (all of them with `limit=None`), each with its `label`."""
    rows = list(OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
                .order_by("-created_at", "-pk")[:limit])
    for row in rows:
        row.label = label(row)
    return rows
