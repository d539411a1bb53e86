"""The transactional outbox: background work written in the transaction of the business action.

A row exists exactly when the action committed; a relay hands it to a worker after commit and a
periodic sweep hands it again if it is still pending, so work survives a crash in between.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    SENT = "sent", _("Effectué")
    FAILED = "failed", _("En échec")


class OutboxMessage(models.Model):
    task = models.CharField(max_length=60)  # a name in guichet.notifications.outbox.TASKS
    payload = models.JSONField(default=dict)
    # Two rows never do the same work: a natural key (e.g. the receipt of version 2 of a
    # dossier) when the work has one, otherwise a random one.
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices,
                              default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    # The id of the request that queued the work (guichet.core.request_id), so that the log
    # lines of the work carry it; None (not "") when no request did: a periodic job, a command.
    request_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.task} #{self.pk} ({self.status})"


class Notification(models.Model):
    """What one person is told, in the application: written with the mail of the same
    notification (guichet.mails.catalogue), read or not yet."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(max_length=40)  # a guichet.notifications.kinds.Kind
    about = models.CharField(max_length=300)  # the dossier or grant, in words
    link = models.CharField(max_length=300, blank=True)  # a path of this site
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # The day (Paris) whose digest mail carried it; empty while it waits for its digest, and
    # for people who are mailed at once.
    digested_on = models.DateField(null=True, blank=True)
    awaits_digest = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"]),
                   models.Index(fields=["awaits_digest", "created_at"])]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id}"
