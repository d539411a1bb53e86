import datetime as dt
from contextlib import contextmanager
from importlib import import_module

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.audit.services import append_event, event_hash, verify_chain
from tests.factories import make_user

pytestmark = pytest.mark.django_db
APPEND_ONLY = import_module("guichet.audit.migrations.0002_append_only")


def _append_three(call, by=None):
    return [append_event(AuditAction.CALL_LOADED, call, by=by, details={"n": n},
                         hash_before=f"{n:064x}", hash_after=f"{n + 1:064x}")
            for n in range(3)]


@contextmanager
def _append_only_lifted():
    """Lift the triggers that make the audit table append-only (audit migration 0002), as an
    attacker with database access would, and put them back afterwards."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in APPEND_ONLY.REVERSE[vendor]:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in {"sqlite": APPEND_ONLY.SQLITE,
                              "postgresql": APPEND_ONLY.POSTGRES}[vendor]:
                cursor.execute(statement)


def _tamper(sql: str, params):
    """Change stored events the way an attacker with database access would."""
    with _append_only_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_audit_chain_links_each_event_to_the_previous(deffinum):
    events = _append_three(deffinum)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    report = verify_chain()
    assert report.intact
    assert report.events == AuditEvent.objects.count()


def test_audit_verify_command_reports_intact_chain(deffinum, capsys):
    _append_three(deffinum)
    call_command("audit", "verify")
    assert f"audit chain intact: {AuditEvent.objects.count()} events" in capsys.readouterr().out


def test_audit_update_refused_by_database(deffinum):
    event = _append_three(deffinum)[1]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_audit_verify_names_first_tampered_event(deffinum):
    events = _append_three(deffinum)
    _tamper("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"n":99}', events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[1].sequence
    assert "content" in report.reason
    with pytest.raises(CommandError, match=f"broken at event #{events[1].sequence}"):
        call_command("audit", "verify")


def test_audit_verify_detects_rehashed_event_by_its_successor(deffinum):
    """Rewriting an event and its own hash breaks the link of the next event."""
    events = _append_three(deffinum)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.details = '{"n":99}'
    _tamper("UPDATE audit_auditevent SET details = %s, hash = %s WHERE id = %s",
            [forged.details, event_hash(forged), forged.pk])
    assert verify_chain().broken_at == events[2].sequence


def test_audit_verify_detects_events_removed_from_the_end(deffinum):
    events = _append_three(deffinum)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = verify_chain()
    assert report.broken_at == events[2].sequence
    assert "removed" in report.reason


def test_audit_verify_detects_event_removed_from_the_middle(deffinum):
    events = _append_three(deffinum)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[2].sequence
    assert report.reason == f"sequence {events[1].sequence} is missing"
    assert report.events == events[0].sequence
    with pytest.raises(CommandError, match=f"broken at event #{events[2].sequence}"):
        call_command("audit", "verify")


# Every column the hash covers (guichet.audit.services.event_hash), with a forged value.
FORGERIES = {
    "at": lambda event: event.at + dt.timedelta(seconds=1),
    "actor_id": lambda event: event.actor_id + 1000,
    "personal_digest": lambda event: "c" * 64,
    "action": lambda event: "test.forged",
    "object_type": lambda event: "dossiers.dossier",
    "object_id": lambda event: event.object_id + "0",
    "hash_before": lambda event: "f" * 64,
    "hash_after": lambda event: "e" * 64,
    "details": lambda event: '{"n":99}',
}


@pytest.mark.parametrize("column", list(FORGERIES))
def test_audit_verify_names_event_whose_hashed_column_was_altered(deffinum, column):
    events = _append_three(deffinum, by=make_user("instructrice@example.fr"))
    forged_value = FORGERIES[column](events[1])
    assert forged_value != getattr(events[1], column)
    _tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s",
            [forged_value, events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[1].sequence
    assert report.reason == "its content does not match its hash"
    assert report.events == events[0].sequence


def test_audit_verify_names_event_whose_previous_hash_was_altered(deffinum):
    events = _append_three(deffinum)
    _tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE id = %s", ["d" * 64, events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[1].sequence
    assert report.reason == "its previous hash does not match the event before it"


def test_audit_verify_names_event_whose_sequence_was_altered(deffinum):
    """A renumbered event leaves a hole where it was; the hole is named at the event."""
    events = _append_three(deffinum)
    _tamper("UPDATE audit_auditevent SET sequence = %s WHERE id = %s",
            [events[2].sequence + 5, events[2].pk])
    report = verify_chain()
    assert report.broken_at == events[2].sequence + 5
    assert report.reason == f"sequence {events[2].sequence} is missing"


def test_audit_event_hash_covers_every_stored_column(deffinum):
    """Changing any column but the hash itself changes the hash: a column added to the model
    and forgotten by event_hash fails here."""
    event = _append_three(deffinum, by=make_user("instructrice@example.fr"))[1]
    columns = {field.name for field in AuditEvent._meta.concrete_fields} - {"id", "hash"}
    forged = {**FORGERIES, "sequence": lambda e: e.sequence + 1,
              "prev_hash": lambda e: "d" * 64}
    assert columns == set(forged)
    for column in sorted(columns):
        copy = AuditEvent.objects.get(pk=event.pk)
        setattr(copy, column, forged[column](copy))
        assert event_hash(copy) != event.hash, column


def test_audit_triggers_are_back_after_tampering(deffinum):
    events = _append_three(deffinum)
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.forged", events[0].pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[1].pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
