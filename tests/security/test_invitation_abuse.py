"""Invitations abused: a member inviting, invitations after submission, expired or revoked
links, another address, an invitation used to become the lead."""

import datetime as dt

import pytest

from guichet.core.errors import ServiceError
from guichet.dossiers import membership
from guichet.dossiers.models import Dossier, DossierStatus, Invitation, Participant
from guichet.dossiers.services import submit
from tests.factories import (
    fresh_siret,
    lead_and_member,
    make_dossier,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document)


@pytest.fixture
def people(dossier):
    return lead_and_member(dossier)


def _invitee(email="invitee@example.fr"):
    """A new account acting for an organisation of its own."""
    user = make_user(email)
    organisation = membership.register_organisation(user, fresh_siret(), "Nouvel organisme")
    return user, organisation


def _refusal(action) -> str:
    with pytest.raises(ServiceError) as refused:
        action()
    return refused.value.message


def test_member_inviting_a_third_party_is_refused(client, dossier, people, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    _lead, member = people
    assert _refusal(lambda: membership.invite_member(dossier, "tiers@example.fr", member)) \
        == "Seul le chef de file invite des personnes dans le consortium."
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/dossiers/{dossier.pk}/etape/consortium/",
                           {"email": "tiers@example.fr"}).content.decode()
    assert "Seul le chef de file invite des personnes dans le consortium." in page
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_invitation_after_submission_is_refused_except_during_corrections(dossier, people):
    lead, _member = people
    submit(dossier, by=lead)
    dossier.refresh_from_db()
    assert _refusal(lambda: membership.invite_member(dossier, "tard@example.fr", lead)) \
        .startswith("Le dossier est déposé : le consortium n'accepte plus d'invitation")
    assert not Invitation.objects.exists()
    Dossier.objects.filter(pk=dossier.pk).update(status=DossierStatus.CORRECTION_REQUESTED)
    dossier.refresh_from_db()
    assert membership.invite_member(dossier, "tard@example.fr", lead).email == "tard@example.fr"


def test_invitation_accepted_after_submission_is_refused(dossier, people):
    lead, _member = people
    invitation = membership.invite_member(dossier, "lent@example.fr", lead)
    submit(dossier, by=lead)
    user, organisation = _invitee("lent@example.fr")
    assert _refusal(lambda: membership.accept_invitation(
        invitation.token, user, organisation, "edtech")).startswith("Le dossier a été déposé")
    assert not Participant.objects.filter(user=user).exists()


def test_expired_invitation_cannot_be_accepted(client, dossier, people):
    lead, _member = people
    sent_at = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
    invitation = membership.invite_member(dossier, "invitee@example.fr", lead, now=sent_at)
    assert invitation.expires_at == sent_at + dt.timedelta(days=14)
    user, organisation = _invitee()
    expected = ("Cette invitation a expiré le 15/03/2024 09:00 (heure de Paris) : demandez au "
                "chef de file de vous inviter à nouveau.")
    assert _refusal(lambda: membership.accept_invitation(
        invitation.token, user, organisation, "edtech")) == expected
    client.force_login(user)
    page = client.post(f"/invitations/{invitation.token}/",
                       {"organisation": organisation.pk, "kind": "edtech"}).content.decode()
    assert "Cette invitation a expiré le 15/03/2024 09:00" in page
    assert not Participant.objects.filter(user=user).exists()


def test_revoked_invitation_cannot_be_accepted(client, dossier, people):
    lead, _member = people
    invitation = membership.invite_member(dossier, "invitee@example.fr", lead)
    client.force_login(lead)
    client.post(f"/dossiers/{dossier.pk}/invitations/retrait/",
                {"invitation": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert invitation.revoked_by == lead
    user, organisation = _invitee()
    assert _refusal(lambda: membership.accept_invitation(
        invitation.token, user, organisation, "edtech")) \
        == "Cette invitation a été retirée par le chef de file du consortium."
    client.force_login(user)
    page = client.get(f"/invitations/{invitation.token}/").content.decode()
    assert "Cette invitation a été retirée par le chef de file du consortium." in page
    assert 'data-testid="accept-form"' not in page
    assert not Participant.objects.filter(user=user).exists()


def test_member_revoking_the_leads_invitation_is_refused(client, dossier, people):
    lead, member = people
    invitation = membership.invite_member(dossier, "invitee@example.fr", lead)
    assert _refusal(lambda: membership.revoke_invitation(dossier, invitation, member)) \
        == "Seul le chef de file retire une invitation."
    client.force_login(member)
    client.post(f"/dossiers/{dossier.pk}/invitations/retrait/",
                {"invitation": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_invitation_accepted_from_another_address_is_refused(dossier, people):
    lead, _member = people
    invitation = membership.invite_member(dossier, "invitee@example.fr", lead)
    user, organisation = _invitee("intercepteur@example.fr")
    assert _refusal(lambda: membership.accept_invitation(
        invitation.token, user, organisation, "edtech")).startswith(
        "Cette invitation a été adressée à une autre adresse électronique")
    assert not Participant.objects.filter(user=user).exists()


def test_invitation_naming_the_lead_member_is_refused(dossier, people):
    lead, _member = people
    lead_member = dossier.consortium.members.get(is_lead=True)
    assert _refusal(lambda: membership.invite_member(
        dossier, "cochef@example.fr", lead, member=lead_member)) \
        == "Choisissez un membre du consortium autre que le chef de file."
    assert not Invitation.objects.exists()


def test_invitee_declaring_the_lead_siret_cannot_join_as_the_lead(open_call, example_document):
    """An imported dossier whose lead organisation nobody represents: the invited partner
    declares the lead's SIRET and accepts for it, hoping to take part for the lead member."""
    dossier = make_dossier(example_document)
    lead_member = dossier.consortium.members.get(is_lead=True)
    lead, _member = lead_and_member(dossier)
    lead_member.organisation.affiliations.all().delete()  # nobody acts for the lead any more
    invitation = membership.invite_member(dossier, "invitee@example.fr", lead)
    user = make_user("invitee@example.fr")
    membership.register_organisation(user, lead_member.organisation.siret, "Usurpé")
    assert _refusal(lambda: membership.accept_invitation(
        invitation.token, user, lead_member.organisation, "edtech")).startswith(
        "Cet organisme fait déjà partie du consortium")
    assert not Participant.objects.filter(user=user).exists()
    assert not user.has_perm("dossiers.view_dossier", dossier)


@pytest.mark.parametrize("bad_id", ["abc", "²", "99999999999999999999", "", "1 OR 1=1"])
def test_revoking_with_a_forged_invitation_id_is_a_404(client, dossier, people, bad_id):
    lead, _member = people
    client.force_login(lead)
    response = client.post(f"/dossiers/{dossier.pk}/invitations/retrait/",
                           {"invitation": bad_id})
    assert response.status_code == 404


def test_revoking_another_consortiums_invitation_is_a_404(client, dossier, people,
                                                          example_document):
    other = make_dossier(example_document)
    other_lead, _other_member = lead_and_member(other)
    invitation = membership.invite_member(other, "invitee@example.fr", other_lead)
    lead, _member = people
    client.force_login(lead)
    response = client.post(f"/dossiers/{dossier.pk}/invitations/retrait/",
                           {"invitation": invitation.pk})
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert _refusal(lambda: membership.revoke_invitation(dossier, invitation, lead)) \
        == "Cette invitation ne concerne pas ce dossier."
