"""What staff see of the outbox: the work that failed for good, in words."""

from django.utils.translation import gettext_lazy as _

from guichet.notifications.kinds import Kind
from guichet.notifications.models import OutboxMessage, OutboxStatus

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
}
TASK_LABELS = {
    "receipt_pdf": _("PDF de l'accusé de réception"),
    "close_if_exhausted": _("Clôture automatique d'un appel à enveloppe épuisée"),
}


def label(message: OutboxMessage) -> str:
    if message.task == "notification":
        return _("Courriel : %(kind)s") % {"kind": KIND_LABELS[Kind(message.payload["kind"])]}
    return str(TASK_LABELS[message.task])


def failed_messages(limit: int = 200) -> list[OutboxMessage]:
    """The most recent failed rows, each with its `label`."""
    rows = list(OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
                .order_by("-created_at", "-pk")[:limit])
    for row in rows:
        row.label = label(row)
    return rows
