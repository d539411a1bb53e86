"""Browser tests (Playwright driving Debian's Chromium against pytest-django's live server).

The application runs in a thread of the test process (`live_server`) over the transactional
test database: the tests read and change the database with the ORM, and `mailoutbox` holds the
mails the server sent. Every page visited is checked with axe-core and for internal codes shown
as text, and photographed under test-artifacts/e2e/<test>/.
"""

import datetime as dt
import os
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.codes import codes_in

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
    from playwright.sync_api import sync_playwright

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


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context (own cookies: another person); closed after."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                      accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        opened = context.new_page()
        if os.environ.get("E2E_DEBUG"):  # E2E_DEBUG=1 pytest -s: requests and console
            opened.on("response", lambda r: print(f"  {r.request.method} {r.url} {r.status}"))
            opened.on("console", lambda m: print(f"  console.{m.type}: {m.text}"))
        return opened

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


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
        page.add_script_tag(path=str(AXE))
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
    """Fail when the page shows an internal code as text (see tests/codes.py)."""
    shown = codes_in(page.evaluate("() => document.body.innerText"))
    if shown:
        pytest.fail(f"internal codes shown on « {name} » ({page.url}): {', '.join(shown)}",
                    pytrace=False)


def visit(page, name: str) -> None:
    """What every page visited gets: the axe-core check, the internal-code check, then a
    screenshot."""
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
    from django.core.cache import cache

    from guichet.calls.services import load_call
    from tests.conftest import DEFFINUM_TOML

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    call = load_call(DEFFINUM_TOML, demo_today=paris_today()).call
    yield call
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_log_emptied(transactional_db):
    """Let the flush that ends a transactional test work on SQLite.

    The audit table is append-only through SQLite triggers (audit migration 0002), so the
    DELETE with which Django empties the tables after the test aborts. Here the triggers are
    lifted, the log emptied, and the triggers put back before that flush (PostgreSQL empties
    tables with TRUNCATE, which row triggers do not see)."""
    from importlib import import_module

    from django.db import connection

    yield  # this teardown runs before transactional_db's, which flushes
    if connection.vendor != "sqlite":
        return
    migration = import_module("guichet.audit.migrations.0002_append_only")
    with connection.cursor() as cursor:
        for statement in migration.REVERSE["sqlite"]:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditevent")
        for statement in migration.SQLITE:
            cursor.execute(statement)


def verified_user(email: str, password: str, organisations=()):
    """A confirmed account (allauth e-mail address verified) acting for `organisations`."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from guichet.dossiers.models import Affiliation

    user = get_user_model().objects.create_user(email, password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    for organisation in organisations:
        Affiliation.objects.create(user=user, organisation=organisation)
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


def log_in(page, base_url: str, email: str, password: str) -> None:
    """Log in through the login page; lands on the dashboard."""
    page.goto(f"{base_url}/comptes/login/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{base_url}/espace/")
