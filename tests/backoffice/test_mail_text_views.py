"""The mail editor of a call's administrators: the list of its mails, one mail's text with its
variables and a preview, saving and going back to the platform's text."""

import pytest

from guichet.calls.models import CallMailText
from guichet.notifications.kinds import Kind
from tests.html import one, select, text

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/courriels/"
CORRECTION_FR = "/instruction/appels/deffinum/courriels/correction_requested/fr/"
BODY = "Le dossier {{ number }} est à corriger avant le {{ deadline }} : {{ link }}"


@pytest.fixture
def admin(client, team):
    client.force_login(team["admin"])
    return team["admin"]


def test_mail_list_names_each_mail_in_words_with_its_languages(client, admin):
    page = client.get(LIST).content.decode()
    rows = select(page, "[data-testid=mail-texts] tbody tr")
    assert len(rows) == len(Kind) - 1  # every mail but the daily digest
    assert "Demande de corrections" in page
    assert "correction_requested" not in text(one(page, "[data-testid=mail-texts] tbody"))
    assert f'href="{CORRECTION_FR}"' in page


@pytest.mark.parametrize("role", ["instructor", "committee"])
def test_mail_pages_refused_to_staff_who_do_not_administer_the_call(client, team, role):
    client.force_login(team[role])
    assert client.get(LIST).status_code == 403
    assert client.post(CORRECTION_FR, {"subject": "x", "body": BODY}).status_code == 403
    assert not CallMailText.objects.exists()


@pytest.mark.parametrize("path", ["daily_digest/fr/", "nothing/fr/", "receipt/de/"])
def test_mail_editor_not_found_for_a_mail_or_language_the_call_has_not(client, admin, path):
    assert client.get(f"{LIST}{path}").status_code == 404


def test_mail_editor_shows_platform_text_variables_and_its_preview(client, admin):
    page = client.get(CORRECTION_FR).content.decode()
    assert "Texte de la plateforme" in text(one(page, "[data-testid=mail-text-origin]"))
    assert one(page, "#id_subject").get("value") == (
        "Corrections demandées sur votre dossier {{ number }}")
    variables = text(one(page, "[data-testid=mail-variables]"))
    assert "{{ deadline }}" in variables
    assert "date limite (Paris)" in variables
    assert "Corrections demandées sur votre dossier DEF-2026-000123" in text(
        one(page, "[data-testid=mail-preview]"))


def test_mail_preview_fills_the_text_being_written_and_saves_nothing(client, admin):
    response = client.post(CORRECTION_FR + "apercu/", {"subject": "À corriger", "body": BODY})
    preview = text(one(response.content.decode(), "[data-testid=mail-preview]"))
    assert "Le dossier DEF-2026-000123 est à corriger avant le 15/09/2026 à 12:00:00" in preview
    assert not CallMailText.objects.exists()


def test_mail_preview_of_a_refused_text_names_the_fault(client, admin):
    response = client.post(CORRECTION_FR + "apercu/", {"subject": "{{ budget }}", "body": BODY})
    page = response.content.decode()
    assert response.status_code == 200
    assert "« {{ budget }} » n'est pas une variable de ce courriel" in text(
        one(page, ".fr-input-group--error:has(#id_subject)"))
    assert not select(page, "[data-testid=mail-preview]")


def test_mail_save_keeps_the_call_text_then_reset_brings_back_the_platform_text(client, admin):
    response = client.post(CORRECTION_FR, {"subject": "À corriger : {{ number }}", "body": BODY})
    assert response.status_code == 302
    row = CallMailText.objects.get()
    assert (row.subject, row.body) == ("À corriger : {{ number }}", BODY)
    page = client.get(CORRECTION_FR).content.decode()
    assert "Texte propre à l'appel, modifié par admin@example.fr" in text(
        one(page, "[data-testid=mail-text-origin]"))
    assert "texte de l'appel" in client.get(LIST).content.decode()

    assert client.post(CORRECTION_FR + "retablir/").status_code == 302
    assert not CallMailText.objects.exists()


def test_mail_save_refuses_a_forbidden_tag_on_its_field_and_writes_nothing(client, admin):
    response = client.post(CORRECTION_FR, {"subject": "Objet", "body": "{% debug %}"})
    assert response.status_code == 200
    assert "« {% debug %} » n'est pas permis" in text(
        one(response.content.decode(), ".fr-input-group--error:has(#id_body)"))
    assert not CallMailText.objects.exists()
