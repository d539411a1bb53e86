"""Where participations come from: creating a dossier, an accepted invitation, an operator."""

import json

import pytest
from django.core.management import CommandError, call_command

from guichet.accounts.models import User
from guichet.dossiers import membership
from guichet.dossiers.models import Affiliation, Dossier, Participant
from tests.factories import document_with_fresh_sirets, fresh_siret, make_dossier, make_user

pytestmark = pytest.mark.django_db


def test_start_dossier_makes_its_creator_the_lead(open_call):
    user = make_user("cheffe@example.fr")
    organisation = membership.register_organisation(user, fresh_siret(), "Réseau Sud")
    dossier = membership.start_dossier(user, open_call, organisation, "training_network",
                                       "Projet Sud")
    participation = Participant.objects.get(user=user)
    assert (participation.member.is_lead, participation.how) == (True, "created")
    assert participation.member.consortium_id == dossier.consortium_id
    assert user.has_perm("dossiers.edit_project", dossier)
    assert list(membership.dossiers_of(user)) == [dossier]


def test_accepting_an_invitation_as_a_new_partner_takes_part_for_the_new_member(open_call):
    lead = make_user("cheffe@example.fr")
    dossier = membership.start_dossier(
        lead, open_call, membership.register_organisation(lead, fresh_siret(), "Réseau"),
        "training_network", "Projet")
    invitation = membership.invite_member(dossier, "Partenaire@Example.fr", lead)
    partner = make_user("partenaire@example.fr")
    organisation = membership.register_organisation(partner, fresh_siret(), "EdTech")
    member = membership.accept_invitation(invitation.token, partner, organisation, "edtech")
    assert (member.organisation, member.is_lead) == (organisation, False)
    assert Participant.objects.get(user=partner).member == member
    assert partner.has_perm("dossiers.view_dossier", dossier)
    assert not partner.has_perm("dossiers.edit_project", dossier)


def test_acting_for_a_member_organisation_opens_nothing(open_call, example_document):
    dossier = make_dossier(example_document)
    lead_organisation = dossier.consortium.members.get(is_lead=True).organisation
    user = make_user("claimant@example.fr", [lead_organisation])
    assert not user.has_perm("dossiers.view_dossier", dossier)
    assert not membership.dossiers_of(user).exists()


def _document_file(tmp_path, example_document) -> str:
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(document_with_fresh_sirets(example_document)), encoding="utf-8")
    return str(path)


def test_import_dossier_without_lead_email_opens_it_to_nobody(open_call, example_document,
                                                              tmp_path, capsys):
    call_command("import_dossier", _document_file(tmp_path, example_document))
    out, err = capsys.readouterr()
    dossier = Dossier.objects.get(pk=int(out))
    assert not Participant.objects.filter(member__consortium=dossier.consortium).exists()
    assert "nobody can open this dossier yet" in err


def test_import_dossier_with_lead_email_gives_that_account_the_lead(open_call, example_document,
                                                                    tmp_path, capsys):
    user = make_user("cheffe@example.fr")
    call_command("import_dossier", _document_file(tmp_path, example_document),
                 lead_email=" Cheffe@Example.fr ")
    dossier = Dossier.objects.get(pk=int(capsys.readouterr().out))
    participation = Participant.objects.get(user=user)
    assert (participation.member.is_lead, participation.how) == (True, "designated")
    assert participation.member.consortium_id == dossier.consortium_id
    assert Affiliation.objects.filter(user=user,
                                      organisation=participation.member.organisation).exists()
    assert user.has_perm("dossiers.invite_member", dossier)


def test_import_dossier_naming_an_unknown_account_imports_nothing(open_call, example_document,
                                                                   tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("import_dossier", _document_file(tmp_path, example_document),
                     lead_email="personne@example.fr")
    assert "Aucun compte actif n'a l'adresse personne@example.fr" in str(refused.value)
    assert not Dossier.objects.exists()


def test_designate_lead_refuses_an_unconfirmed_address(open_call, example_document):
    dossier = make_dossier(example_document)
    User.objects.create_user("pas.confirme@example.fr", "x")
    with pytest.raises(CommandError) as refused:
        call_command("designate_lead", str(dossier.pk), "pas.confirme@example.fr")
    assert "n'a pas encore confirmé son adresse" in str(refused.value)
    assert not Participant.objects.exists()


def test_designate_lead_of_an_existing_dossier(open_call, example_document, capsys):
    dossier = make_dossier(example_document)
    user = make_user("cheffe@example.fr")
    call_command("designate_lead", str(dossier.pk), "cheffe@example.fr")
    call_command("designate_lead", str(dossier.pk), "cheffe@example.fr")  # idempotent
    assert capsys.readouterr().out.count(f"cheffe@example.fr leads dossier {dossier.pk}") == 2
    assert Participant.objects.get(user=user).member.is_lead
    assert list(membership.dossiers_of(user)) == [dossier]
