"""Browser tests (Playwright driving Debian's Chromium against pytest-django's live server).

The application runs in a thread of the test process (`live_server`) over the transactional
test database: the tests read and change the database with the ORM, and `mailoutbox` holds the
mails the server sent. Every page visited is checked with axe-core and for internal codes shown
as text, photographed under test-artifacts/e2e/<test>/, and fails on any console error or
uncaught exception. Pages open on a desktop (1280 × 900) or, with `mobile_page`, on a 390 px
phone (touch, mobile user agent).
"""

import datetime as dt
import os
import re
import shutil
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from guichet.calls.services import load_call
from guichet.review.models import CallRole
from tests.codes import codes_in
from tests.conftest import DEFFINUM_TOML, EXAMPLE_REGIONAL_TOML
from tests.factories import make_user, take_part

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BLOCKING_IMPACTS = ("serious", "critical")
PARIS = ZoneInfo("Europe/Paris")
TIMEOUT_MS = 15_000


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser tests (Chromium)")


# --- browser -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run; a missing browser or axe-core fails, never skips."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package "
                    "(a Playwright browser download cannot work here).", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install --no-save --no-audit --no-fund "
                    "axe-core@4` (or `make browser`) at the root of the project.", pytrace=False)
    # Imported here: Playwright loads only once Chromium and axe-core are known to be there, so a
    # missing one fails clearly.
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    # Playwright's sync API keeps an asyncio loop running in the main thread until it stops,
    # so Django refuses the ORM calls made meanwhile (SynchronousOnlyOperation), although they
    # are plain synchronous code: allowed while the browser lives (to the end of the session,
    # so later non-browser tests of the same run too), then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                  args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                       "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"}


@pytest.fixture
def new_page(browser, console_errors):
    """Open a page in a fresh browser context (own cookies: another person), on a desktop or
    (`mobile=True`) a 390 px phone; closed after."""
    contexts = []

    def open_page(mobile: bool = False):
        context = browser.new_context(**(PHONE if mobile else DESKTOP), locale="fr-FR",
                                      accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        opened = context.new_page()
        console_errors.watch(opened)
        if os.environ.get("E2E_DEBUG"):  # E2E_DEBUG=1 pytest -s: requests and console
            opened.on("response", lambda r: print(f"  {r.request.method} {r.url} {r.status}"))
            opened.on("console", lambda m: print(f"  console.{m.type}: {m.text} @ {m.location}"))
        return opened

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def mobile_page(new_page):
    """A page on a 390 × 844 phone (touch, mobile user agent)."""
    return new_page(mobile=True)


# --- console errors --------------------------------------------------------------------------

class ConsoleErrors:
    """The console errors and uncaught exceptions of each page, until they are reported. The
    browser's own note that a page it navigated to answered an error status is left out: the
    tests that open refused pages check those statuses themselves."""

    def __init__(self):
        self.pending: dict = {}

    def watch(self, page) -> None:
        errors = self.pending.setdefault(page, [])
        refused_documents = set()

        def on_response(response):
            if response.request.is_navigation_request() and response.status >= 400:
                refused_documents.add(response.url)

        def on_console(message):
            if message.type != "error" or (message.text.startswith("Failed to load resource")
                                           and message.location.get("url") in refused_documents):
                return
            if is_dsfr_style_report(message):
                warnings.warn(f"DSFR's script had an inline style refused by the CSP on "
                              f"{page.url}: {message.text[:120]}", stacklevel=1)
                return
            # Events reach Python in batches, by when page.url may have moved on: the message's
            # own location says which document (and script line) raised it.
            origin = message.location or {}
            errors.append(f"console.error « {message.text} » from "
                          f"{origin.get('url') or page.url}:{origin.get('lineNumber', 0)}")

        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"uncaught « {error} » on {page.url}"))

    def report(self, page=None, name: str = "") -> None:
        """Fail on the errors not reported yet, of `page` or of every page."""
        pages = [page] if page is not None else list(self.pending)
        found = [error for watched in pages for error in self.pending.get(watched, [])]
        for watched in pages:
            self.pending.get(watched, []).clear()
        if found:
            where = f" (« {name} »)" if name else ""
            pytest.fail(f"JavaScript errors{where}:\n" + "\n".join(f"- {e}" for e in found),
                        pytrace=False)


DSFR_SCRIPT = "/static/dsfr/dist/dsfr/dsfr.module.min.js"


def is_dsfr_style_report(message) -> bool:
    """The CSP refusing an inline style that DSFR's own script applied. Seen once, in CI under
    load (a full-page screenshot of a 404 page), never reproduced; the style is refused and
    the page unchanged. Our templates carry no inline style (tests/core), and any other console
    error, ours or DSFR's, still fails the test; this one is reported as a warning."""
    return (message.text.startswith("Applying inline style violates")
            and (message.location or {}).get("url", "").endswith(DSFR_SCRIPT))


_console = ConsoleErrors()


@pytest.fixture
def console_errors():
    """Every page opened through `new_page` is watched; `visit` reports its errors, and what
    is left fails the test at its end."""
    yield _console
    try:
        _console.report()
    finally:
        _console.pending.clear()


# --- artifacts and accessibility -------------------------------------------------------------

_shots = {"dir": ARTIFACTS / "unnamed", "count": 0}


@pytest.fixture(autouse=True)
def _artifact_dir(request):
    """Screenshots of a test go to test-artifacts/e2e/<test name>/, emptied before it runs."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    directory = ARTIFACTS / name
    shutil.rmtree(directory, ignore_errors=True)
    _shots.update(dir=directory, count=0)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/e2e/<test>/<nn>-<name>.png."""
    _shots["count"] += 1
    slug = re.sub(r"[^\w.-]+", "-", name)
    path = _shots["dir"] / f"{_shots['count']:02d}-{slug}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def check_accessibility(page, name: str) -> None:
    """Run axe-core on the page; fail on any violation of impact "serious" or "critical"."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install --no-save --no-audit --no-fund "
                    "axe-core@4`.", pytrace=False)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern: a <script> added to the page would be refused as inline script.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " target: v.nodes.length ? v.nodes[0].target.join(' ') : '', count: v.nodes.length}))")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        lines = "\n".join(f"- [{v['impact']}] {v['id']}: {v['help']} — {v['target']}"
                          f" ({v['count']} node(s))" for v in blocking)
        pytest.fail(f"axe-core on « {name} » ({page.url}):\n{lines}", pytrace=False)


def check_no_codes(page, name: str) -> None:
    """Fail when the page shows an internal code as text (see tests/codes.py), outside the
    elements marked `data-template-syntax` or `data-program-names`. French pages only: in
    English, many labels are their code ("draft", "region", "sector")."""
    if page.evaluate("() => document.documentElement.lang") != "fr":
        return
    text = page.evaluate("() => document.body.innerText")
    # Template syntax that people write themselves (a mail's variables), and the names a
    # program sends (the API's fields and paths), are shown on purpose.
    marked = page.locator("[data-template-syntax], [data-program-names]").all_inner_texts()
    for syntax in sorted(marked, key=len, reverse=True):  # a path before its own prefix
        text = text.replace(syntax, " ")
    shown = codes_in(text)
    if shown:
        pytest.fail(f"internal codes shown on « {name} » ({page.url}): {', '.join(shown)}",
                    pytrace=False)


def visit(page, name: str) -> None:
    """What every page visited gets: no JavaScript error, the axe-core check, the internal-code
    check, then a screenshot."""
    _console.report(page, name)
    check_accessibility(page, name)
    check_no_codes(page, name)
    screenshot(page, name)


# --- application state -----------------------------------------------------------------------

def paris_today() -> dt.date:
    return dt.datetime.now(PARIS).date()


@pytest.fixture
def deffinum_open(transactional_db, settings, tmp_path):
    """The Deffinum call with its second wave open today (Paris), committed for the server.

    Uploaded files go to a temporary MEDIA_ROOT, and allauth's rate-limit counters (kept in
    the cache) start from zero."""
    yield from _open_today(DEFFINUM_TOML, settings, tmp_path)


@pytest.fixture
def regional_open(transactional_db, settings, tmp_path):
    """The regional example call (calls/deffinov-exemple.toml) with its wave open today, on
    the same instance as Deffinum, open too (as `make run` serves them)."""
    yield from _open_today(EXAMPLE_REGIONAL_TOML, settings, tmp_path, beside=DEFFINUM_TOML)


def _open_today(definition, settings, tmp_path, beside=None):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    if beside is not None:
        load_call(beside, demo_today=paris_today())
    yield load_call(definition, demo_today=paris_today()).call
    cache.clear()


def verified_user(email: str, password: str, members=()):
    """A confirmed account (allauth e-mail address verified) acting for the organisations of
    `members` and taking part in their consortia for them."""
    user = make_user(email, [member.organisation for member in members], password)
    for member in members:
        take_part(user, member)
    return user


def click_through(locator) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded (the
    same address included, as after a form redisplayed with its errors)."""
    with locator.page.expect_navigation():
        locator.click()


def tick(checkbox) -> None:
    """Tick a DSFR checkbox the way a person does: by its label, which covers the box."""
    checkbox.page.locator(f"label[for='{checkbox.get_attribute('id')}']").click()
    expect(checkbox).to_be_checked()


def landing(email: str) -> str:
    """Where a person lands after logging in: staff (experts included) in the back office,
    applicants in their space."""
    return "/instruction/" if CallRole.objects.filter(user__email=email).exists() else "/espace/"


def log_in(page, base_url: str, email: str, password: str) -> None:
    """Log in through the login page; lands in the back office or the applicant's space."""
    page.goto(f"{base_url}/comptes/login/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{base_url}{landing(email)}")
