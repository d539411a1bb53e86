"""Invitations from the lead: listed while pending, revocable, expiring, mailed after commit."""

import datetime as dt
import re

import pytest

from guichet.core.errors import ServiceError
from guichet.dossiers import editing, membership
from guichet.dossiers.models import Invitation, Participant
from tests.factories import lead_and_member, make_dossier, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document)


@pytest.fixture
def people(dossier):
    return lead_and_member(dossier)


def test_pending_invitations_listed_with_paris_expiry_and_revoke_button(client, dossier,
                                                                        people):
    lead, member = people
    sent_at = dt.datetime(2099, 1, 10, 9, 30, tzinfo=dt.UTC)  # pending whenever this runs
    pending = membership.invite_member(dossier, "attente@example.fr", lead, now=sent_at)
    revoked = membership.invite_member(dossier, "retiree@example.fr", lead, now=sent_at)
    membership.revoke_invitation(dossier, revoked, lead)
    client.force_login(lead)
    page = client.get(f"/dossiers/{dossier.pk}/etape/consortium/").content.decode()
    table = page[page.index('data-testid="pending-invitations"'):]
    assert "attente@example.fr" in table
    assert "retiree@example.fr" not in table
    assert "24 janvier 2099, 10:30" in table  # 09:30 UTC + 14 days, in Paris (CET)
    assert f'name="invitation" value="{pending.pk}"' in table
    assert "Retirer l'invitation" in table
    client.force_login(member)  # the list and its buttons are the lead's
    assert "pending-invitations" not in client.get(
        f"/dossiers/{dossier.pk}/etape/consortium/").content.decode()


def test_invitation_mail_sent_only_after_commit(dossier, people, mailoutbox,
                                                django_capture_on_commit_callbacks):
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        membership.invite_member(dossier, "partenaire@example.fr", lead)
        assert mailoutbox == []  # never inside the transaction
    for callback in callbacks:
        callback()
    assert [mail.to for mail in mailoutbox] == [["partenaire@example.fr"]]
    assert "(heure de Paris, UTC+0" in mailoutbox[0].body
    assert re.search(r"/invitations/[-\w]+/", mailoutbox[0].body)


def test_invitation_validity_follows_the_setting(dossier, people, settings):
    settings.INVITATION_VALIDITY_DAYS = 3
    lead, _member = people
    now = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
    invitation = membership.invite_member(dossier, "partenaire@example.fr", lead, now=now)
    assert invitation.expires_at == now + dt.timedelta(days=3)
    pending = membership.pending_invitations_of
    assert list(pending(dossier, now + dt.timedelta(days=2, hours=23))) == [invitation]
    assert list(pending(dossier, now + dt.timedelta(days=3))) == []


def test_second_pending_invitation_to_the_same_address_is_refused(dossier, people):
    lead, _member = people
    first = membership.invite_member(dossier, "partenaire@example.fr", lead)
    with pytest.raises(ServiceError) as refused:
        membership.invite_member(dossier, "Partenaire@Example.fr", lead)
    assert refused.value.field == "email"
    assert refused.value.message.startswith("Une invitation à cette adresse est déjà en attente")
    membership.revoke_invitation(dossier, first, lead)
    assert membership.invite_member(dossier, "partenaire@example.fr", lead).pk != first.pk


def test_invitation_for_an_existing_member_joins_that_member(client, dossier, people):
    """A colleague of a partner that has no account yet (an imported consortium)."""
    lead, _member = people
    partner = dossier.consortium.members.get(is_lead=False)
    client.force_login(lead)
    client.post(f"/dossiers/{dossier.pk}/etape/consortium/",
                {"email": "collegue@example.fr", "member": partner.pk})
    invitation = Invitation.objects.get(email="collegue@example.fr")
    assert invitation.member == partner
    colleague = make_user("collegue@example.fr")
    client.force_login(colleague)
    page = client.get(f"/invitations/{invitation.token}/").content.decode()
    assert f"pour le compte du membre {partner.name}" in page
    assert 'name="organisation"' not in page
    response = client.post(f"/invitations/{invitation.token}/", {})
    assert response["Location"] == f"/dossiers/{dossier.pk}/etape/budget/"
    joined = Participant.objects.get(user=colleague)
    assert (joined.member, joined.how) == (partner, "invitation")
    editing.add_expense(dossier, colleague, editing.ExpenseInput(
        member=partner, category="staff", label="Tutorat", amount=100, eligible=True))
    assert not colleague.has_perm("dossiers.edit_project", dossier)


def test_dashboard_lists_only_valid_invitations(client, dossier, people):
    lead, _member = people
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    membership.invite_member(dossier, "invitee@example.fr", lead, now=long_ago)
    invitee = make_user("invitee@example.fr")
    client.force_login(invitee)
    assert list(client.get("/espace/").context["invitations"]) == []
    current = membership.invite_member(dossier, "invitee@example.fr", lead)
    assert list(client.get("/espace/").context["invitations"]) == [current]
