"""What an audit event says of a person is kept apart and can be erased: the chain, which
commits to it by a salted digest, still verifies afterwards; tampering with it does not."""

import datetime as dt
import hashlib
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent, AuditPersonal
from guichet.audit.services import append_event, canonical, erase_personal_parts, verify_chain
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_audit_event_keeps_an_invited_address_in_its_personal_part(deffinum):
    by = make_user("administratrice@example.fr")
    event = append_event(AuditAction.CALL_ROLE_GRANTED, deffinum, by=by,
                         details={"email": "instructeur@example.fr", "role": "instructor"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert json.loads(stored.details) == {"role": "instructor"}
    assert "example.fr" not in canonical([stored.details, stored.object_id, stored.action])
    assert stored.actor_id == by.pk
    assert json.loads(stored.personal.details) == {"email": "instructeur@example.fr"}
    assert len(stored.personal.salt) == 32
    assert verify_chain().intact


def test_audit_event_without_personal_details_has_no_personal_part(deffinum):
    event = append_event(AuditAction.CALL_LOADED, deffinum, details={"rules_version": "x"})
    assert event.personal_digest == ""
    assert not AuditPersonal.objects.filter(event=event).exists()


def test_audit_chain_verifies_after_personal_parts_are_erased(deffinum):
    events = [append_event(AuditAction.CALL_EXPERT_INVITED, deffinum,
                           details={"email": f"expert{n}@example.fr"}) for n in range(3)]
    assert erase_personal_parts(AuditEvent.objects.filter(pk__in=[events[0].pk, events[2].pk])) == 2
    assert list(AuditPersonal.objects.values_list("event", flat=True)) == [events[1].pk]
    report = verify_chain()
    assert (report.intact, report.events) == (True, AuditEvent.objects.count())


def test_audit_verify_names_event_whose_personal_part_was_altered(deffinum):
    events = [append_event(AuditAction.CALL_EXPERT_INVITED, deffinum,
                           details={"email": f"expert{n}@example.fr"}) for n in range(2)]
    AuditPersonal.objects.filter(event=events[1]).update(
        details=canonical({"email": "quelquun@example.fr"}))
    report = verify_chain()
    assert report.broken_at == events[1].sequence
    assert report.reason == "its personal part does not match the digest it was sealed with"


# --- migration 0004: the events written before are sealed again -------------------------------

def _hash_before_0004(row: dict) -> str:
    """An event's hash as the platform computed it before migration 0004 (address included)."""
    return hashlib.sha256(canonical({
        "sequence": row["sequence"], "at": row["at"].isoformat(), "actor_id": row["actor_id"],
        "actor_label": row["actor_label"], "action": row["action"],
        "object_type": row["object_type"], "object_id": row["object_id"],
        "hash_before": "", "hash_after": "", "details": row["details"],
        "prev_hash": row["prev_hash"]}).encode()).hexdigest()


def _write_events_before_0004(rows: list[dict]) -> None:
    previous = "0" * 64
    with connection.cursor() as cursor:
        for row in rows:
            row["prev_hash"] = previous
            row["hash"] = previous = _hash_before_0004(row)
            cursor.execute(
                "INSERT INTO audit_auditevent (sequence, at, actor_id, actor_label, action, "
                "object_type, object_id, hash_before, hash_after, details, prev_hash, hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', %s, %s, %s)",
                [row["sequence"], row["at"], row["actor_id"], row["actor_label"], row["action"],
                 row["object_type"], row["object_id"], row["details"], row["prev_hash"],
                 row["hash"]])
        cursor.execute("INSERT INTO audit_audithead (id, sequence, hash) VALUES (1, %s, %s)",
                       [len(rows), previous])


@pytest.mark.django_db(transaction=True)
def test_audit_migration_seals_old_events_without_their_addresses(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0003_no_truncate")])
    at = dt.datetime(2021, 9, 1, 10, 0, tzinfo=dt.UTC)
    _write_events_before_0004([
        {"sequence": 1, "at": at, "actor_id": 7, "actor_label": "cheffe@example.fr",
         "action": "consortium.invited", "object_type": "dossiers.dossier", "object_id": "3",
         "details": canonical({"email": "membre@example.fr", "kind": "edtech"})},
        {"sequence": 2, "at": at, "actor_id": None, "actor_label": "system",
         "action": "call.loaded", "object_type": "calls.call", "object_id": "1",
         "details": canonical({"rules_version": "deffinum-2021.1"})},
    ])

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    first, second = AuditEvent.objects.order_by("sequence")
    assert json.loads(first.details) == {"kind": "edtech"}
    assert json.loads(first.personal.details) == {"email": "membre@example.fr"}
    assert (second.details, second.personal_digest) == (
        canonical({"rules_version": "deffinum-2021.1"}), "")
    assert "actor_label" not in {field.name for field in AuditEvent._meta.get_fields()}
    with connection.cursor() as cursor:
        columns = {column.name for column in
                   connection.introspection.get_table_description(cursor, "audit_auditevent")}
    assert "actor_label" not in columns
    report = verify_chain()
    assert (report.intact, report.events) == (True, 2)
    # Still append-only (on SQLite the table was rebuilt, its triggers made again).
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=first.pk).update(details="{}")
