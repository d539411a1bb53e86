"""Refuse TRUNCATE of the audit log on PostgreSQL.

The row triggers of 0002 never see a TRUNCATE, which empties the table at once. This
statement-level trigger refuses it while the log holds events; an empty log has nothing to
lose, and so the test suite's flush (TRUNCATE of every table, once the audit rows are gone:
see `_audit_log_emptied` in tests/conftest.py) still works. SQLite has no TRUNCATE (its
DELETE meets the row triggers of 0002).
"""

from django.db import migrations

POSTGRES = [
    """CREATE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM audit_auditevent) THEN
           RAISE EXCEPTION 'audit_auditevent is append-only: TRUNCATE refused';
         END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate()""",
]
REVERSE = ["DROP TRIGGER audit_event_no_truncate ON audit_auditevent",
           "DROP FUNCTION audit_event_no_truncate()"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
