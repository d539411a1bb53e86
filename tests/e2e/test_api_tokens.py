"""A person makes an API token on their account page, uses it from a program, and revokes
it, on a desktop and on a 390 px phone; the account page and the API's documentation page
pass axe."""

import pytest
from playwright.sync_api import expect

from guichet.accounts.models import ApiToken
from tests.e2e.conftest import click_through, log_in, visit
from tests.factories import make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_person_makes_uses_and_revokes_an_api_token(new_page, live_server, deffinum_open,
                                                    mobile):
    base, device = live_server.url, "phone" if mobile else "desktop"
    person = make_user("logiciel@example.fr")
    page = new_page(mobile=mobile)
    log_in(page, base, person.email, PASSWORD)
    page.goto(f"{base}/compte/")
    form = page.get_by_test_id("token-form")
    form.get_by_label("Nom du jeton").fill("Logiciel financier")
    form.get_by_text("lecture seule", exact=True).click()
    click_through(form.get_by_role("button", name="Créer un jeton"))
    secret = page.get_by_test_id("token-secret").inner_text().strip()
    assert secret.startswith("gch_")
    visit(page, f"account-token-created-{device}")

    answer = page.request.get(f"{base}/api/v1/me",
                              headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200
    assert answer.json()["owner"] == person.email

    page.goto(f"{base}/compte/")
    expect(page.get_by_test_id("token-secret")).to_have_count(0)  # shown once
    expect(page.get_by_role("cell", name="Logiciel financier", exact=True)).to_be_visible()
    click_through(page.get_by_role("button", name="Révoquer le jeton « Logiciel financier »"))
    expect(page.get_by_text("Jeton révoqué")).to_be_visible()
    assert ApiToken.objects.get().revoked_at is not None
    assert page.request.get(f"{base}/api/v1/me", headers={
        "Authorization": f"Bearer {secret}"}).status == 401
    visit(page, f"account-token-revoked-{device}")


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_api_documentation_page_lists_the_operations(new_page, live_server, deffinum_open,
                                                     mobile):
    page = new_page(mobile=mobile)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Un dossier").first).to_be_visible()
    expect(page.get_by_text("/api/v1/dossiers/{pk}/submit").first).to_be_visible()
    visit(page, f"api-docs-{'phone' if mobile else 'desktop'}")
