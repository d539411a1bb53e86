"""Signing in through ProConnect, against a real OpenID Connect provider started here
(tests/oidc/provider.mjs: panva's oidc-provider, userinfo as a signed JWT with the `siret`
claim, as ProConnect answers): a public agent with no account lands in their space, acting
for the organisation of that SIRET without an invitation; a person who has an account with
the same address is signed into it. Desktop and 390 px phone; our pages pass axe."""

import copy
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from guichet.accounts.models import User
from guichet.dossiers.models import Affiliation
from tests.e2e.conftest import visit
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tests" / "oidc" / "provider.mjs"
SIRET = "73282932000074"
AGENT = {"email": "ada.agent@example.gouv.fr", "given_name": "Ada", "usual_name": "Agent",
         "siret": SIRET}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def proconnect(live_server, settings, deffinum_open):
    """The provider, listening, and Guichet configured as its client."""
    port = _free_port()
    environment = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": "guichet",
                   "OIDC_CLIENT_SECRET": "secret-of-the-tests",
                   "OIDC_REDIRECT_URI": f"{live_server.url}/comptes/proconnect/login/callback/",
                   "OIDC_ACCOUNTS": json.dumps({"ada": AGENT})}
    process = subprocess.Popen(["node", str(PROVIDER)], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in process.stdout:
            if line.startswith("ready "):
                break
        else:
            pytest.fail("the OpenID Connect provider did not start")
        settings.SOCIALACCOUNT_PROVIDERS = {"proconnect": {"APPS": [{
            "client_id": "guichet", "secret": "secret-of-the-tests",
            "settings": {"server_url": f"http://127.0.0.1:{port}",
                         "token_auth_method": "client_secret_post"}}]}}
        settings.COMPANY_SEARCH_URL = "http://127.0.0.1:9"  # nothing listens: no lookup
        # What PROCONNECT_URL gives in production: the button's form may lead to the provider.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"] = ["'self'", f"http://127.0.0.1:{port}"]
        settings.CONTENT_SECURITY_POLICY = policy
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sign_in_with_proconnect(page, base: str, device: str) -> None:
    # The provider's development pages ask for web fonts and a favicon, out of reach here.
    page.route("https://fonts.googleapis.com/**",
               lambda route: route.fulfill(status=200, body="", content_type="text/css"))
    page.route("http://127.0.0.1:*/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base}/comptes/login/")
    visit(page, f"login-with-proconnect-{device}")
    page.get_by_test_id("proconnect").click()
    page.locator("input[name=login]").fill("ada")  # the provider's own page
    page.locator("input[name=password]").fill("any")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent to the scopes
    page.wait_for_url(f"{base}/espace/")


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_agent_signs_in_with_proconnect_and_acts_for_its_siret(new_page, live_server,
                                                              proconnect, mobile):
    device = "phone" if mobile else "desktop"
    OrganisationFactory(siret=SIRET, name="Réseau Formation BTP")
    make_user("premier.representant@example.fr", [])  # someone else, unrelated
    page = new_page(mobile=mobile)
    _sign_in_with_proconnect(page, live_server.url, device)

    agent = User.objects.get(email=AGENT["email"])
    assert (agent.first_name, agent.last_name) == ("Ada", "Agent")
    assert Affiliation.objects.filter(user=agent, organisation__siret=SIRET).exists()
    expect(page.get_by_text("Réseau Formation BTP").first).to_be_visible()
    visit(page, f"space-after-proconnect-{device}")


def test_person_with_an_account_at_the_same_address_is_signed_into_it(new_page, live_server,
                                                                       proconnect):
    existing = make_user(AGENT["email"])
    page = new_page()
    _sign_in_with_proconnect(page, live_server.url, "desktop-existing")
    assert User.objects.filter(email=AGENT["email"]).count() == 1
    assert existing.socialaccount_set.get().provider == "proconnect"
    assert Affiliation.objects.filter(user=existing, organisation__siret=SIRET).exists()
