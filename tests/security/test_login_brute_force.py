"""Guessing passwords across server processes, and hiding behind a forged client address.

allauth counts failed logins in the default cache. Each test starts two real server processes
(`guichet runserver`) on one database and sends the guesses alternately to both: the limit
(5 failures in 5 minutes, per address and per account) holds whichever process answers,
with the database cache (REDIS_URL unset) and with Redis. The client's address comes from
REMOTE_ADDR unless a trusted proxy header is configured: a forged X-Forwarded-For changes
nothing, and behind a configured proxy one attacker does not lock everybody else out.
"""

import http.cookiejar
import itertools
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

GUICHET = Path(sys.executable).with_name("guichet")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 5  # settings.ACCOUNT_RATE_LIMITS["login_failed"]: 5/5m/ip,5/5m/key
REFUSED = "Trop de tentatives de connexion échouées"
MISMATCH = "L’adresse e-mail ou le mot de passe sont incorrects."
START_TIMEOUT_S = 60

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    """One SQLite database, migrated (the cache table included), shared by the servers."""
    folder = tmp_path_factory.mktemp("brute-force")
    environment = _server_environment(folder, {})
    subprocess.run([str(GUICHET), "migrate", "--noinput", "-v0"], env=environment, check=True,
                   timeout=300, cwd=folder)
    return folder


def _server_environment(folder: Path, extra: dict) -> dict:
    # GUICHET_ENV=test: a fast password hasher, so that a guess costs milliseconds.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GUICHET_ENV": "test",
            "GUICHET_DATA_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'guichet.sqlite3'}", **extra}


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server {url} stopped: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/comptes/login/", timeout=20):
                return
        except urllib.error.HTTPError as error:
            pytest.fail(f"server {url} answered {error.code}: {log.read_text()[-3000:]}")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # not listening yet, or its first page still compiling
    pytest.fail(f"server {url} did not answer within {START_TIMEOUT_S} s: "
                f"{log.read_text()[-3000:]}")


@contextmanager
def two_servers(folder: Path, **settings):
    """Two `guichet runserver` processes on the same database and settings; their URLs."""
    environment = _server_environment(folder, settings)
    with ExitStack() as stack:
        servers = []
        for _ in range(2):
            port = _free_port()
            log = folder / f"server-{port}.log"
            output = stack.enter_context(log.open("w"))
            server = subprocess.Popen(
                [str(GUICHET), "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
                env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=folder)
            stack.callback(_stop, server)
            servers.append((f"http://127.0.0.1:{port}", server, log))
        for url, server, log in servers:
            _wait_until_serving(url, server, log)
        yield [url for url, _server, _log in servers]


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class Attacker:
    """One HTTP client with its cookies; it sends the same Host to every server, as a load
    balancer does (allauth's per-account key includes the host)."""

    def __init__(self):
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def _open(self, url: str, headers: dict, data: bytes | None = None) -> str:
        request = urllib.request.Request(url, data=data,
                                         headers={"Host": "127.0.0.1", **headers})
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()

    def failed_login(self, server: str, email: str, headers: dict | None = None) -> str:
        """Post a wrong password for `email`; the page that answers."""
        headers = headers or {}
        form = self._open(f"{server}/comptes/login/", headers)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": email,
                                       "password": "pas-le-bon-mot-de-passe"}).encode()
        return self._open(f"{server}/comptes/login/", headers, body)


def _outcome(page: str) -> str:
    if REFUSED in page:
        return "refused"
    assert MISMATCH in page, page[:2000]
    return "mismatch"


def _guesses(servers: list[str], count: int, emails, headers) -> list[str]:
    """`count` failed logins sent to the servers in turn; each answer's outcome."""
    attacker = Attacker()
    rotation = itertools.cycle(servers)
    return [_outcome(attacker.failed_login(next(rotation), next(emails), next(headers)))
            for _ in range(count)]


def _same(value):
    return itertools.repeat(value)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the shared Redis, removed afterwards."""
    prefix = f"guichet-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _empty_database_cache(folder: Path) -> None:
    with sqlite3.connect(folder / "guichet.sqlite3") as connection:
        connection.execute("DELETE FROM guichet_cache")


@pytest.fixture
def shared_database(database):
    """The module's database, its cache table emptied (counters of an earlier test)."""
    _empty_database_cache(database)
    return database


def test_login_brute_force_across_processes_database_cache_refused_at_sixth(shared_database):
    with two_servers(shared_database) as servers:
        outcomes = _guesses(servers, LIMIT + 2, _same("cible@example.fr"), _same({}))
    assert outcomes == ["mismatch"] * LIMIT + ["refused", "refused"]


def test_login_brute_force_across_processes_redis_refused_at_sixth(shared_database,
                                                                   redis_prefix):
    with two_servers(shared_database, REDIS_URL=TEST_REDIS_URL,
                     CACHE_KEY_PREFIX=redis_prefix) as servers:
        outcomes = _guesses(servers, LIMIT + 2, _same("cible@example.fr"), _same({}))
    assert outcomes == ["mismatch"] * LIMIT + ["refused", "refused"]
    _empty_database_cache(shared_database)  # nothing was counted in the database


def _forged(header: str):
    return ({header: f"203.0.113.{n}"} for n in itertools.count(1))


def _distinct_emails():
    return (f"victime{n}@example.fr" for n in itertools.count(1))


def test_login_brute_force_forged_forwarded_for_ignored(shared_database):
    """Each guess claims another address in X-Forwarded-For and targets another account:
    without a configured proxy, all come from REMOTE_ADDR, whose limit stops the sixth."""
    with two_servers(shared_database) as servers:
        outcomes = _guesses(servers, LIMIT + 1, _distinct_emails(),
                            _forged("X-Forwarded-For"))
    assert outcomes == ["mismatch"] * LIMIT + ["refused"]


def test_login_brute_force_behind_trusted_proxy_counts_each_client(shared_database):
    """Behind a proxy that sets X-Real-IP, every person has their own address: guesses from
    many clients lock nobody out, one client's guesses are still stopped at the sixth, and a
    forged X-Forwarded-For is still ignored."""
    with two_servers(shared_database, TRUSTED_CLIENT_IP_HEADER="X-Real-IP") as servers:
        many_clients = _guesses(servers, LIMIT + 1, _distinct_emails(), _forged("X-Real-IP"))
        one_client = _guesses(servers, LIMIT + 1, (f"autre{n}@example.fr" for n in range(9)),
                              ({"X-Real-IP": "198.51.100.7", "X-Forwarded-For": f"10.0.0.{n}"}
                               for n in range(9)))
    assert many_clients == ["mismatch"] * (LIMIT + 1)
    assert one_client == ["mismatch"] * LIMIT + ["refused"]
