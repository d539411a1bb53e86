"""Erasing or rewriting the audit log with access to the database.

TRUNCATE is refused on PostgreSQL; the runtime role cannot update, delete or truncate the
log; and whoever owns the database and rewrites the whole chain (every hash recomputed after
the altered event, so that `audit verify` alone calls it intact) is caught by an anchor kept
outside the database."""

import datetime as dt
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from guichet.audit.actions import AuditAction
from guichet.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from guichet.audit.services import append_event, erase_personal_parts, event_hash, verify_chain
from guichet.dossiers.services import submit
from tests.factories import make_dossier

pytestmark = pytest.mark.django_db

IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="TRUNCATE and database roles are PostgreSQL's; .ci/run runs this test on PostgreSQL")
# What an owner of the database does first: lift the triggers that keep the log append-only.
LIFT_TRIGGERS = {
    "sqlite": ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"],
    "postgresql": ["ALTER TABLE audit_auditevent DISABLE TRIGGER USER"],
}


def _append(call, count: int = 3) -> list[AuditEvent]:
    return [append_event(AuditAction.CALL_LOADED, call, details={"n": n}) for n in range(count)]


def _as_owner(*statements: tuple[str, list]) -> None:
    with connection.cursor() as cursor:
        for statement in LIFT_TRIGGERS[connection.vendor]:
            cursor.execute(statement)
        for sql, params in statements:
            cursor.execute(sql, params)


def _anchor_file(tmp_path, name: str = "anchors.jsonl"):
    """`guichet audit anchor >> FILE`, as an operator's cron job would do it."""
    out = StringIO()
    call_command("audit", "anchor", stdout=out)
    path = tmp_path / name
    with path.open("a", encoding="utf-8") as anchors:
        anchors.write(out.getvalue())
    return path, json.loads(out.getvalue())


def _verify(anchor=None) -> str:
    out = StringIO()
    call_command("audit", "verify", *(["--anchor", str(anchor)] if anchor else []), stdout=out)
    return out.getvalue()


def _rewrite_whole_chain(altered_sequence: int, details: str) -> None:
    """Alter one event and recompute every hash from the first event on, the head included."""
    events = list(AuditEvent.objects.order_by("sequence"))
    previous = GENESIS_HASH
    for event in events:
        if event.sequence == altered_sequence:
            event.details = details
        event.prev_hash, event.hash = previous, ""
        event.hash = previous = event_hash(event)
    _as_owner(*[("UPDATE audit_auditevent SET details = %s, prev_hash = %s, hash = %s "
                 "WHERE id = %s", [event.details, event.prev_hash, event.hash, event.pk])
                for event in events])
    AuditHead.objects.filter(pk=1).update(hash=previous)


# --- TRUNCATE -------------------------------------------------------------------------------

@pytest.mark.postgres
@postgres_only
# The personal parts point at the events: truncated with them, or PostgreSQL refuses even
# before the trigger is asked.
@pytest.mark.parametrize("statement", [
    "TRUNCATE audit_auditevent, audit_auditpersonal",
    "TRUNCATE audit_auditevent, audit_auditpersonal, audit_audithead",
    "TRUNCATE audit_auditevent RESTART IDENTITY CASCADE"])
def test_audit_log_truncate_refused_by_database(deffinum, statement):
    _append(deffinum)
    logged = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == logged
    assert verify_chain().intact


# --- the runtime role -------------------------------------------------------------------------

@pytest.fixture
def runtime_role(deffinum):
    """A role made for this test (rolled back with it), granted by `grant-runtime-role`."""
    role = f"{connection.settings_dict['NAME']}_runtime"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {connection.ops.quote_name(role)} NOLOGIN")
    out = StringIO()
    call_command("grant_runtime_role", role, stdout=out)
    assert f"role {role} may now run the application." in out.getvalue()
    return role


def _act_as(role: str) -> None:
    """Every later statement of the test's transaction runs with `role`'s rights only."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")


@pytest.mark.postgres
@postgres_only
def test_audit_log_rewrite_as_runtime_role_refused_by_permission(runtime_role, deffinum,
                                                                  example_document):
    dossier = make_dossier(example_document)
    _act_as(runtime_role)

    submit(dossier, now=IN_WAVE_ONE)  # business tables, an append and the head row
    assert AuditEvent.objects.filter(action="dossier.submitted").count() == 1
    assert verify_chain().intact
    for statement in ["UPDATE audit_auditevent SET details = '{}'",
                      "DELETE FROM audit_auditevent",
                      "TRUNCATE audit_auditevent"]:
        with pytest.raises(DatabaseError,
                           match="permission denied for table audit_auditevent"), \
                transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DatabaseError, match="must be owner of table audit_auditevent"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


@pytest.mark.postgres
@postgres_only
def test_audit_personal_part_as_runtime_role_may_be_erased_never_rewritten(runtime_role,
                                                                             deffinum):
    event = append_event(AuditAction.CALL_EXPERT_INVITED, deffinum,
                         details={"email": "expert@example.fr"})
    _act_as(runtime_role)
    with pytest.raises(DatabaseError, match="permission denied for table audit_auditpersonal"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditpersonal SET details = '{}'")
    assert erase_personal_parts(AuditEvent.objects.filter(pk=event.pk)) == 1
    assert verify_chain().intact


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize(("role", "refusal"), [
    ("postgres", "is a superuser, which no grant restrains"),
    ("nobody_such_role", "role 'nobody_such_role' does not exist"),
])
def test_audit_log_runtime_role_that_grants_cannot_restrain_refused(deffinum, role, refusal):
    with pytest.raises(CommandError, match=refusal):
        call_command("grant_runtime_role", role)


@pytest.mark.postgres
@postgres_only
def test_audit_log_runtime_role_owning_the_table_refused(deffinum):
    role = f"{connection.settings_dict['NAME']}_owner"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {connection.ops.quote_name(role)} NOLOGIN")
        cursor.execute(f"ALTER TABLE audit_auditevent OWNER TO {connection.ops.quote_name(role)}")
    with pytest.raises(CommandError, match="owns audit_auditevent"):
        call_command("grant_runtime_role", role)


# --- anchors ----------------------------------------------------------------------------------

def test_audit_anchor_prints_the_chain_head(deffinum, tmp_path):
    events = _append(deffinum)
    _path, anchor = _anchor_file(tmp_path)
    assert anchor["format"] == "guichet.audit-anchor/1"
    assert (anchor["events"], anchor["hash"]) == (events[-1].sequence, events[-1].hash)
    assert dt.datetime.fromisoformat(anchor["at"]).tzinfo is not None


def test_audit_anchor_of_an_empty_log_is_the_genesis(db, tmp_path):
    _path, anchor = _anchor_file(tmp_path)
    assert (anchor["events"], anchor["hash"]) == (0, GENESIS_HASH)


def test_audit_anchor_holds_while_the_log_grows(deffinum, tmp_path):
    _append(deffinum)
    path, first = _anchor_file(tmp_path)
    _append(deffinum, 2)
    _path, second = _anchor_file(tmp_path)  # appended to the same file
    report = _verify(path)
    assert f"audit chain intact: {second['events']} events" in report
    assert f"anchor holds: {first['events']} events" in report
    assert f"anchor holds: {second['events']} events" in report


def test_audit_rewritten_whole_chain_verifies_but_anchor_catches_it(deffinum, tmp_path):
    events = _append(deffinum)
    path, anchor = _anchor_file(tmp_path)
    _rewrite_whole_chain(events[0].sequence, '{"n":99}')

    assert verify_chain().intact  # every link recomputed: the chain alone cannot tell
    assert f"audit chain intact: {anchor['events']} events" in _verify()
    with pytest.raises(CommandError) as refused:
        _verify(path)
    assert f"rewritten: event #{anchor['events']} no longer has the hash" in str(refused.value)
    assert anchor["hash"][:16] in str(refused.value)


def test_audit_truncated_log_verifies_but_anchor_catches_it(deffinum, tmp_path):
    _append(deffinum)
    path, anchor = _anchor_file(tmp_path)
    _as_owner(("DELETE FROM audit_auditevent", []))
    AuditHead.objects.filter(pk=1).update(sequence=0, hash=GENESIS_HASH)

    assert "audit chain intact: 0 events" in _verify()
    with pytest.raises(CommandError, match=f"truncated: the anchor of .* records "
                                           f"{anchor['events']} events, the log now has 0"):
        _verify(path)


def test_audit_events_cut_from_the_end_verify_but_anchor_catches_it(deffinum, tmp_path):
    events = _append(deffinum)
    path, anchor = _anchor_file(tmp_path)
    _as_owner(("DELETE FROM audit_auditevent WHERE sequence = %s", [events[-1].sequence]))
    AuditHead.objects.filter(pk=1).update(sequence=events[-2].sequence, hash=events[-2].hash)

    assert verify_chain().intact
    with pytest.raises(CommandError, match=f"records {anchor['events']} events, the log now "
                                           f"has {anchor['events'] - 1}"):
        _verify(path)


def test_audit_verify_unreadable_anchor_file_refused(deffinum, tmp_path):
    path = tmp_path / "anchors.jsonl"
    path.write_text('{"events": 3}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 1 is not an audit anchor"):
        _verify(path)
    with pytest.raises(CommandError, match="cannot be read"):
        _verify(tmp_path / "missing.jsonl")
