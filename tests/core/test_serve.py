"""`guichet serve`: a real gunicorn (two workers) on a free port, in production settings.

It runs on the test database when the suite runs on PostgreSQL (DATABASE_URL), else on a
SQLite file migrated for it. Static files are collected first, DSFR's left out: its 9 000
files take two minutes to compress, and these tests read Guichet's own stylesheet only.
"""

import gzip
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.db import connection

GUICHET = Path(sys.executable).with_name("guichet")
START_TIMEOUT_S = 60
APPLICATION_NAME = "guichet-serve-test"  # marks the server's PostgreSQL connections
TOKEN = secrets.token_urlsafe(16)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(django_db_setup, django_db_blocker, folder: Path) -> tuple[str, bool]:
    with django_db_blocker.unblock():
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            user = settings["USER"] or "postgres"
            return (f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:"
                    f"{settings['PORT'] or 5432}/{settings['NAME']}"
                    f"?application_name={APPLICATION_NAME}", True)
    return f"sqlite:///{folder / 'guichet.sqlite3'}", False


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    database_url, postgres = _database_url(django_db_setup, django_db_blocker, folder)
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GUICHET_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "DATABASE_URL": database_url,
        "GUICHET_DATA_DIR": str(folder), "GUICHET_MEDIA_DIR": str(folder / "media"),
        "METRICS_TOKEN": TOKEN, "LOG_LEVEL": "WARNING",
    }
    if not postgres:
        subprocess.run([str(GUICHET), "migrate", "--noinput", "-v0"], env=environment,
                       check=True, timeout=300, cwd=folder)
    subprocess.run([str(GUICHET), "collectstatic", "--noinput", "-v0", "-i", "dsfr",
                    "-i", "django-dsfr"], env=environment, check=True, timeout=300, cwd=folder)
    log = folder / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(GUICHET), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log)
        yield {"url": url, "log": log, "static": folder / "static", "postgres": postgres}
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"guichet serve stopped: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=10):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"guichet serve did not answer within {START_TIMEOUT_S} s: "
                f"{log.read_text()[-3000:]}")


def _get(url: str, **headers):
    """(status, headers, body) whatever the status."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _log_entries(log: Path, deadline_s: float = 5) -> list[dict]:
    """The server's JSON log lines (access log and application), once they are written."""
    time.sleep(0.3)
    entries = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def test_serve_healthz_answers_with_a_request_id(server):
    status, headers, body = _get(f"{server['url']}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert len(headers["X-Request-ID"]) == 32
    assert headers["Server"] == "gunicorn"


def test_serve_readyz_checks_database_cache_and_storage(server):
    status, _headers, body = _get(f"{server['url']}/readyz")
    assert status == 200, body
    checks = json.loads(body)["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True, "cache": True, "storage": True}


def test_serve_static_file_hashed_compressed_and_cached_for_ever(server):
    manifest = json.loads((server["static"] / "staticfiles.json").read_text())
    hashed = manifest["paths"]["guichet/guichet.css"]
    assert hashed != "guichet/guichet.css"
    assert hashed.startswith("guichet/guichet.")
    status, headers, body = _get(f"{server['url']}/static/{hashed}", **{
        "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert headers["Content-Type"].startswith("text/css")
    assert gzip.decompress(body) == (server["static"] / hashed).read_bytes()


def test_serve_request_id_returned_and_in_the_json_access_log(server):
    status, headers, _body = _get(f"{server['url']}/healthz", **{
        "X-Request-ID": "lb-7f3e.serve_test"})
    assert status == 200
    assert headers["X-Request-ID"] == "lb-7f3e.serve_test"
    access = [entry for entry in _log_entries(server["log"])
              if entry.get("logger") == "gunicorn.access"
              and entry.get("request_id") == "lb-7f3e.serve_test"]
    assert len(access) == 1
    assert access[0]["path"] == "/healthz"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0


def test_serve_application_log_is_json_with_the_request_id(server):
    # A Host that ALLOWED_HOSTS does not list: Django logs it (django.security) and answers 400.
    status, _headers, _body = _get(f"{server['url']}/", Host="evil.example",
                                   **{"X-Request-ID": "hostile-host-1"})
    assert status == 400
    logged = [entry for entry in _log_entries(server["log"])
              if entry.get("request_id") == "hostile-host-1"
              and entry.get("logger") == "django.security.DisallowedHost"]
    assert len(logged) == 1
    assert "evil.example" in logged[0]["message"]


def test_serve_metrics_sum_every_worker_behind_the_token(server):
    for _ in range(6):
        _get(f"{server['url']}/healthz")
    assert _get(f"{server['url']}/metrics")[0] == 401
    status, _headers, body = _get(f"{server['url']}/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200
    text = body.decode()
    assert 'guichet_http_requests_total{method="GET",status="200",view="static"}' in text
    assert "guichet_submissions_total" in text


def test_serve_survives_the_database_dropping_its_connections(server):
    """CONN_HEALTH_CHECKS: a persistent connection killed by PostgreSQL (restart, failover,
    idle timeout) is replaced at the next request, which succeeds instead of failing."""
    if not server["postgres"]:
        pytest.skip("pg_terminate_backend needs PostgreSQL (set DATABASE_URL)")
    for _ in range(4):  # both workers open their persistent connection
        assert _get(f"{server['url']}/readyz")[0] == 200
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                         user=settings["USER"] or "postgres", dbname=settings["NAME"],
                         autocommit=True) as admin:
        terminated = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s", [APPLICATION_NAME]).fetchone()[0]
    assert terminated >= 1
    for _ in range(4):
        status, _headers, body = _get(f"{server['url']}/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["database"]["ok"] is True
