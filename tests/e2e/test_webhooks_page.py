"""A call's administrator adds a webhook and sends it a test event, on a desktop and on a
390 px phone; every page passes axe."""

import pytest
from playwright.sync_api import expect

from guichet.calls.models import WebhookEndpoint
from guichet.review.models import Role
from tests.e2e.conftest import click_through, log_in, tick, visit
from tests.factories import give_roles, make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"
REFUSING = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens, refused at once


@pytest.mark.e2e
@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_administrator_adds_a_webhook_and_sends_a_test_event(new_page, live_server,
                                                            deffinum_open, mobile):
    base = live_server.url
    admin = make_user("administrateur@deffinum.example.fr")
    give_roles(admin, deffinum_open, Role.ADMINISTRATOR)
    page = new_page(mobile=mobile)
    log_in(page, base, admin.email, PASSWORD)
    page.goto(f"{base}/instruction/appels/deffinum/webhooks/")
    expect(page.get_by_text("Aucun webhook.")).to_be_visible()
    visit(page, f"webhooks-empty-{'phone' if mobile else 'desktop'}")

    form = page.get_by_test_id("webhook-form")
    form.get_by_label("Adresse du système à prévenir").fill(REFUSING)
    tick(form.get_by_label("Dossier déposé"))
    tick(form.get_by_label("Versement enregistré"))
    click_through(form.get_by_role("button", name="Ajouter"))
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["dossier.submitted", "payment.recorded"]
    expect(page.get_by_test_id("webhook-secret")).to_contain_text(endpoint.secret)
    visit(page, f"webhooks-added-{'phone' if mobile else 'desktop'}")

    click_through(page.get_by_role("button", name="Envoyer un événement de test"))
    log = page.get_by_test_id(f"webhook-log-{endpoint.pk}")
    expect(log).to_contain_text("Événement de test")
    expect(log).to_contain_text("en attente")  # refused: tried again later
    expect(page.get_by_test_id("webhook-secret")).to_have_count(0)  # shown once
    visit(page, f"webhooks-tested-{'phone' if mobile else 'desktop'}")
