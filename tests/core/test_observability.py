"""Probes (/healthz, /readyz), the request id, JSON logs, Prometheus metrics and Sentry, in
process; tests/core/test_serve.py drives the same through a real gunicorn."""

import datetime as dt
import json
import logging
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from guichet.core import metrics
from guichet.core.jsonlog import JsonFormatter
from guichet.core.request_id import RequestIdFilter, bound_request_id, current_request_id
from guichet.dossiers.services import submit
from tests.factories import bulk_submitted_dossiers, make_dossier

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": TEST_REDIS_URL, "KEY_PREFIX": "guichet-test-readyz"}}
TOKEN = "metrics-token-for-tests"
W1_CLOSE = dt.datetime(2021, 8, 31, 10, 0, tzinfo=dt.UTC)


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")  # no db fixture: any query would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_any_host_header(client):
    # Probes call the process by its address, which ALLOWED_HOSTS does not list.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200


def test_healthz_answers_plain_http_when_https_is_enforced(client):
    # Probes call the process directly, without the TLS proxy in front.
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/healthz").status_code == 200
        assert client.get("/comptes/login/").status_code == 301


@pytest.mark.django_db
def test_readyz_with_database_cache_and_storage_reachable_is_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "cache": True, "storage": True}


@pytest.mark.django_db
def test_readyz_with_real_redis_as_cache_and_broker_is_ok(client):
    with override_settings(CACHES=REDIS_CACHE, REDIS_URL=TEST_REDIS_URL):
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert {name: check["ok"] for name, check in response.json()["checks"].items()} == {
        "database": True, "cache": True, "storage": True, "broker": True}


@pytest.mark.django_db
def test_readyz_with_unreachable_redis_fails_naming_cache_and_broker(client):
    unreachable = {"default": {**REDIS_CACHE["default"], "LOCATION": UNREACHABLE_REDIS}}
    with override_settings(CACHES=unreachable, REDIS_URL=UNREACHABLE_REDIS):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["cache", "broker"]
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] is True
    assert "127.0.0.1:1" not in response.content.decode()  # hosts go to the log, not out


@pytest.mark.django_db
def test_readyz_with_unwritable_storage_fails_naming_storage(client, tmp_path):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    with override_settings(MEDIA_ROOT=str(not_a_folder)):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


def test_readyz_refuses_post(client):
    assert client.post("/readyz").status_code == 405


def test_request_id_offered_as_plain_token_is_returned(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-4f2a.7_B")
    assert response["X-Request-ID"] == "proxy-4f2a.7_B"


@pytest.mark.parametrize("offered", ["a b", "id\r\nSet-Cookie: x=1", "x" * 65, "é", ""])
def test_request_id_hostile_is_replaced_by_a_fresh_one(client, offered):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=offered)
    returned = response["X-Request-ID"]
    assert returned != offered
    assert len(returned) == 32
    assert int(returned, 16) >= 0


def test_request_id_absent_is_generated_and_differs_per_request(client):
    first, second = (client.get("/healthz")["X-Request-ID"] for _ in range(2))
    assert len(first) == 32
    assert first != second


def test_request_id_bound_for_a_task_then_restored():
    assert current_request_id() is None
    with bound_request_id("from-the-request-42") as bound:
        assert bound == current_request_id() == "from-the-request-42"
        with bound_request_id(None) as fresh:  # a task queued outside any request
            assert len(fresh) == 32
        assert current_request_id() == "from-the-request-42"
    assert current_request_id() is None


def _formatted(message: str, **extra) -> dict:
    record = logging.LogRecord("guichet.test", logging.WARNING, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_log_record_carries_the_request_id_and_extras():
    with bound_request_id("task-7"):
        entry = _formatted("receipt sent", dossier=12)
    assert entry["request_id"] == "task-7"
    assert entry["message"] == "receipt sent"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "guichet.test"
    assert entry["dossier"] == 12


def test_json_log_outside_a_request_has_null_request_id():
    assert _formatted("tick")["request_id"] is None


def test_logging_configuration_filters_every_console_record_with_the_request_id():
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RequestIdFilter) for handler in handlers for f in handler.filters)


def test_metrics_without_token_configured_is_not_found(client):
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics").status_code == 404


def test_metrics_with_wrong_token_is_refused(client):
    with override_settings(METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
        missing = client.get("/metrics")
    assert response.status_code == missing.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


@pytest.mark.django_db
def test_metrics_count_requests_dossiers_and_submissions(client, deffinum, example_document):
    bulk_submitted_dossiers(deffinum, 3)
    submit(make_dossier(example_document), now=W1_CLOSE - dt.timedelta(seconds=1))
    home = 'guichet_http_requests_total{method="GET",status="200",view="web:home"} '
    # The request counters live in the process, which other tests (the same xdist worker)
    # share: count this test's request as the difference.
    before = _metric(_scrape(client), home)
    client.get("/healthz")
    client.get("/")
    text = _scrape(client)
    assert 'guichet_dossiers{status="submitted"} 4.0' in text
    assert "guichet_submissions_total 1.0" in text
    assert _metric(text, home) == before + 1
    assert "guichet_http_request_duration_seconds_bucket" in text


def _scrape(client) -> str:
    with override_settings(METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def _metric(text: str, prefix: str) -> float:
    values = [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]
    return float(values[0]) if values else 0.0


@pytest.mark.django_db
def test_metrics_scraped_hook_shows_a_reader_and_skips_one_without_table(client):
    metrics.scraped("guichet_test_backlog", "A backlog for the test")(lambda: 4)
    metrics.scraped("guichet_test_absent", "A table not migrated yet")(lambda: None)
    try:
        with override_settings(METRICS_TOKEN=TOKEN):
            text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    finally:
        metrics._SCRAPED.pop("guichet_test_backlog")
        metrics._SCRAPED.pop("guichet_test_absent")
    assert "guichet_test_backlog 4.0" in text
    assert "guichet_test_absent" not in text


def _sentry_active(env: dict) -> str:
    code = ("import django, sentry_sdk; django.setup(); "
            "print(sentry_sdk.get_client().is_active())")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "guichet.settings",
           "GUICHET_DATA_DIR": os.environ.get("TMPDIR", "/tmp"), **env}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                          env=env, check=True)
    return done.stdout.decode().strip()


@pytest.mark.integration  # two Python processes set Django up
def test_sentry_initialised_only_when_dsn_set():
    assert _sentry_active({}) == "False"
    assert _sentry_active({"SENTRY_DSN": "https://public@sentry.example/1"}) == "True"
