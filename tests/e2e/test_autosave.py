"""Saving as one types, in a real browser: a valid field is saved although another is invalid,
the invalid one says why next to it, and leaving the page with changes not saved asks first."""

import pytest
from playwright.sync_api import expect

from guichet.dossiers.models import Dossier
from tests.e2e.conftest import click_through, log_in, visit
from tests.factories import lead_and_member, make_dossier

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default
TITLE = "Campus hybride du bâtiment et des travaux publics"
TOO_LONG = "Assurez-vous que cette valeur est inférieure ou égale à 120."


def test_autosave_keeps_the_valid_title_marks_the_invalid_duration_and_warns_before_leaving(
        page, live_server, deffinum_open, example_document):
    base = live_server.url
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    duration = dossier.duration_months
    log_in(page, base, lead.email, PASSWORD)
    url = f"{base}/dossiers/{dossier.pk}/etape/projet/"
    page.goto(url)
    form = page.get_by_test_id("project-form")
    dialogs = []

    def answer(dialog, accept: bool):
        dialogs.append(dialog.type)
        dialog.accept() if accept else dialog.dismiss()

    # 1. A valid title and an invalid duration, typed as a person does; then the autosave.
    title, months = form.get_by_label("Titre du projet"), form.get_by_label("Durée (mois)")
    title.click()
    title.press("ControlOrMeta+a")
    title.press_sequentially(TITLE)
    months.click()
    months.press("ControlOrMeta+a")
    months.press_sequentially("500")
    months.press("Tab")
    error = page.locator("#id_duration_months-desc-error")
    expect(error).to_have_text(TOO_LONG)  # next to the field, inside its DSFR group
    expect(page.locator(".fr-input-group--error").filter(
        has=page.get_by_label("Durée (mois)"))).to_have_count(1)
    expect(months).to_have_attribute("aria-invalid", "true")
    expect(months).to_have_attribute("aria-describedby", "id_duration_months-desc-error")
    expect(months).to_have_value("500")  # what was typed stays
    expect(page.locator("#autosave-status")).to_contain_text("Enregistré, sauf")
    expect(page.locator("#dossier-title")).to_have_text(TITLE)
    saved = Dossier.objects.get(pk=dossier.pk)
    assert (saved.title, saved.duration_months) == (TITLE, duration)
    visit(page, "projet-duration-refused")

    # 2. Leaving with the refused duration asks first; staying keeps what was typed.
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("link", name="Étape suivante").click()
    expect(months).to_have_value("500")
    assert (dialogs, page.url) == (["beforeunload"], url)

    # 3. Reloading (and confirming): the title was saved, the duration is the stored one.
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.reload()
    expect(form.get_by_label("Titre du projet")).to_have_value(TITLE)
    expect(months).to_have_value(str(duration))
    expect(page.locator("#id_duration_months-desc-error")).to_have_count(0)
    assert dialogs == ["beforeunload", "beforeunload"]
    visit(page, "projet-reloaded")

    # 4. A change typed but not yet saved asks too; once saved, leaving asks nothing.
    summary = form.get_by_label("Résumé")
    summary.click()
    summary.press("End")
    summary.press_sequentially(" Chantiers-écoles.")
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == url):
        page.get_by_role("link", name="Étape suivante").click()  # the click saves it too
    assert dialogs == ["beforeunload"] * 3
    expect(page.locator("#autosave-status")).to_have_text("Enregistré.")
    click_through(page.get_by_role("link", name="Étape suivante"))
    assert page.url == f"{base}/dossiers/{dossier.pk}/etape/consortium/"
    assert dialogs == ["beforeunload"] * 3
    assert Dossier.objects.get(pk=dossier.pk).summary.endswith(" Chantiers-écoles.")
