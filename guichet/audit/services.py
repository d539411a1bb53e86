"""Appending to the audit log and verifying its chain."""

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import transaction

from guichet.audit.actions import AuditAction
from guichet.audit.models import GENESIS_HASH, AuditEvent, AuditHead, AuditPersonal
from guichet.core.clock import now as server_now

# Keys of an event's details that name a person: kept in its erasable personal part.
PERSONAL_KEYS = frozenset({"email"})


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def event_hash(event: AuditEvent) -> str:
    """The hash of an event's content (its personal part by its digest) and of the previous
    event's hash."""
    content = canonical({
        "sequence": event.sequence, "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id, "action": event.action,
        "object_type": event.object_type, "object_id": str(event.object_id),
        "hash_before": event.hash_before, "hash_after": event.hash_after,
        "details": event.details, "personal_digest": event.personal_digest,
        "prev_hash": event.prev_hash,
    })
    return hashlib.sha256(content.encode()).hexdigest()


def personal_digest(salt: str, details: str) -> str:
    return hashlib.sha256(canonical({"salt": salt, "details": details}).encode()).hexdigest()


def split_details(details: dict) -> tuple[dict, dict]:
    """An event's details as (kept in the event, about a person: erasable)."""
    return ({key: value for key, value in details.items() if key not in PERSONAL_KEYS},
            {key: value for key, value in details.items() if key in PERSONAL_KEYS})


def actor_id_of(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def append_event(action: AuditAction, target, *, by=None, hash_before: str = "",
                 hash_after: str = "", details: dict | None = None, at=None) -> AuditEvent:
    """Append one event; call it inside the transaction of the state change it records. An
    action that is not a member of AuditAction is refused (ValueError) before anything is
    written."""
    action = AuditAction(action).value
    kept, about_a_person = split_details(details or {})
    personal = AuditPersonal(salt=secrets.token_hex(16), details=canonical(about_a_person)) \
        if about_a_person else None
    # No savepoint: a failed append must undo the change it records, hence the whole
    # transaction (and it saves two statements per action).
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.sequence + 1, at=(at or server_now()).astimezone(dt.UTC),
            actor_id=actor_id_of(by), action=action,
            object_type=target._meta.label_lower, object_id=str(target.pk),
            hash_before=hash_before or "", hash_after=hash_after or "",
            details=canonical(kept), prev_hash=head.hash,
            personal_digest=personal_digest(personal.salt, personal.details) if personal else "",
        )
        event.hash = event_hash(event)
        event.save()
        if personal is not None:
            personal.event = event
            personal.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


def erase_personal_parts(events) -> int:
    """Delete the personal part of `events` (a queryset of AuditEvent); the chain still
    verifies, since each event's hash holds only its digest. How many were erased."""
    deleted, _by_model = AuditPersonal.objects.filter(event__in=events).delete()
    return deleted


@dataclass(frozen=True)
class ChainReport:
    events: int
    broken_at: int | None  # sequence of the first broken event
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Recompute every hash in order; name the first event whose link or content is wrong."""
    previous_hash, expected_sequence, count = GENESIS_HASH, 1, 0
    events = AuditEvent.objects.select_related("personal").order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return ChainReport(count, event.sequence,
                               f"sequence {expected_sequence} is missing")
        if event.prev_hash != previous_hash:
            return ChainReport(count, event.sequence,
                               "its previous hash does not match the event before it")
        if event_hash(event) != event.hash:
            return ChainReport(count, event.sequence, "its content does not match its hash")
        if _personal_part_altered(event):
            return ChainReport(count, event.sequence,
                               "its personal part does not match the digest it was sealed with")
        previous_hash, expected_sequence, count = event.hash, expected_sequence + 1, count + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence, head.hash) != (count, previous_hash):
        return ChainReport(count, count + 1, f"the head records {head.sequence} events, "
                           f"the chain has {count}: events were removed from its end")
    return ChainReport(count, None)


def _personal_part_altered(event: AuditEvent) -> bool:
    """A personal part still held must be the one sealed (erased, it is simply absent)."""
    try:
        personal = event.personal
    except AuditPersonal.DoesNotExist:
        return False
    return personal_digest(personal.salt, personal.details) != event.personal_digest


# --- anchors: the chain head kept outside the database ------------------------------------
#
# Whoever owns the database can rewrite every event and recompute every hash after it: the
# chain then verifies. An anchor (the number of events and the last hash, printed by
# `guichet audit anchor` and kept elsewhere: a ticket, a mail, another system's log) cannot be
# rewritten with it, so that `guichet audit verify --anchor FILE` sees the difference.

ANCHOR_FORMAT = "guichet.audit-anchor/1"


@dataclass(frozen=True)
class Anchor:
    events: int  # events in the log when the anchor was taken
    hash: str  # the hash of the last of them (GENESIS_HASH when there were none)
    at: dt.datetime  # when the anchor was taken

    def to_json(self) -> str:
        return canonical({"format": ANCHOR_FORMAT, "events": self.events, "hash": self.hash,
                          "at": self.at.astimezone(dt.UTC).isoformat()})


class AnchorFormatError(ValueError):
    pass


def take_anchor(at: dt.datetime | None = None) -> Anchor:
    """The chain head now: its last event's sequence and hash."""
    last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    events, head_hash = (last["sequence"], last["hash"]) if last else (0, GENESIS_HASH)
    return Anchor(events, head_hash, (at or server_now()).astimezone(dt.UTC))


def parse_anchors(text: str) -> list[Anchor]:
    """Anchors, one JSON line each (as `guichet audit anchor` prints them; blank lines are
    ignored, so that a file of appended anchors reads as a whole)."""
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("format") != ANCHOR_FORMAT:
                raise ValueError(f"format is not {ANCHOR_FORMAT}")
            events, head_hash = data["events"], data["hash"]
            if not isinstance(events, int) or events < 0 or not isinstance(head_hash, str):
                raise ValueError("events must be a count and hash a string")
            anchors.append(Anchor(events, head_hash, dt.datetime.fromisoformat(data["at"])))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise AnchorFormatError(f"line {number} is not an audit anchor ({error})") from error
    if not anchors:
        raise AnchorFormatError("it holds no audit anchor")
    return anchors


def anchor_problem(anchor: Anchor) -> str:
    """What is wrong with the log against an anchor ("" when it holds): events removed
    (fewer than anchored), or the chain rewritten (the anchored event's hash changed)."""
    taken = f"the anchor of {anchor.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    count = AuditEvent.objects.count()
    if count < anchor.events:
        return (f"truncated: {taken} records {anchor.events} events, the log now has "
                f"{count}")
    if anchor.events == 0:
        current = GENESIS_HASH
    else:
        current = AuditEvent.objects.filter(sequence=anchor.events).values_list(
            "hash", flat=True).first()
    if current is None:
        return f"truncated: event #{anchor.events} of {taken} is missing"
    if current != anchor.hash:
        return (f"rewritten: event #{anchor.events} no longer has the hash of {taken} "
                f"({anchor.hash[:16]}…, now {current[:16]}…): the chain was rewritten at or "
                "before it")
    return ""
