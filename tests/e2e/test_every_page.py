"""Every page of the site, reached as people reach it: by following links from their home, as
a visitor, an applicant with a paid grant, a call's administrator and an expert, over the demo
data of `make run`, on a desktop and on a 390 px phone. Each page passes axe-core (no serious
or critical violation), shows no internal code and raises no JavaScript error; on the phone it
never scrolls sideways. Then every route of the URLconf that answers GET (an action answers
405) must have been met: as a page, a redirection, a download, a fragment that htmx loads into
a page, or in UNREACHED with the reason and the test that covers it.
"""

import io
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter

from guichet.demo.dossiers import DEMO_LEAD_EMAIL, DEMO_PASSWORD
from guichet.demo.grants import STAFF, staff_user
from guichet.dossiers.services import submit
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Outcome
from guichet.review.instruction import record_instruction
from guichet.review.models import Role
from tests.e2e.conftest import log_in, visit
from tests.e2e.test_mobile import on_phone
from tests.factories import assign, lead_and_member, make_dossier, make_expert

pytestmark = pytest.mark.e2e
EXPERT = "experte.parcours@example.fr"
PASSWORD = "Formation-Hybride-2021!"  # make_user's default
# The same route with other ids is the same page: a few of each are enough.
PAGES_PER_ROUTE = 2
# Routes no link of these journeys leads to, each with why and where it is checked in a browser.
UNREACHED = {
    "set_language": "the language switch is a form (test_mobile: language switch)",
    "account_logout": "leaving ends the crawl (test_mobile: log out from the menu)",
    "account_inactive": "shown only to a deactivated account",
    "account_reauthenticate": "asked for before a sensitive change (test_staff_two_factor)",
    "account_request_reauthentication_code": "login by code is off",
    "account_confirm_reauthentication_code": "login by code is off",
    "account_confirm_login_code": "login by code is off",
    "account_email_verification_sent": "right after signing up (test_applicant_journey)",
    "account_confirm_email": "a link with a key from the mail (test_applicant_journey)",
    "account_reset_password_from_key": "a link with a key from the mail "
                                       "(test_applicant_journey: password reset)",
    "account_reset_password_from_key_done": "after a reset (test_applicant_journey)",
    "account_reset_password_done": "after asking for a reset (test_applicant_journey)",
    "account_set_password": "accounts here always have a password",
    "mfa_authenticate": "the second step of a staff login (test_staff_two_factor)",
    "mfa_reauthenticate": "before changing two-factor settings (test_staff_two_factor)",
    "mfa_activate_totp": "test_staff_two_factor",
    "mfa_deactivate_totp": "test_staff_two_factor",
    "mfa_view_recovery_codes": "test_staff_two_factor",
    "mfa_generate_recovery_codes": "test_staff_two_factor",
    "mfa_download_recovery_codes": "a download (test_staff_two_factor)",
    "portal:invitation": "a link with a token from the mail (test_applicant_journey)",
    "portal:invitation-organisation": "after accepting an invitation (test_applicant_journey)",
    "backoffice:wave-archive": "offered once an archive was built (tests/backoffice)",
    "backoffice:call-draft": "a draft exists once an administrator copies or revises a call, "
                             "a POST (tests/e2e/test_call_editor.py)",
    "backoffice:call-preview": "a draft's preview (tests/e2e/test_call_editor.py)",
    "backoffice:call-publish": "a draft's publication (tests/e2e/test_call_editor.py)",
    "portal:dossier": "the dossier's short address, linked nowhere: its first step "
                      "(portal:step), checked here",
    "web:dossier-schema": "the JSON schema of the dossier format, for programs "
                          "(tests/web/test_home.py)",
    "proconnect_login": "ProConnect is not configured here: its button and the round trip "
                        "through a provider are tests/e2e/test_proconnect.py",
    "proconnect_callback": "ProConnect's answer (tests/e2e/test_proconnect.py)",
    "socialaccount_signup": "asked only when ProConnect gives no usable address",
    "socialaccount_login_cancelled": "after cancelling at ProConnect",
    "socialaccount_login_error": "after a failed answer from ProConnect",
    "socialaccount_connections": "allauth's list of linked sign-ins, not linked from our "
                                 "pages: a ProConnect link is made by signing in with it",
}

# The REST API's operations answer programs holding a token, in JSON (tests/api); its
# documentation page (api-docs) is a page like the others, linked from the account page.
API_NAMESPACE = "api-v1:"


@pytest.fixture
def demo(deffinum_open, example_document):
    """`make run`'s data (a decided wave, signed grants, a first tranche paid); in the open
    wave, two instructed dossiers, one with a decision prepared, the other assigned to an
    expert; and an applicant drafting a dossier."""
    call_command("seeddemo", stdout=io.StringIO())
    instructor, committee = (staff_user(deffinum_open, role)
                             for role in (Role.INSTRUCTOR, Role.COMMITTEE))
    prepared, reviewed = (make_dossier(example_document) for _ in range(2))
    for dossier in (prepared, reviewed):
        submit(dossier)
        dossier.refresh_from_db()
        record_instruction(dossier, instructor, admissible=True, eligible=True)
    prepared.refresh_from_db()
    prepare_decision(prepared, committee, Outcome.SELECTED, awarded_aid=prepared.requested_aid)
    assign(reviewed, make_expert(deffinum_open, EXPERT))
    drafting, _member = lead_and_member(make_dossier(example_document))
    return drafting


class Crawl:
    """What the journeys met: pages (checked), redirections, downloads."""

    def __init__(self, base: str, mobile: bool):
        self.base, self.mobile, self.page = base, mobile, None
        self.pages: dict[str, set[str]] = {}
        self.who = ""
        self.shown: dict[tuple, int] = {}  # pages checked per journey, route (and form step)
        self.downloads: set[str] = set()
        self.redirects: set[str] = set()
        self.fragments: set[str] = set()  # loaded into a page by htmx, checked with it

    def route(self, url: str) -> tuple[str, str] | None:
        """The route's name and the path, for a link of this site; None for anything else."""
        here = self.page.url if self.page.url.startswith(self.base) else self.base
        parts = urlsplit(urljoin(here, url))
        if f"{parts.scheme}://{parts.netloc}" != self.base or not parts.path:
            return None
        try:
            match = resolve(parts.path)
        except Resolver404:
            return None
        return match.view_name, parts.path + (f"?{parts.query}" if parts.query else "")

    def from_home(self, start: str, who: str) -> None:
        self.who = who
        queue, seen = deque([start]), {start}
        while queue:
            if not self._open(queue.popleft()):
                continue
            for link in self._links():
                if link not in seen:
                    seen.add(link)
                    queue.append(link)

    def _open(self, path: str) -> bool:
        """Check the page at `path` unless enough of its kind were in this journey; False if
        it is not an HTML page that opened."""
        name = self.route(path)[0]
        if self._enough(path):
            return False
        answer = self.page.request.get(f"{self.base}{path}")
        if "text/html" not in answer.headers.get("content-type", ""):
            self.downloads.add(name)
            return False
        landed = self.route(answer.url)
        if answer.status != 200 or landed is None:
            return False
        if landed[1] != path:  # a redirection: the route was met, its target is checked
            self.redirects.add(name)
            name, path = landed
            if self._enough(path):
                return False
        self.page.goto(f"{self.base}{path}")
        key = self._kind_of(path)
        self.shown[key] = self.shown.get(key, 0) + 1
        self.pages.setdefault(name, set()).add(path)
        (on_phone if self.mobile else visit)(self.page, f"{self.who} {name} {path}")
        self.fragments |= {route[0] for url in self.page.eval_on_selector_all(
            "[hx-get]", "nodes => nodes.map(n => n.getAttribute('hx-get'))")
            if (route := self.route(url))}
        return True

    def _kind_of(self, path: str) -> tuple:
        """Pages alike: one route in one journey; each step of the dossier form is its own."""
        match = resolve(urlsplit(path).path)
        return self.who, match.view_name, match.kwargs.get("step")

    def _enough(self, path: str) -> bool:
        return self.shown.get(self._kind_of(path), 0) >= PAGES_PER_ROUTE

    def _links(self) -> list[str]:
        """The pages this one leads to: its links, and what its frames show."""
        urls = self.page.eval_on_selector_all(
            "a[href], iframe[src]", "nodes => nodes.map(n => n.href || n.src)")
        return [route[1] for url in urls
                if (route := self.route(url.split("#")[0])) and route[0] not in UNREACHED]

    def answers_get(self, name: str, pattern) -> bool:
        """Whether the route answers GET at all (an action answers 405 to it)."""
        dummy = dict.fromkeys(pattern.regex.groupindex, "x")
        dummy |= {arg: 999_999 for arg, converter in getattr(pattern, "converters", {}).items()
                  if isinstance(converter, IntConverter)}
        return self.page.request.get(f"{self.base}{reverse(name, kwargs=dummy)}",
                                     max_redirects=0).status != 405


def every_route() -> dict[str, object]:
    """Each named route of the URLconf, with its pattern."""
    routes = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                routes[f"{namespace}:{pattern.name}" if namespace else pattern.name] = (
                    pattern.pattern)

    walk(get_resolver().url_patterns, None)
    return routes


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_every_page_reached_by_links_passes_axe_and_every_route_is_met(new_page, live_server,
                                                                       demo, mobile):
    base = live_server.url
    crawl = Crawl(base, mobile)
    journeys = [(None, None, "visitor"),
                (DEMO_LEAD_EMAIL, DEMO_PASSWORD, "applicant with a grant"),
                (demo.email, PASSWORD, "applicant drafting"),
                (STAFF[Role.ADMINISTRATOR], DEMO_PASSWORD, "administrator"),
                (EXPERT, PASSWORD, "expert")]
    for email, password, who in journeys:
        crawl.page = new_page(mobile=mobile)
        if email:
            log_in(crawl.page, base, email, password)
        crawl.from_home(urlsplit(crawl.page.url).path if email else "/", who)
        if who == "administrator":
            pages = {name: pattern for name, pattern in every_route().items()
                     if crawl.answers_get(name, pattern)}
        crawl.page.close()

    met = {name for name, paths in crawl.pages.items() if paths}
    missing = (set(pages) - met - crawl.redirects - crawl.downloads - crawl.fragments
               - set(UNREACHED) - {name for name in pages if name.startswith(API_NAMESPACE)})
    assert sorted(missing) == [], " ".join(sorted(missing))
    # Each journey went deep, and the routes said to answer GET are the pages they are.
    assert {"web:call", "portal:step", "portal:grant", "backoffice:dossier-full",
            "backoffice:review", "backoffice:grant", "backoffice:what-if"} <= met
    assert "portal:recap" in pages
    assert "backoffice:pay-tranche" not in pages
