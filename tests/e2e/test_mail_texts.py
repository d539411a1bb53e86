"""A call's administrator rewrites one of its mails, previews it and saves it, on a desktop and
on a 390 px phone; every page passes axe."""

import pytest
from playwright.sync_api import expect

from guichet.calls.models import CallMailText
from guichet.review.models import Role
from tests.e2e.conftest import click_through, log_in, visit
from tests.e2e.test_mobile import on_phone
from tests.factories import give_roles, make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"
BODY = "Bonjour,\nLe dossier {{ number }} est à corriger avant le {{ deadline }}.\n{{ link }}"


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_administrator_rewrites_a_mail_previews_and_saves_it(new_page, live_server,
                                                             deffinum_open, mobile):
    base = live_server.url
    admin = make_user("administratrice@deffinum.example.fr")
    give_roles(admin, deffinum_open, Role.ADMINISTRATOR)
    page = new_page(mobile=mobile)
    check = on_phone if mobile else visit
    log_in(page, base, admin.email, PASSWORD)
    page.goto(f"{base}/instruction/")
    click_through(page.get_by_role("link", name="courriels"))
    check(page, "mail texts list")
    row = page.get_by_role("row").filter(has_text="Demande de corrections")
    click_through(row.get_by_role("link", name="Français"))
    expect(page.get_by_test_id("mail-text-origin")).to_contain_text("Texte de la plateforme")
    check(page, "mail text platform")

    form = page.get_by_test_id("mail-text-form")
    form.get_by_label("Objet").fill("À corriger : {{ number }} {{ budget }}")
    form.get_by_label("Texte").fill(BODY)
    click_through(form.get_by_role("button", name="Prévisualiser"))
    refusal = "« {{ budget }} » n'est pas une variable de ce courriel"
    expect(page.get_by_text(refusal)).to_be_visible()
    check(page, "mail text refused")

    form.get_by_label("Objet").fill("À corriger : {{ number }}")
    click_through(form.get_by_role("button", name="Prévisualiser"))
    preview = page.get_by_test_id("mail-preview")
    expect(preview).to_contain_text("À corriger : DEF-2026-000123")
    expect(preview).to_contain_text("avant le 15/09/2026 à 12:00:00")
    assert not CallMailText.objects.exists()
    check(page, "mail text preview")

    click_through(form.get_by_role("button", name="Enregistrer"))
    expect(page.get_by_text("Texte du courriel enregistré.")).to_be_visible()
    expect(page.get_by_test_id("mail-text-origin")).to_contain_text("Texte propre à l'appel")
    saved = CallMailText.objects.get()
    assert (saved.kind, saved.language, saved.subject) == (
        "correction_requested", "fr", "À corriger : {{ number }}")
    check(page, "mail text saved")
