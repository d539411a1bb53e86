"""With several calls open on one instance, an applicant chooses the call a new dossier goes
to; the call's public page sends them there with that call chosen."""

import datetime as dt

import pytest

from guichet.calls.services import load_call
from guichet.dossiers.models import Dossier
from tests.conftest import EXAMPLE_REGIONAL_TOML
from tests.factories import fresh_siret, make_user
from tests.html import one, select, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_open(open_call):
    """Deffinum and the regional example call, both with a wave open today."""
    return open_call, load_call(EXAMPLE_REGIONAL_TOML, demo_today=dt.date.today()).call


@pytest.fixture
def applicant(client):
    user = make_user("cheffe@example.fr")
    client.force_login(user)
    client.post("/espace/organismes/", {"siret": fresh_siret(), "name": "Réseau Sud"})
    return user


def _start(client, user, **fields):
    organisation = user.affiliations.get().organisation
    return client.post("/espace/dossiers/", {"organisation": organisation.pk,
                                             "kind": "training_network", **fields})


def test_start_in_a_call_chosen_among_the_open_ones(client, both_open, applicant):
    deffinum, regional = both_open
    page = client.get("/espace/").content.decode()
    options = select(page, '[data-testid="start-form"] select[name="call"] option')
    assert [(option.get("value"), text(option)) for option in options] == [
        ("deffinov-exemple", regional.name), ("deffinum", deffinum.name)]  # by code
    response = _start(client, applicant, call="deffinov-exemple", title="Projet régional")
    dossier = Dossier.objects.get(title="Projet régional")
    assert dossier.call == regional
    assert response["Location"] == f"/dossiers/{dossier.pk}/etape/projet/"


def test_start_in_a_call_not_open_refused_by_field(client, both_open, applicant):
    page = _start(client, applicant, call="inconnu", title="Projet perdu").content.decode()
    errors = [text(error) for error in select(page, '[data-testid="start-form"] .fr-error-text')]
    assert errors == ["Sélectionnez un choix valide. inconnu n’en fait pas partie."]
    assert not Dossier.objects.exists()


def test_start_with_one_open_call_asks_nothing(client, open_call, applicant):
    page = client.get("/espace/").content.decode()
    assert select(page, '[data-testid="start-form"] select[name="call"]') == []
    _start(client, applicant, title="Projet seul")
    assert Dossier.objects.get(title="Projet seul").call == open_call


def test_start_from_the_call_page_comes_with_that_call_chosen(client, both_open, applicant):
    link = one(client.get("/appels/deffinov-exemple/").content.decode(),
               '[data-testid="apply"]').get("href")
    assert link == "/espace/?appel=deffinov-exemple"
    chosen = one(client.get(link).content.decode(), 'select[name="call"] option[selected]')
    assert chosen.get("value") == "deffinov-exemple"


def test_start_link_absent_when_the_call_takes_no_dossier(client, deffinum):
    page = client.get("/appels/deffinum/").content.decode()  # its real waves closed in 2022
    assert select(page, '[data-testid="apply"]') == []
