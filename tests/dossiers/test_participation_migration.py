"""Migration 0003 gives existing people their access back, from what the database records only.

The database is migrated back to the schema before participations, filled the way the old
code filled it (affiliations, audit events, invitations), then migrated forward.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guichet.accounts.models import User
from guichet.audit.services import append_event
from guichet.dossiers.membership import dossiers_of
from guichet.dossiers.models import Dossier, DossierAnswers, Invitation, Participant
from tests.factories import fresh_siret, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("dossiers", "0001_initial")]
T0 = dt.datetime(2021, 7, 1, 9, 0, tzinfo=dt.UTC)


def _migrate(targets):
    """Migrate to `targets`; the model classes of the schema there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


class OldSchema:
    """Rows written with the models of the schema before participations."""

    def __init__(self, apps, call):
        self.apps, self.call = apps, call

    def model(self, name):
        return self.apps.get_model("dossiers", name)

    def organisation(self, name, *affiliated):
        organisation = self.model("Organisation").objects.create(siret=fresh_siret(), name=name)
        for user in affiliated:
            self.model("Affiliation").objects.create(user_id=user.pk, organisation=organisation)
        return organisation

    def dossier(self, title, lead, *partners, profile=True):
        consortium = self.model("Consortium").objects.create(name=title)
        members = [self.model("ConsortiumMember").objects.create(
            consortium=consortium, organisation=organisation, name=organisation.name,
            kind="edtech", is_lead=position == 0, position=position, confirmed_at=T0)
            for position, organisation in enumerate([lead, *partners])]
        dossier = self.model("Dossier").objects.create(call_id=self.call.pk,
                                                       consortium=consortium, title=title)
        if profile:
            self.model("HybridProfile").objects.create(dossier=dossier)
        return dossier, members

    def invitation(self, consortium, email, by, *, accepted_for=None):
        return self.model("Invitation").objects.create(
            consortium=consortium, email=email, token=email + "-token", invited_by_id=by.pk,
            created_at=T0, accepted_at=T0 + dt.timedelta(days=1) if accepted_for else None,
            member=accepted_for)


@pytest.fixture
def migrated_back(transactional_db, open_call):
    apps = _migrate(BEFORE)
    yield OldSchema(apps, open_call)
    _migrate(_latest())  # whatever happened, leave the database at the current schema


def test_migration_gives_access_to_creators_and_accepted_invitees_only(migrated_back):
    old = migrated_back
    alice, bob, carol, mallory, dave = (make_user(f"{name}@example.fr") for name in
                                        ("alice", "bob", "carol", "mallory", "dave"))
    started, (lead, partner) = old.dossier("Projet d'Alice", old.organisation("A", alice),
                                           old.organisation("B", bob))
    created = append_event("dossier.started", started, by=alice, at=T0)
    old.invitation(started.consortium, "Bob@Example.fr", alice, accepted_for=partner)
    old.invitation(started.consortium, "dave@example.fr", alice)  # never accepted
    old.invitation(started.consortium, "gone@example.fr", alice, accepted_for=partner)
    # An imported dossier: nobody started it; the old code let whoever declared its SIRETs in.
    imported, _members = old.dossier("Projet importé", old.organisation("L", mallory),
                                     old.organisation("P", carol), profile=False)
    append_event("dossier.imported", imported)
    append_event("dossier.started", imported, by=User(pk=987_654, email="deleted@example.fr"))

    _migrate(_latest())

    participations = {(p.user.email, p.member_id, p.how, p.joined_at)
                      for p in Participant.objects.select_related("user")}
    assert participations == {
        ("alice@example.fr", lead.pk, "created", created.at),
        ("bob@example.fr", partner.pk, "invitation", T0 + dt.timedelta(days=1))}
    assert [d.pk for d in dossiers_of(alice)] == [d.pk for d in dossiers_of(bob)] == [started.pk]
    for outsider in (carol, mallory, dave):
        assert not dossiers_of(outsider).exists()
    pending = Invitation.objects.get(email="dave@example.fr")
    assert pending.expires_at == T0 + dt.timedelta(days=14)
    assert DossierAnswers.objects.filter(dossier_id=imported.pk).count() == 1
    assert Dossier.objects.filter(answers__isnull=True).count() == 0
