"""Notifying people, and retrying what could not be delivered.

`notify` is the one way a service sends mail: it writes the notification to the outbox in the
service's transaction, so the mail leaves if and only if the action commits, and leaves even if
this process dies right after the commit.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.errors import ServiceError
from guichet.notifications.kinds import Kind
from guichet.notifications.models import OutboxMessage, OutboxStatus
from guichet.notifications.outbox import Job, enqueue, make_pending_again, relay


class OutboxRefused(ServiceError):
    code = "outbox_refused"


def notify(kind: Kind, key: str | None = None, **context) -> OutboxMessage:
    """Ask for the mail `kind` (guichet.mails.catalogue) about `context` (primary keys
    and plain values: it is stored as JSON). `key` makes a notification that may be asked for
    twice (a reminder, a receipt) be written once."""
    job = notification_job(kind, key, **context)
    return enqueue(job.task, job.payload, job.key)


def notification_job(kind: Kind, key: str | None = None, **context) -> Job:
    """The outbox row `notify` writes, for a service that writes it with others (enqueue_all)."""
    return Job("notification", {"kind": str(Kind(kind)), "context": context},
               key=f"notification:{key}" if key else None)


@transaction.atomic
def retry_delivery(message: OutboxMessage, by) -> OutboxMessage:
    """A staff member sends a failed row again: it is pending once more, with a fresh budget of
    attempts, and relayed after commit."""
    if not by.has_perm("notifications.manage_outbox"):
        raise OutboxRefused(_("Vous n'avez pas le droit de relancer les envois."))
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.status != OutboxStatus.FAILED:
        raise OutboxRefused(_("Cet envoi n'est pas en échec : il n'y a rien à relancer."))
    make_pending_again(locked)
    append_event(AuditAction.OUTBOX_RETRIED, locked, by=by,
                 details={"task": locked.task, "error": locked.last_error[:200]})
    transaction.on_commit(lambda: relay(locked.pk))
    return locked
