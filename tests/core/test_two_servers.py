"""Two gunicorn instances on one PostgreSQL and one Redis, a Celery worker behind them: one
applicant's journey alternates between them (sessions, CSRF tokens and login throttling are
shared), one instance is killed -9 in the middle, the journey ends on the other, and the dossier
has one receipt, mailed once.

The processes, the SMTP sink and the browser are those of benchmarks/surge.py.
"""

import html.parser
import http.client
import os
import re
import secrets
import time
import urllib.parse

import pytest
import redis
from django.db import connection

from benchmarks.surge import (
    Browser,
    MailSink,
    celery_worker,
    free_port,
    gunicorn,
    server_environment,
    wait_until_ready,
)
from guichet.dossiers.models import Submission
from guichet.dossiers.receipt_store import receipt_ready
from guichet.notifications.models import OutboxMessage, OutboxStatus
from tests.factories import make_applicant, make_dossier

REDIS_URL = os.environ.get("TWO_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/9")
PASSWORD = "Formation-Hybride-2021!"
BACKGROUND_TIMEOUT_S = 120


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two servers share one database server: PostgreSQL only "
                              "(.ci/run runs this file on PostgreSQL)"),
]


class _Forms(html.parser.HTMLParser):
    """The fields of each form of a page, with the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms, self._textarea, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "option" and self._select and "selected" in attrs:
            self.forms[-1][self._select] = attrs.get("value", "")
        elif tag == "form":
            self.forms.append({})
        elif not self.forms or "name" not in attrs:
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.forms[-1][attrs["name"]] = attrs.get("value", "on")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.forms[-1][self._textarea] = ""
        elif tag == "select":
            self._select = attrs["name"]
            self.forms[-1].setdefault(self._select, "")

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _form_with(page: bytes, field: str) -> dict:
    parser = _Forms()
    parser.feed(page.decode())
    return next(form for form in parser.forms if field in form)


@pytest.fixture
def servers(tmp_path, settings):
    if not _redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    settings.MEDIA_ROOT = tmp_path / "media"  # the servers' files are the test's
    redis.Redis.from_url(REDIS_URL).flushdb()  # this Redis database is the test's alone
    database = connection.settings_dict
    database_url = (f"postgres://{database['USER'] or 'postgres'}@"
                    f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
                    f"{database['NAME']}")
    sink = MailSink(tmp_path / "mails", free_port())
    env = server_environment(database_url, REDIS_URL, sink.controller.port, tmp_path,
                             secrets.token_urlsafe(50))
    ports = {"a": free_port(), "b": free_port()}
    services = {name: gunicorn(f"gunicorn-{name}", port, env, tmp_path, workers=1)
                for name, port in ports.items()}
    services["worker"] = celery_worker(env, tmp_path, concurrency=1)
    sink.controller.start()
    try:
        for service in services.values():
            service.start()
        for name, port in ports.items():
            wait_until_ready(f"http://127.0.0.1:{port}", services[name])
        yield {"a": ("127.0.0.1", ports["a"]), "b": ("127.0.0.1", ports["b"]),
               "services": services, "sink": sink}
    finally:
        for service in services.values():
            service.stop()
        sink.controller.stop()


def _log_in(browser: Browser, address, email: str, password: str):
    token = browser.csrf_token("/comptes/login/", address=address)
    return browser.request("POST", "/comptes/login/", urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": email, "password": password}), address=address)


def _errors(page: bytes) -> list[str]:
    """The error messages of a page, for a failure's explanation."""
    return re.findall(r'class="fr-(?:error-text|alert[^"]*)"[^>]*>(.*?)</', page.decode(), re.S)


def _wait_for(condition, what: str):
    deadline = time.monotonic() + BACKGROUND_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {BACKGROUND_TIMEOUT_S} s"
        time.sleep(0.5)
        connection.close()


def test_two_servers_journey_survives_the_loss_of_one(servers, open_call, example_document):
    a, b = servers["a"], servers["b"]
    dossier = make_dossier(example_document)
    lead = dossier.consortium.members.get(is_lead=True)
    make_applicant("porteuse@example.fr", lead)
    browser = Browser(a)

    response, _ = _log_in(browser, a, "porteuse@example.fr", PASSWORD)
    assert response.status == 302, "logged in on A"

    project = f"/dossiers/{dossier.pk}/etape/projet/"
    response, page = browser.request("GET", project, address=b)
    assert response.status == 200, "the session opened on A is known to B"
    form = _form_with(page, "title")
    form["title"] = "Titre changé sur le serveur B"
    response, _ = browser.request("POST", project, urllib.parse.urlencode(form), address=b)
    assert response.status == 302, "a CSRF token from B's page, the session from A"
    response, page = browser.request("GET", project, address=a)
    assert "Titre changé sur le serveur B" in page.decode(), "A reads what B saved"

    stranger = Browser(a)
    throttled = ["Trop de tentatives de connexion" in _log_in(
        stranger, (a, b)[i % 2], "intrus@example.fr", "mauvais")[1].decode() for i in range(6)]
    assert throttled == [False] * 5 + [True], "failed logins on A and B count together"

    step = f"/dossiers/{dossier.pk}/etape/depot/"
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": browser.csrf_token(step, address=a),
                                   "confirm": "on"})
    servers["services"]["a"].kill()
    with pytest.raises((OSError, http.client.HTTPException)):  # A is gone
        browser.request("POST", step, form, address=a)
    response, page = browser.request("POST", step, form, address=b)
    receipt = f"/dossiers/{dossier.pk}/accuse/"
    assert (response.status, response.getheader("Location")) == (302, receipt), _errors(page)
    response, _ = browser.request("POST", step, form, address=b)  # the person clicks again
    assert (response.status, response.getheader("Location")) == (302, receipt)
    response, page = browser.request("GET", receipt, address=b)
    assert response.status == 200

    dossier.refresh_from_db()
    assert Submission.objects.filter(dossier=dossier).count() == 1
    assert dossier.receipt_number in page.decode()
    submission = Submission.objects.get(dossier=dossier)
    _wait_for(lambda: not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists(),
              "the worker runs the outbox")
    assert receipt_ready(dossier, submission.version, submission.sha256)
    _wait_for(lambda: servers["sink"].receipts(), "the receipt mail reaches the SMTP server")
    time.sleep(1)  # a second mail, were there one, would arrive now
    received = servers["sink"].receipts()
    assert list(received) == [dossier.receipt_number]
    assert list(received[dossier.receipt_number].values()) == [1]  # one mail, received once
