"""STAFF_MFA_REQUIRED: no back-office page for staff without an authenticator app."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from guichet.review.models import Role
from tests.factories import make_expert, make_user, staff

pytestmark = pytest.mark.django_db
ACTIVATE = "/comptes/2fa/totp/activate/"


@pytest.fixture
def required(settings):
    settings.STAFF_MFA_REQUIRED = True


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR])
def test_staff_without_authenticator_sent_to_set_one_up(client, required, open_call, role):
    client.force_login(staff(open_call, "agent@example.fr", role))
    for page in ("/instruction/", "/instruction/appels/deffinum/dossiers/",
                 "/instruction/tableau-de-bord/"):
        response = client.get(page)
        assert (response.status_code, response["Location"]) == (302, ACTIVATE), page


def test_expert_without_authenticator_sent_to_set_one_up(client, required, open_call):
    client.force_login(make_expert(open_call, "expert@example.fr").user)
    assert client.get("/instruction/")["Location"] == ACTIVATE


def test_staff_with_authenticator_reaches_the_back_office(client, required, open_call):
    agent = staff(open_call, "agent@example.fr", Role.INSTRUCTOR)
    TOTP.activate(agent, generate_totp_secret())
    client.force_login(agent)
    assert client.get("/instruction/").status_code == 200


def test_applicant_not_asked_and_may_set_one_up(client, required, open_call):
    client.force_login(make_user("porteur@example.fr"))
    assert client.get("/espace/").status_code == 200
    assert client.get("/instruction/").status_code == 200  # not staff: never sent to enrol
    assert client.get("/comptes/2fa/").status_code == 200


def test_staff_not_asked_when_not_required(client, settings, open_call):
    settings.STAFF_MFA_REQUIRED = False
    client.force_login(staff(open_call, "agent@example.fr", Role.INSTRUCTOR))
    assert client.get("/instruction/").status_code == 200
