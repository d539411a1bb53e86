"""Take personal data out of the audit events, so that it can be erased when its retention ends
while the chain still verifies.

The actor's address goes (the actor is its account id; the address lives with the account),
and details that name a person (an invited address) move to AuditPersonal, to which the event's
hash commits by a salted digest. The events already written are sealed again in order under
that rule: their hashes change, so an anchor taken before this migration no longer matches and
a new one must be taken (`guichet audit anchor`).
"""

import json
import secrets

from django.db import migrations, models

from guichet.audit.models import GENESIS_HASH
from guichet.audit.services import canonical, event_hash, personal_digest, split_details

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only'); END""",
]
LIFT = {
    # Removing a column rebuilds the table on SQLite, which drops its triggers: made again.
    "sqlite": ["DROP TRIGGER IF EXISTS audit_event_no_update",
               "DROP TRIGGER IF EXISTS audit_event_no_delete"],
    "postgresql": ["ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"],
}
RESTORE = {
    "sqlite": SQLITE_TRIGGERS,
    "postgresql": ["ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"],
}


def seal_again(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    event_model = apps.get_model("audit", "AuditEvent")
    personal_model = apps.get_model("audit", "AuditPersonal")
    for statement in LIFT.get(vendor, []):
        schema_editor.execute(statement)
    previous = GENESIS_HASH
    for event in event_model.objects.order_by("sequence").iterator(chunk_size=2000):
        kept, about_a_person = split_details(json.loads(event.details))
        if about_a_person:
            personal = personal_model.objects.create(
                event=event, salt=secrets.token_hex(16), details=canonical(about_a_person))
            event.personal_digest = personal_digest(personal.salt, personal.details)
        event.details, event.prev_hash = canonical(kept), previous
        event.hash = event_hash(event)
        event.save(update_fields=["details", "personal_digest", "prev_hash", "hash"])
        previous = event.hash
    apps.get_model("audit", "AuditHead").objects.filter(pk=1).update(hash=previous)
    for statement in RESTORE.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_no_truncate")]
    operations = [
        migrations.CreateModel(
            name="AuditPersonal",
            fields=[
                ("event", models.OneToOneField(
                    on_delete=models.deletion.PROTECT, primary_key=True, related_name="personal",
                    serialize=False, to="audit.auditevent")),
                ("salt", models.CharField(max_length=32)),
                ("details", models.TextField()),
            ],
        ),
        migrations.AddField(
            model_name="auditevent", name="personal_digest",
            field=models.CharField(blank=True, default="", max_length=64)),
        migrations.RemoveField(model_name="auditevent", name="actor_label"),
        migrations.RunPython(seal_again, migrations.RunPython.noop),
    ]
