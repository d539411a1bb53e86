"""What the browser cannot get round: the closing instant of a wave, and another consortium."""

import datetime as dt
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from guichet.calls.models import Wave
from guichet.calls.services import open_wave
from guichet.dossiers.models import Dossier, DossierStatus, Submission
from guichet.dossiers.services import submit
from guichet.rules.definition import shipped_definition
from guichet.web.steps import steps_of
from tests.e2e.conftest import click_through, log_in, screenshot, tick, verified_user, visit
from tests.factories import make_dossier

DEFFINUM_STEPS = [step for step, _label in steps_of(shipped_definition("deffinum"))]

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"


def dossier_urls(dossier: Dossier) -> list[str]:
    """Every page and file of a dossier, as paths."""
    pk = dossier.pk
    document = dossier.documents.order_by("pk").first()
    return [
        f"/dossiers/{pk}/",
        *[f"/dossiers/{pk}/etape/{step}/" for step in DEFFINUM_STEPS],
        f"/dossiers/{pk}/verdict/",
        f"/dossiers/{pk}/accuse/",
        f"/dossiers/{pk}/accuse.pdf",
        f"/dossiers/{pk}/annexe.xlsx",
        f"/dossiers/{pk}/budget.xlsx",
        f"/dossiers/{pk}/budget.ods",
        f"/dossiers/{pk}/pieces/{document.pk}/",
    ]


@pytest.mark.e2e
def test_submission_after_the_wave_closed_is_refused(page, live_server, deffinum_open,
                                                     example_document):
    dossier = make_dossier(example_document)
    lead = dossier.consortium.members.get(is_lead=True)
    verified_user("cheffe.de.file@exemple.fr", PASSWORD, [lead])
    log_in(page, live_server.url, "cheffe.de.file@exemple.fr", PASSWORD)
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/etape/depot/")
    expect(page.get_by_text("Le dossier est complet et éligible.")).to_be_visible()
    visit(page, "depot-wave-open")

    # The page was loaded while the wave was open; it closes before the applicant clicks.
    wave = open_wave(deffinum_open, timezone.now())
    closes_at = timezone.now() + dt.timedelta(seconds=2)
    Wave.objects.filter(pk=wave.pk).update(closes_at=closes_at)
    form = page.get_by_test_id("submit-form")
    tick(form.get_by_label("Je certifie l'exactitude"))
    time.sleep(max(0.0, (closes_at - timezone.now()).total_seconds()) + 0.2)
    click_through(form.get_by_role("button", name="Déposer le dossier"))

    refusal = page.get_by_test_id("submit-form").get_by_role("alert")
    expect(refusal).to_contain_text("Aucune vague de l'appel n'est ouverte à la date de réception")
    assert page.url == f"{live_server.url}/dossiers/{dossier.pk}/etape/depot/"
    assert not Submission.objects.filter(dossier=dossier).exists()
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT
    assert not dossier.receipt_number
    visit(page, "depot-refused")


@pytest.mark.e2e
def test_member_of_consortium_a_gets_404_on_everything_of_consortium_b(
        page, new_page, live_server, deffinum_open, example_document):
    base = live_server.url
    dossier_a = make_dossier(example_document)
    dossier_b = make_dossier({**example_document, "title": "Projet confidentiel B"})
    member_a = dossier_a.consortium.members.get(is_lead=False)
    lead_b = dossier_b.consortium.members.get(is_lead=True)
    verified_user("membre.a@exemple.fr", PASSWORD, [member_a])
    user_b = verified_user("chef.b@exemple.fr", PASSWORD, [lead_b])
    submit(dossier_b, by=user_b)  # so that B has a receipt and its PDF
    urls_b = dossier_urls(dossier_b)

    # Control: B's own lead gets every one of these addresses.
    page_b = new_page()
    log_in(page_b, base, "chef.b@exemple.fr", PASSWORD)
    for url in urls_b:
        assert page_b.request.get(f"{base}{url}").status == 200, url

    log_in(page, base, "membre.a@exemple.fr", PASSWORD)
    for url in dossier_urls(dossier_a):  # and A's member gets A's (draft: no receipt yet)
        if "/accuse" in url:
            continue
        assert page.request.get(f"{base}{url}").status == 200, url
    for url in urls_b:
        response = page.goto(f"{base}{url}")
        assert response.status == 404, f"{url}: {response.status}"
        assert "Projet confidentiel B" not in page.content(), url
    page.goto(f"{base}{urls_b[0]}")
    screenshot(page, "other-consortium-404")
