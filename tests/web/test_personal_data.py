"""A person downloads everything the platform holds about them, and nothing of anyone else's,
without a secret."""

import json

import pytest
from allauth.mfa.models import Authenticator

from guichet.review.instruction import post_message
from tests.factories import lead_and_member
from tests.review.test_services import submitted_dossier_in

pytestmark = pytest.mark.django_db
URL = "/compte/mes-donnees.json"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def lead(client, deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    post_message(dossier, lead, "Voici la lettre d'engagement signée.")
    post_message(dossier, member, "Message du partenaire, pas du chef de file.")
    Authenticator.objects.create(user=lead, type=Authenticator.Type.TOTP,
                                 data={"secret": TOTP_SECRET})
    client.force_login(lead)
    return lead


def test_personal_data_holds_the_account_participations_and_messages(client, lead):
    response = client.get(URL)
    assert response["Content-Disposition"] == 'attachment; filename="mes-donnees-guichet.json"'
    data = json.loads(response.content)
    assert data["compte"][0]["adresse électronique"] == lead.email
    assert data["compte"][0]["langue"] == "Français"
    messages = [row for section, rows in data.items() for row in rows
                if "Voici la lettre d'engagement signée." in row.values()]
    assert len(messages) == 1
    [affiliation] = data["affiliations"]
    assert affiliation["organisation"].startswith("Réseau Formation BTP (")
    [authenticator] = data["authenticators"]
    assert authenticator["data"] == "(secret conservé, non communiqué)"


def test_personal_data_gives_no_secret_and_nothing_of_another_person(client, lead):
    text = client.get(URL).content.decode()
    assert TOTP_SECRET not in text
    assert lead.password not in text
    assert "Message du partenaire" not in text
    assert "(secret conservé, non communiqué)" in text


def test_personal_data_lists_audit_events_in_words(client, lead):
    data = json.loads(client.get(URL).content)
    actions = [row["action"] for row in data["journal d'audit (actions faites)"]]
    assert actions == ["Message échangé avec l'équipe d'instruction"]


def test_personal_data_needs_a_signed_in_person(client, deffinum):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/login/")
