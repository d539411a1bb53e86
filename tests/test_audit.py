import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from guichet.audit.models import AuditEvent
from guichet.audit.services import append_event, verify_chain

pytestmark = pytest.mark.django_db

UNLOCK = {
    "sqlite": ["DROP TRIGGER audit_event_no_update"],
    "postgresql": ["ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"],
}


def _append_three(call):
    return [append_event(f"test.event{n}", call, details={"n": n}) for n in range(3)]


def _tamper(sql: str, params):
    """Change a stored event the way an attacker with database access would."""
    with connection.cursor() as cursor:
        for statement in UNLOCK[connection.vendor]:
            cursor.execute(statement)
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
    from guichet.audit.services import event_hash

    events = _append_three(deffinum)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.details = '{"n":99}'
    _tamper("UPDATE audit_auditevent SET details = %s, hash = %s WHERE id = %s",
            [forged.details, event_hash(forged), forged.pk])
    assert verify_chain().broken_at == events[2].sequence


def test_audit_verify_detects_events_removed_from_the_end(deffinum):
    events = _append_three(deffinum)
    with connection.cursor() as cursor:
        vendor_unlock = {"sqlite": ["DROP TRIGGER audit_event_no_delete"],
                         "postgresql": UNLOCK["postgresql"]}[connection.vendor]
        for statement in vendor_unlock:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = verify_chain()
    assert report.broken_at == events[2].sequence
    assert "removed" in report.reason
