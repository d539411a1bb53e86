"""Latency over HTTP through `guichet serve` (gunicorn, 2 workers) on PostgreSQL, 10 000 dossiers.

The database (dropped and created again) is filled in-process as benchmarks/instruction_list.py
and benchmarks/portal.py do; then gunicorn serves it with the normal settings plus a
benchmark-only middleware that returns each response's SQL query count (benchmarks/
http_server/), and a client on the same machine times the staff list, the staff dossier
page, the committee page, the applicant's dossier page (10 members, 300 budget lines) and the
submission (GET the form, read its CSRF token, POST). The server runs as in production, with
Redis as cache and broker: the POST writes the receipt PDF and the mails to the outbox and
hands them to the broker after commit; no Celery worker runs meanwhile, so that the figures are
the web tier's alone. GUICHET_ENV=test: plain HTTP cookies and a fast password
hasher; otherwise the production stack (DEBUG off, cached templates, persistent connections).
(Not `http.py`: in this folder that name would hide the standard library's `http` from
every benchmark.) Run: `.venv/bin/python benchmarks/http_serving.py` (PostgreSQL at
127.0.0.1:5432, user postgres).
"""

import argparse
import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django_bench import ROOT, setup_django

BENCHMARKS = Path(__file__).resolve().parent
GUICHET = Path(sys.executable).with_name("guichet")
PASSWORD = "Formation-Hybride-2021!"  # tests/factories.make_user's


def fresh_database(admin_url: str, name: str) -> str:
    """Database `name` dropped and created again, made this process's DATABASE_URL; its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["DATABASE_URL"] = database_url
    return database_url


def seed(dossiers: int, drafts: int, instructed: int) -> dict:
    """The call, `dossiers` submitted dossiers, a staff account with every role, an applicant
    with a big draft and `drafts` complete drafts to submit, one dossier submitted for real."""
    from django.db import connection
    from portal import big_dossier

    from guichet.calls.services import load_call
    from guichet.core.clock import now
    from guichet.dossiers.models import Affiliation, Dossier, DossierStatus, Submission
    from guichet.dossiers.services import submit
    from guichet.review.models import Instruction, Role
    from tests.factories import bulk_submitted_dossiers, make_dossier, staff, take_part

    call = load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today()).call
    for start in range(0, dossiers, 2000):
        bulk_submitted_dossiers(call, min(2000, dossiers - start), start=start)
    staff(call, "bench-staff@example.fr", Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)
    big, applicant = big_dossier()
    document = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
    document.pop("submitted_at")
    to_submit = []
    for _ in range(drafts + 1):
        draft = make_dossier(document)
        lead = draft.consortium.members.get(is_lead=True)
        Affiliation.objects.create(user=applicant, organisation=lead.organisation)
        take_part(applicant, lead, "created")
        to_submit.append(draft.pk)
    submitted = to_submit.pop()
    submit(Dossier.objects.get(pk=submitted))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    first_wave = call.waves.order_by("position").first()
    # The committee ranks instructed dossiers: some of the bulk ones, as if instructed, each
    # with a copy of the real submission's frozen content (the ranking reads the aid there).
    frozen = Submission.objects.get(dossier_id=submitted)
    instructed_pks = list(Dossier.objects.filter(wave=first_wave, status=DossierStatus.SUBMITTED)
                          .order_by("pk").values_list("pk", flat=True)[:instructed])
    Dossier.objects.filter(pk__in=instructed_pks).update(status=DossierStatus.INSTRUCTED)
    Submission.objects.bulk_create(
        Submission(dossier_id=pk, version=1, received_at=frozen.received_at, wave=first_wave,
                   snapshot=frozen.snapshot, sha256=frozen.sha256,
                   rules_version=frozen.rules_version, eligible=True, verdict=frozen.verdict)
        for pk in instructed_pks)
    Instruction.objects.bulk_create(
        Instruction(dossier_id=pk, admissible=True, eligible=True, instructed_at=now())
        for pk in instructed_pks)
    return {"call": call.code, "wave": first_wave.code, "big": big.pk, "submitted": submitted,
            "drafts": to_submit, "applicant": applicant.email}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer timed


class Browser:
    """One person's cookies against the server; each request timed, with its query count."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def request(self, path: str, data: dict | None = None, *, headers: dict | None = None,
                method: str | None = None) -> tuple[int, float, dict, str]:
        """(status, client milliseconds, {"queries", "cpu_ms"} from the server, body)"""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers={"Referer": self.base + path, **(headers or {})})
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=120) as response:
                text = response.read().decode()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            text, status, headers = error.read().decode(), error.code, error.headers
        elapsed = (time.perf_counter() - start) * 1000
        server = {"queries": int(headers.get("X-Query-Count", -1)),
                  "cpu_ms": float(headers.get("X-CPU-Ms", "nan"))}
        return status, elapsed, server, text

    def csrf(self, page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def login(self, email: str) -> None:
        _status, _ms, _queries, page = self.request("/comptes/login/")
        status, _ms, _queries, _page = self.request(
            "/comptes/login/", {"csrfmiddlewaretoken": self.csrf(page), "login": email,
                                "password": PASSWORD})
        assert status == 302, f"login of {email}: {status}"


def summary(samples: list[float], server: list[dict], size: int) -> dict:
    samples = sorted(samples)
    return {"median_ms": round(statistics.median(samples), 1),
            "server_cpu_median_ms": round(statistics.median(s["cpu_ms"] for s in server), 1),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1),
            "max_ms": round(samples[-1], 1), "runs": len(samples),
            "queries": sorted({s["queries"] for s in server}), "bytes": size}


def time_page(browser: Browser, path: str, runs: int, headers: dict | None = None) -> dict:
    for _ in range(3):  # every worker compiles its templates and loads the call once
        browser.request(path, headers=headers)
    samples, server = [], []
    for _ in range(runs):
        status, elapsed, measured, page = browser.request(path, headers=headers)
        assert status == 200, (path, status, page[:500])
        samples.append(elapsed)
        server.append(measured)
    return summary(samples, server, len(page.encode()))


def time_submissions(browser: Browser, drafts: list[int]) -> dict:
    form_ms, post_ms, form_server, post_server = [], [], [], []
    for pk in drafts:
        status, elapsed, measured, page = browser.request(f"/dossiers/{pk}/etape/depot/")
        assert status == 200, (pk, status)
        form_ms.append(elapsed)
        form_server.append(measured)
        status, elapsed, measured, page = browser.request(
            f"/dossiers/{pk}/etape/depot/", {"csrfmiddlewaretoken": browser.csrf(page),
                                             "confirm": "on"})
        assert status == 302, (pk, status, page[:2000])
        post_ms.append(elapsed)
        post_server.append(measured)
    return {"form": summary(form_ms, form_server, 0),
            "post": summary(post_ms, post_server, 0)}


def throughput(base: str, email: str, path: str, clients: int, seconds: float) -> dict:
    """`clients` people reloading one page at once for `seconds`: requests served per second."""
    browsers = [Browser(base) for _ in range(clients)]
    for browser in browsers:
        browser.login(email)
    done, latencies, stop = [], [], time.monotonic() + seconds

    def reload(browser):
        while time.monotonic() < stop:
            status, elapsed, _server, _page = browser.request(path)
            assert status == 200
            latencies.append(elapsed)
            done.append(1)

    started = time.monotonic()
    threads = [threading.Thread(target=reload, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {"clients": clients, "requests": len(done),
            "requests_per_s": round(len(done) / wall, 1),
            "median_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(database_url: str, data_dir: str, redis_url: str) -> dict:
    """The server's settings: the normal ones plus the query-count middleware, and this
    checkout's code first (the shared virtualenv may hold another checkout's)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GUICHET_ENV": "test",
        "DATABASE_URL": database_url, "GUICHET_DATA_DIR": data_dir, "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "http_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCHMARKS / "http_server"), str(ROOT)]),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "ERROR", "GUNICORN_ACCESS_LOG": "/dev/null",
        # A shared, overloaded machine can starve a worker for long: not a timeout here.
        "GUNICORN_TIMEOUT": "300"}


def serve(environment: dict, port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        server = subprocess.Popen([str(GUICHET), "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2"], env=environment, stdout=output,
                                  stderr=subprocess.STDOUT, cwd=log.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return server
        except (urllib.error.URLError, ConnectionError):
            assert server.poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-3000:]}")


@contextlib.contextmanager
def served(environment: dict, data_dir: str):
    """gunicorn on a free port for the block, which gets its base URL; the end of the server's
    log is printed if the block fails (the client's error alone rarely says why)."""
    log = Path(data_dir) / "serve.log"
    port = free_port()
    server = serve(environment, port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    except Exception:
        print(log.read_text()[-5000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=60)


def flush_redis(url: str) -> None:
    """Start from an empty cache and broker (the run's own Redis database)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def run_header(load_at_start: tuple[float, ...], dossiers: int) -> dict:
    """What every HTTP benchmark's results start with."""
    return {"date": dt.date.today().isoformat(), "database": "postgresql", "workers": 2,
            "load_average": " ".join(f"{load:.1f}" for load in load_at_start),
            "dossiers": dossiers}


def save_results(name: str, results: dict, markdown_text: str) -> None:
    """Print the results, and write them to benchmarks/results/<name>.json and .md."""
    print(json.dumps(results, indent=2))
    out = ROOT / "benchmarks" / "results"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown_text)


def markdown(results: dict) -> str:
    lines = [
        "# HTTP latency through gunicorn", "",
        f"`benchmarks/http_serving.py`, {results['date']}: `guichet serve` with "
        f"{results['workers']} sync workers on PostgreSQL, Redis as cache and broker (no "
        f"Celery worker running), {results['dossiers']} submitted dossiers, client on the "
        "same shared 2-core machine (one request at a time; HTTP/1.0-style, a connection per "
        "request as gunicorn's sync workers do). Times are measured by the client (network, "
        "gunicorn, Django, templates); queries are counted in the server by a benchmark-only "
        "middleware (`X-Query-Count`), session and authentication queries included.", "",
        "",
        f"Load average of the machine when it started: {results['load_average']}. The server "
        "CPU time per request (`X-CPU-Ms`, the worker thread's own CPU) is the figure that "
        "other load on the machine disturbs least.", "",
        "| request | median ms | p95 ms | max ms | server CPU median ms | runs | SQL queries "
        "| bytes |",
        "|---|---:|---:|---:|---:|---:|---|---:|"]
    for name, row in results["pages"].items():
        lines.append(f"| {name} | {row['median_ms']} | {row['p95_ms']} | {row['max_ms']} | "
                     f"{row['server_cpu_median_ms']} | "
                     f"{row['runs']} | {', '.join(map(str, row['queries']))} | "
                     f"{row['bytes'] or '—'} |")
    load = results["throughput"]
    lines += ["", f"Under load: {load['clients']} clients reloading the staff list for "
              f"{results['throughput_seconds']} s: {load['requests']} requests, "
              f"{load['requests_per_s']} per second, median {load['median_ms']} ms, "
              f"p95 {load['p95_ms']} ms.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--instructed", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="guichet_bench_http")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10",
                        help="a Redis database for this run alone (flushed)")
    options = parser.parse_args()
    load_at_start = os.getloadavg()
    database_url = fresh_database(options.admin_url, options.database)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.db import connections

        fixtures = seed(options.dossiers, options.submissions, options.instructed)
        connections.close_all()
        flush_redis(options.redis)
        environment = server_environment(database_url, data_dir, options.redis)
        with served(environment, data_dir) as base:
            staff_browser, applicant = Browser(base), Browser(base)
            staff_browser.login("bench-staff@example.fr")
            applicant.login(fixtures["applicant"])
            code, wave = fixtures["call"], fixtures["wave"]
            pages = {
                f"staff list (first page of {options.dossiers})": time_page(
                    staff_browser, f"/instruction/appels/{code}/dossiers/", options.runs),
                "staff dossier detail": time_page(
                    staff_browser, f"/instruction/dossiers/{fixtures['submitted']}/",
                    options.runs),
                f"committee page ({options.instructed} instructed dossiers, no scores)": time_page(
                    staff_browser, f"/instruction/appels/{code}/comite/{wave}/", options.runs),
                "applicant dossier page (10 members, 300 lines)": time_page(
                    applicant, f"/dossiers/{fixtures['big']}/", options.runs),
            }
            submission = time_submissions(applicant, fixtures["drafts"])
            pages["submission: GET the form"] = submission["form"]
            pages["submission: POST (receipt PDF and mails handed to the worker)"] = \
                submission["post"]
            load = throughput(base, "bench-staff@example.fr",
                              f"/instruction/appels/{code}/dossiers/", options.clients,
                              options.seconds)
    results = {**run_header(load_at_start, options.dossiers), "pages": pages,
               "throughput": load, "throughput_seconds": options.seconds}
    save_results("http", results, markdown(results))


if __name__ == "__main__":
    main()
