"""The append-only, hash-chained event log.

Each event carries the hash of the previous one; a database trigger refuses updates and
deletions (see migration 0002), and `guichet audit verify` recomputes the chain.

An event holds no personal data itself: its actor is an account id (whose address lives, and
is anonymised, with the account), and what its details say of a person (an invited address) is
kept apart in AuditPersonal, to which the event's hash commits only by a salted digest. When
its retention ends that part is deleted and the chain still verifies.
"""

from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)  # not a foreign key: never updated
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    hash_before = models.CharField(max_length=64, blank=True)
    hash_after = models.CharField(max_length=64, blank=True)
    details = models.TextField(default="{}")  # canonical JSON, hashed as stored
    # The SHA-256 of the event's personal part (AuditPersonal), "" when it has none.
    personal_digest = models.CharField(max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class AuditPersonal(models.Model):
    """What an event's details say of a person, erasable: the event's hash covers the digest
    of this row's salt and details, not the details themselves (the salt keeps a guessed
    address from being checked against the digest)."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, primary_key=True,
                                 related_name="personal")
    salt = models.CharField(max_length=32)
    details = models.TextField()  # canonical JSON

    def __str__(self) -> str:
        return f"personal part of event {self.event_id}"


class AuditHead(models.Model):
    """One row, locked while appending, so that concurrent appends never fork the chain."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.sequence}"
