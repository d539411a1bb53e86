"""The main pages under the Content-Security-Policy, in Chromium: no console error, no
uncaught exception, no CSP violation (Chromium reports each refused inline script or style,
and each blocked resource, as a console error)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from guichet.dossiers.services import submit
from guichet.review.models import Role
from tests.e2e.conftest import log_in, visit
from tests.factories import lead_and_member, make_dossier, staff

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default


class ConsoleErrors:
    """Every console error and uncaught exception of a page, with the address it came from."""

    def __init__(self, page):
        self.page, self.errors = page, []
        page.on("console", self._console)
        page.on("pageerror", self._uncaught)

    def _uncaught(self, error) -> None:
        self.errors.append(f"{self.page.url}: uncaught {error.name}: {error.message}")

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def open(self, url: str, name: str) -> None:
        response = self.page.goto(url)
        assert response.status == 200, url
        policy = response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in policy, policy
        assert "unsafe-inline" not in policy, policy
        self.page.wait_for_load_state("networkidle")
        visit(self.page, name)


def test_main_pages_under_content_security_policy_without_console_error(
        new_page, live_server, deffinum_open, example_document):
    base = live_server.url
    draft = make_dossier(example_document)
    lead, _member = lead_and_member(draft)
    received = make_dossier(example_document)
    submit(received, now=timezone.now())
    instructor = staff(deffinum_open, "instructrice@example.fr", Role.INSTRUCTOR)

    visitor = ConsoleErrors(new_page())
    for path, name in [("/", "home"), ("/comptes/login/", "login"),
                       ("/comptes/signup/", "signup")]:
        visitor.open(f"{base}{path}", name)

    applicant = ConsoleErrors(new_page())
    log_in(applicant.page, base, lead.email, PASSWORD)
    applicant.open(f"{base}/espace/", "dashboard")
    applicant.open(f"{base}/dossiers/{draft.pk}/etape/projet/", "step-projet")
    # An autosave through htmx: its request indicator styles come from our stylesheet.
    title = applicant.page.get_by_label("Titre du projet")
    title.fill("Campus hybride des métiers du bâtiment, version 2")
    title.blur()
    expect(applicant.page.locator("#verdict")).to_be_visible()
    applicant.page.wait_for_load_state("networkidle")
    applicant.open(f"{base}/dossiers/{draft.pk}/etape/budget/", "step-budget")

    back_office = ConsoleErrors(new_page())
    log_in(back_office.page, base, instructor.email, PASSWORD)
    back_office.open(f"{base}/instruction/appels/deffinum/dossiers/", "backoffice-list")
    back_office.open(f"{base}/instruction/dossiers/{received.pk}/", "backoffice-dossier")
    back_office.open(f"{base}/instruction/tableau-de-bord/", "backoffice-dashboard")

    errors = visitor.errors + applicant.errors + back_office.errors
    assert errors == [], "\n".join(errors)
