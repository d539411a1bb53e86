"""A person's account page: the language of their pages and mails, which wins over the
language cookie once they are signed in."""

import pytest
from django.conf import settings

from guichet.accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(client):
    user = make_user("personne@example.fr")
    client.force_login(user)
    return user


def test_account_language_switched_to_english_changes_the_pages(client, person):
    assert '<html lang="fr"' in client.get("/compte/").content.decode()
    response = client.post("/compte/langue/", {"language": "en"})
    assert response["Location"] == "/compte/"
    assert User.objects.get(pk=person.pk).language == "en"
    page = client.get("/espace/").content.decode()
    assert '<html lang="en"' in page
    assert "<h1>My account</h1>" in page
    client.post("/compte/langue/", {"language": "fr"})
    assert "<h1>Mon espace</h1>" in client.get("/espace/").content.decode()


def test_account_language_wins_over_the_language_cookie(client, person):
    User.objects.filter(pk=person.pk).update(language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert '<html lang="en"' in client.get("/espace/").content.decode()


def test_account_language_from_the_header_switch_returns_to_the_page(client, person):
    response = client.post("/compte/langue/", {"language": "en", "next": "/espace/"})
    assert response["Location"] == "/espace/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response = client.post("/compte/langue/", {"language": "fr",
                                               "next": "https://ailleurs.example/"})
    assert response["Location"] == "/compte/"


@pytest.mark.parametrize("value", ["de", "", "fr' OR 1=1", "x" * 500])
def test_account_language_unknown_refused_naming_the_field(client, person, value):
    response = client.post("/compte/langue/", {"language": value})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Langue des pages et des courriels" in page
    assert "fr-error-text" in page or "fr-message--error" in page
    assert User.objects.get(pk=person.pk).language == "fr"


def test_account_page_needs_signing_in(client):
    assert client.get("/compte/")["Location"].startswith("/comptes/login/")
