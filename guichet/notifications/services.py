"""Notifying people, and retrying what could not be delivered.

`notify` is the one way a service sends mail: it writes the notification to the outbox in the
service's transaction, so the mail leaves if and only if the action commits, and leaves even if
this process dies right after the commit.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.notifications.kinds import Kind
from guichet.notifications.models import Notification, OutboxMessage, OutboxStatus
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


def record_in_app(kind: Kind, emails: list[str], about: str, link: str) -> list[str]:
    """Write the in-app notification of every recipient who has an account, and say who is
    to be mailed now: everybody but the people who chose a daily digest (their notifications
    wait for it). Called by the outbox task that sends the mail, in its transaction, so that a
    failed sending writes nothing and its retry writes them once."""
    accounts = {user.email: user for user in User.objects.filter(email__in=emails)}
    instant = server_now()
    Notification.objects.bulk_create(
        Notification(recipient=user, kind=str(kind), about=about[:300], link=link,
                     created_at=instant, awaits_digest=user.mail_digest)
        for user in accounts.values())
    return [email for email in emails
            if email not in accounts or not accounts[email].mail_digest]


@transaction.atomic
def mark_read(user, pks: list[int] | None = None) -> int:
    """Mark the user's notifications read (those of `pks`, or all); another person's
    notifications are never touched. Returns how many changed."""
    mine = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        mine = mine.filter(pk__in=pks)
    return mine.update(read_at=server_now())


@transaction.atomic
def set_mail_digest(user, digest: bool) -> None:
    """The person's choice: one mail per notification, or one summary mail a day."""
    User.objects.filter(pk=user.pk).update(mail_digest=digest)
    user.mail_digest = digest


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
