"""Give existing people their access to dossiers, reconstructed from what the database records.

Before this migration, access followed affiliations: anyone acting for a member organisation
(which anybody could claim for an organisation nobody acted for yet) read and wrote the
consortium's dossiers. Only two records prove a legitimate access, and only they are kept:
- the creator of a dossier (the actor of its `dossier.started` audit event), for the lead member;
- each accepted invitation (its address, to the account with that address), for its member.
Nobody else keeps access: an imported dossier has nobody until an operator names its lead
(`guichet designate-lead`). Pending invitations get the validity period of new ones, counted
from their creation. Dossiers lacking a hybridisation profile get one (a GET never creates it).
"""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.db.models import F

CREATED, INVITATION = "created", "invitation"


def participations_from_history(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ConsortiumMember = apps.get_model("dossiers", "ConsortiumMember")
    Dossier = apps.get_model("dossiers", "Dossier")
    Invitation = apps.get_model("dossiers", "Invitation")
    Participant = apps.get_model("dossiers", "Participant")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))

    started = AuditEvent.objects.filter(action="dossier.started", object_type="dossiers.dossier",
                                        actor_id__isnull=False).order_by("sequence")
    for event in started:
        dossier = Dossier.objects.filter(pk=int(event.object_id)).first()
        lead = ConsortiumMember.objects.filter(consortium_id=dossier.consortium_id,
                                               is_lead=True).first() if dossier else None
        if lead is not None and User.objects.filter(pk=event.actor_id).exists():
            Participant.objects.get_or_create(user_id=event.actor_id, member=lead, defaults={
                "joined_at": event.at, "how": CREATED})
    accepted = Invitation.objects.filter(accepted_at__isnull=False, member__isnull=False)
    for invitation in accepted.order_by("accepted_at", "pk"):
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is not None:
            Participant.objects.get_or_create(user=user, member_id=invitation.member_id, defaults={
                "joined_at": invitation.accepted_at, "how": INVITATION})


def invitation_expiry(apps, schema_editor):
    Invitation = apps.get_model("dossiers", "Invitation")
    validity = dt.timedelta(days=getattr(settings, "INVITATION_VALIDITY_DAYS", 14))
    Invitation.objects.update(expires_at=F("created_at") + validity)


def hybrid_profiles(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    HybridProfile = apps.get_model("dossiers", "HybridProfile")
    lacking = Dossier.objects.filter(hybrid_profile__isnull=True).values_list("pk", flat=True)
    HybridProfile.objects.bulk_create(HybridProfile(dossier_id=pk) for pk in lacking.iterator())


def forwards(apps, schema_editor):
    participations_from_history(apps, schema_editor)
    invitation_expiry(apps, schema_editor)
    hybrid_profiles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("dossiers", "0002_participants_and_invitation_expiry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
