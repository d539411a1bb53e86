"""A submission surge through HTTP, as browsers send it, on the production topology.

N applicants with complete, eligible drafts are seeded in a fresh PostgreSQL database (a
session each, as if they had logged in earlier), then gunicorn (2 workers), a Celery worker and
the scheduler run on it with Redis, and mails go to a local SMTP sink that writes each message
to a file. `--clients` threads each take the next applicant: GET the submission step, POST the
form with its CSRF token. A POST that fails (connection reset, 5xx) is sent again once, as a
person would, and must answer with the receipt.

`--faults` kills -9 gunicorn workers (the master respawns them) and the Celery worker (started
again, as a supervisor would), and drops every database connection once (pg_terminate_backend),
during the run; small counts get one fault of each kind.

Afterwards it checks that nothing was lost: every dossier submitted once, with one receipt
(number, snapshot, stored PDF) and no receipt without its dossier; every snapshot hash
recomputes; every receipt mail reached the SMTP sink exactly once, once the outbox has drained;
`guichet audit verify` passes. It prints the throughput, POST latencies, errors and each
process's RSS, writes benchmarks/results/surge.{md,json}, and exits 1 if anything is lost.

Run: `.venv/bin/python benchmarks/surge.py --count 500 --clients 8 [--faults]`
(PostgreSQL on PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432 postgres; Redis on --redis).
"""

import argparse
import collections
import dataclasses
import datetime as dt
import hashlib
import http.client
import json
import os
import queue
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GUICHET = Path(sys.executable).with_name("guichet")
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 60
RECEIPT_FILE = re.compile(rb"accuse-reception-([A-Za-z0-9_.-]+?)\.pdf")
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def postgres_cpu() -> float:
    """CPU seconds of PostgreSQL's server processes alive now (the connections of this run
    persist through it)."""
    return sum(cpu_seconds(int(entry.name)) for entry in Path("/proc").iterdir()
               if entry.name.isdigit() and _command(entry).startswith(b"postgres"))


def stolen_cpu() -> float:
    """Seconds of CPU stolen from this virtual machine by its host, all CPUs (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def _command(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the processes -------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (read from /proc: no dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children it has reaped (user + system)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Service:
    """One supervised command in its own process group (so that a kill reaches all of it)."""

    def __init__(self, name: str, argv: list[str], env: dict, folder: Path):
        self.name, self.argv, self.env, self.folder = name, argv, env, folder
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with (self.folder / f"{self.name}.log").open("a") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=self.folder,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self) -> None:
        """kill -9 of the whole group: the process and its children die at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu(self) -> float:
        """CPU seconds used by the process and its children, dead (reaped) or alive."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        pid = self.process.pid
        return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children(pid))

    def memory(self) -> dict[str, float]:
        """RSS of the process and of each child, MiB."""
        if self.process is None or self.process.poll() is not None:
            return {}
        pids = [("main", self.process.pid)]
        pids += [(f"child {i + 1}", pid)
                 for i, pid in enumerate(sorted(children(self.process.pid)))]
        return {label: value for label, pid in pids if (value := rss_mib(pid)) is not None}


def wait_until_ready(url: str, service: Service) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise SystemExit(f"{service.name} exited: see {service.folder / service.name}.log")
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("GET", "/")
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{service.name} did not answer within {START_TIMEOUT_S} s")


def server_environment(database_url: str, redis_url: str, smtp_port: int, folder: Path,
                       secret_key: str) -> dict:
    """The environment of every process: production-like (DEBUG off, a real key), but in the
    "test" environment so that static files need no collectstatic and plain HTTP is served."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder),
        "GUICHET_ENV": "test", "DEBUG": "0", "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_URL": database_url,
        "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": f"surge-{secret_key[:8]}",
        "GUICHET_DATA_DIR": str(folder), "GUICHET_MEDIA_DIR": str(folder / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": os.devnull,
        # A row whose worker was killed mid-task is relayed again by the next sweep (every
        # minute), this long after it fell due.
        "OUTBOX_SWEEP_GRACE_SECONDS": "5", "OUTBOX_RETRY_BASE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        # The code of this tree, whatever the shared virtualenv's editable install points to.
        "PYTHONPATH": str(ROOT),
        # To try another CPU priority for the background processes.
        **({"WORKER_NICENESS": os.environ["WORKER_NICENESS"]}
           if "WORKER_NICENESS" in os.environ else {}),
    }


def gunicorn(name: str, port: int, env: dict, folder: Path, workers: int = 2,
             measured: bool = False) -> Service:
    """`measured`: each response tells its worker's CPU time and SQL queries (the settings of
    benchmarks/http_server, as http_serving.py runs them)."""
    if measured:
        env = {**env, "DJANGO_SETTINGS_MODULE": "http_settings",
               "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks' / 'http_server'}"}
    return Service(name, [str(GUICHET), "serve", "--bind", f"127.0.0.1:{port}",
                          "--workers", str(workers)], env, folder)


def celery_worker(env: dict, folder: Path, concurrency: int = 2) -> Service:
    return Service("celery-worker", [str(GUICHET), "worker", f"--concurrency={concurrency}",
                                     "--loglevel=WARNING"], env, folder)


def celery_scheduler(env: dict, folder: Path) -> Service:
    return Service("celery-scheduler", [str(GUICHET), "scheduler"], env, folder)


# --- the SMTP sink ------------------------------------------------------------------------

class MailSink:
    """A local SMTP server (aiosmtpd) writing each message it receives to a file."""

    def __init__(self, folder: Path, port: int):
        from aiosmtpd.controller import Controller

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.serial = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.serial += 1
            serial = self.serial
        (self.folder / f"{serial:06d}.eml").write_bytes(envelope.original_content
                                                        or envelope.content)
        return "250 OK"

    def receipts(self) -> dict[str, collections.Counter]:
        """For each receipt number, the Message-IDs of the mails that carried it, counted."""
        found = collections.defaultdict(collections.Counter)
        for path in self.folder.glob("*.eml"):
            content = path.read_bytes()
            message_id = MESSAGE_ID.search(content)
            for number in {number.decode() for number in RECEIPT_FILE.findall(content)}:
                found[number][message_id.group(1).decode() if message_id else path.name] += 1
        return found


# --- seeding ------------------------------------------------------------------------------

def setup_django(env: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(count: int) -> list[tuple[int, str]]:
    """`count` complete, eligible drafts, each with a lead applicant and a second member's
    applicant (the receipt goes to both); the lead's session key for each."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from guichet.calls.services import load_call
    from tests.factories import lead_and_member, make_dossier

    load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today())
    document = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
    document.pop("submitted_at")
    applicants = []
    for _ in range(count):
        dossier = make_dossier(document)
        lead, _member = lead_and_member(dossier)
        session = SessionStore()
        session.update({SESSION_KEY: str(lead.pk),
                        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        HASH_SESSION_KEY: lead.get_session_auth_hash()})
        session.create()
        applicants.append((dossier.pk, session.session_key))
    return applicants


# --- the clients --------------------------------------------------------------------------

@dataclasses.dataclass
class Tally:
    post_ms: list = dataclasses.field(default_factory=list)
    get_ms: list = dataclasses.field(default_factory=list)  # the submission step's page
    # What the server says it spent (X-CPU-Ms, X-Query-Count), when it is measured.
    get_cpu_ms: list = dataclasses.field(default_factory=list)
    post_cpu_ms: list = dataclasses.field(default_factory=list)
    get_queries: list = dataclasses.field(default_factory=list)
    post_queries: list = dataclasses.field(default_factory=list)
    submitted: int = 0
    retried: int = 0  # POSTs sent again after a failure
    retried_with_receipt: int = 0
    errors: list = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class Browser:
    """One person's browser: its cookies, and a keep-alive connection to each server."""

    def __init__(self, address: tuple[str, int], session_key: str | None = None):
        self.address = address  # the server asked unless a request names another
        self.cookies = {"sessionid": session_key} if session_key else {}
        self.connections = {}
        self.last = None  # the last response

    def request(self, method: str, path: str, body: str | None = None, address=None):
        address = address or self.address
        if address not in self.connections:
            self.connections[address] = http.client.HTTPConnection(
                *address, timeout=REQUEST_TIMEOUT_S)
        connection = self.connections[address]
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept-Language": "fr"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            del self.connections[address]
            raise
        self.last = response
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            del self.connections[address]
        return response, content

    def csrf_token(self, path: str, address=None) -> str:
        """GET `path` (reloading after a failure, as a person would) and the CSRF token of its
        form."""
        response, content = attempt(lambda: self.request("GET", path, address=address),
                                    tries=4)
        token = CSRF_FIELD.search(content.decode())
        if response.status != 200 or token is None:
            raise RuntimeError(f"GET {path}: {response.status}")
        return token.group(1)


def attempt(action, tries: int):
    """Call `action` up to `tries` times while it fails with a network error or a 5xx."""
    for left in range(tries - 1, -1, -1):
        try:
            response, content = action()
            if response.status < 500 or not left:
                return response, content
        except (OSError, http.client.HTTPException):
            if not left:
                raise
        time.sleep(0.2)
    raise AssertionError("unreachable")


def submit_as(browser: Browser, dossier: int, tally: Tally) -> None:
    step = f"/dossiers/{dossier}/etape/depot/"
    start = time.perf_counter()
    token = browser.csrf_token(step)
    with tally.lock:
        tally.get_ms.append((time.perf_counter() - start) * 1000)
        record_server_cost(browser.last, tally.get_cpu_ms, tally.get_queries)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "confirm": "on"})
    receipt = f"/dossiers/{dossier}/accuse/"
    start = time.perf_counter()
    try:
        response, _ = browser.request("POST", step, form)
        failure = None if response.status == 302 else f"status {response.status}"
    except (OSError, http.client.HTTPException) as error:
        failure = type(error).__name__
    elapsed = (time.perf_counter() - start) * 1000
    if failure is not None:
        with tally.lock:
            tally.retried += 1
        time.sleep(0.5)  # the person notices, then sends the form again
        response, _ = browser.request("POST", step, form)
        if response.status != 302 or response.getheader("Location") != receipt:
            raise RuntimeError(f"re-POST after {failure}: {response.status}")
        response, _ = browser.request("GET", receipt)
        if response.status != 200:
            raise RuntimeError(f"receipt after re-POST: {response.status}")
        with tally.lock:
            tally.retried_with_receipt += 1
    elif response.getheader("Location") != receipt:
        raise RuntimeError(f"POST answered {response.getheader('Location')}")
    with tally.lock:
        if failure is None:
            record_server_cost(response, tally.post_cpu_ms, tally.post_queries)
        tally.submitted += 1
        if failure is None:
            tally.post_ms.append(elapsed)


def record_server_cost(response, cpu_ms: list, queries: list) -> None:
    if response.getheader("X-CPU-Ms"):
        cpu_ms.append(float(response.getheader("X-CPU-Ms")))
        queries.append(int(response.getheader("X-Query-Count")))


def client_loop(address, work: queue.Queue, tally: Tally) -> None:
    while True:
        try:
            dossier, session_key = work.get_nowait()
        except queue.Empty:
            return
        try:
            submit_as(Browser(address, session_key), dossier, tally)
        except Exception as error:  # counted, reported, and fails the run
            with tally.lock:
                tally.errors.append(f"dossier {dossier}: {error}")


# --- faults -------------------------------------------------------------------------------

def fault_plan(count: int, faults: bool) -> list[tuple[float, str]]:
    """When (fraction of the submissions done) to inject which fault."""
    if not faults:
        return []
    if count < 200:
        return [(0.25, "gunicorn-worker"), (0.45, "celery-worker"), (0.65, "database")]
    return [(0.2, "gunicorn-worker"), (0.4, "celery-worker"), (0.6, "gunicorn-worker"),
            (0.8, "database")]


def drop_database_connections(database: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        return cursor.fetchone()[0]


def inject(fault: str, services: dict, database: str) -> str:
    if fault == "gunicorn-worker":
        workers = children(services["gunicorn"].process.pid)
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        return f"kill -9 gunicorn worker {victim}"
    if fault == "celery-worker":
        worker = services["celery-worker"]
        pid = worker.process.pid
        worker.kill()
        time.sleep(1)  # a supervisor's restart delay
        worker.start()
        return f"kill -9 Celery worker {pid} (and its pool), started again"
    dropped = drop_database_connections(database)
    return f"pg_terminate_backend on {dropped} connections"


def run_faults(plan, count: int, tally: Tally, services: dict, database: str,
               done: threading.Event, log: list) -> None:
    for fraction, fault in plan:
        while not done.is_set():
            with tally.lock:
                progress = tally.submitted + len(tally.errors)
            if progress >= fraction * count:
                break
            time.sleep(0.05)
        if done.is_set():
            return
        log.append(f"at {progress}/{count}: {inject(fault, services, database)}")


# --- checks -------------------------------------------------------------------------------

def wait_for_outbox(timeout_s: float) -> tuple[int, float]:
    """Wait until no outbox row is pending; the rows left and the seconds waited."""
    from django.db import connection

    from guichet.notifications.models import OutboxMessage, OutboxStatus

    start = time.monotonic()
    while True:
        connection.close()  # a fresh connection: the old one may have been terminated
        pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
        waited = time.monotonic() - start
        if pending == 0 or waited > timeout_s:
            return pending, round(waited, 1)
        time.sleep(1)


def check(applicants, sink: MailSink, env: dict, folder: Path) -> dict:
    from django.db.models import Count

    from guichet.dossiers.models import Dossier, DossierStatus, Submission
    from guichet.dossiers.receipt_store import receipt_ready
    from guichet.notifications.models import OutboxMessage, OutboxStatus

    seeded = {pk for pk, _ in applicants}
    dossiers = Dossier.objects.filter(pk__in=seeded).annotate(receipts=Count("submissions"))
    not_submitted = [d.pk for d in dossiers if d.status == DossierStatus.DRAFT]
    wrong_receipts = [d.pk for d in dossiers
                      if d.status != DossierStatus.DRAFT and (d.receipts != 1
                                                              or not d.receipt_number)]
    orphans = list(Submission.objects.filter(dossier__status=DossierStatus.DRAFT)
                   .values_list("pk", flat=True))
    bad_hashes, missing_pdfs = [], []
    numbers = {}
    for submission in Submission.objects.select_related("dossier"):
        if hashlib.sha256(submission.snapshot.encode()).hexdigest() != submission.sha256:
            bad_hashes.append(submission.pk)
        if not receipt_ready(submission.dossier, submission.version, submission.sha256):
            missing_pdfs.append(submission.dossier.receipt_number)
        numbers[submission.dossier.receipt_number] = submission.dossier_id
    mails = sink.receipts()
    audit = subprocess.run([str(GUICHET), "audit", "verify"], env=env, cwd=folder,
                           capture_output=True, text=True, timeout=600)
    return {
        "dossiers": len(seeded),
        "submitted": len(seeded) - len(not_submitted),
        "not_submitted": not_submitted,
        "not_exactly_one_receipt": wrong_receipts,
        "receipts_without_dossier": orphans,
        "snapshot_hash_mismatches": bad_hashes,
        "receipt_pdfs_missing": missing_pdfs,
        "receipt_mails": sum(sum(ids.values()) for ids in mails.values()),
        "receipt_mails_missing": sorted(n for n in numbers if not mails.get(n)),
        # Two different mails for one receipt: a real duplicate.
        "receipt_mails_duplicated": {n: len(ids) for n, ids in mails.items() if len(ids) > 1},
        # The same mail (one Message-ID) received again: the sweep re-sent a mail whose
        # worker died after the SMTP server took it; receivers drop the copy by its id.
        "receipt_mails_resent": {n: sum(ids.values()) - len(ids) for n, ids in mails.items()
                                 if sum(ids.values()) > len(ids)},
        "receipt_mails_unknown": sorted(n for n in mails if n not in numbers),
        "outbox_rows": OutboxMessage.objects.count(),
        "outbox_pending": OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count(),
        "outbox_failed": OutboxMessage.objects.filter(status=OutboxStatus.FAILED).count(),
        "audit_verify": (audit.stdout + audit.stderr).strip().splitlines()[-1:],
        "audit_verify_ok": audit.returncode == 0,
    }


def lost(checks: dict) -> list[str]:
    """What makes the run fail: anything lost, doubled or broken. A receipt mail received twice
    with one Message-ID is not a double: a Celery worker killed after the SMTP server took it
    but before its outbox row was marked sent makes the sweep send that same mail again, and
    receivers recognise it (reported as `receipt_mails_resent`)."""
    problems = [name for name in ("not_submitted", "not_exactly_one_receipt",
                                  "receipts_without_dossier", "snapshot_hash_mismatches",
                                  "receipt_pdfs_missing", "receipt_mails_missing",
                                  "receipt_mails_unknown") if checks[name]]
    if checks["receipt_mails_duplicated"]:
        problems.append("receipt_mails_duplicated")
    if checks["outbox_failed"]:
        problems.append("outbox_failed")
    if checks["outbox_pending"]:
        problems.append("outbox_not_drained")
    if not checks["audit_verify_ok"]:
        problems.append("audit_verify")
    return problems


# --- report -------------------------------------------------------------------------------

def percentile(samples: list[float], fraction: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def write_report(result: dict, name: str) -> None:
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    run, checks = result["run"], result["checks"]
    lines = [
        f"# Submission surge ({result['when']})", "",
        f"{result['count']} applicants, {result['clients']} concurrent clients, gunicorn "
        f"{result['gunicorn_workers']} workers ({result['gunicorn_threads']} thread(s) each), "
        "1 Celery worker (concurrency "
        f"{result['celery_concurrency']}) + scheduler, Redis, PostgreSQL, SMTP sink; "
        f"faults: {'yes' if result['faults'] else 'no'}; Celery worker "
        f"{'started after the surge' if result['worker_after'] else 'running throughout'}. "
        f"Machine: {os.cpu_count()} cores, "
        f"load average before the run {result['load_before']}.", "",
        "| measure | value |", "|---|---|",
        f"| submissions/s | {run['submissions_per_s']} |",
        f"| POST p50 / p95 / p99 (ms) | {run['post_p50_ms']} / {run['post_p95_ms']} / "
        f"{run['post_p99_ms']} |",
        f"| POST max (ms) | {run['post_max_ms']} |",
        f"| GET of the submission step p50 / p95 / p99 (ms) | {run['get_p50_ms']} / "
        f"{run['get_p95_ms']} / {run['get_p99_ms']} |",
        f"| wall time of the surge (s) | {run['seconds']} |",
        f"| POSTs sent again after a failure | {run['retried']} "
        f"(answered with the receipt: {run['retried_with_receipt']}) |",
        f"| errors | {len(run['errors'])} |",
        f"| gunicorn CPU per submission (ms; GET + POST, workers killed excepted) | "
        f"{run['web_cpu_ms_per_submission']} |",
        "| CPU seconds used during the surge (processes killed excepted) | "
        + ", ".join(f"{name} {seconds}" for name, seconds in result["surge_cpu_s"].items())
        + f" (of {round(2 * run['seconds'], 1)} on 2 cores) |",
        f"| server CPU per request, median (ms; the worker thread's own, X-CPU-Ms): GET / POST "
        f"| {run['get_server_cpu_p50_ms']} / {run['post_server_cpu_p50_ms']} "
        f"(POST p95 {run['post_server_cpu_p95_ms']}) |",
        f"| SQL queries per request (benchmark middleware; BEGIN/COMMIT not counted): GET / POST "
        f"| {run['get_queries']} / {run['post_queries']} |",
        f"| load average at the start / at the end of the surge | {result['load_before']} / "
        f"{result['load_after']} |",
        f"| outbox drained after (s) | {result['outbox_drain_s']} "
        f"(rows still pending: {result['outbox_pending']}) |",
        "", "## Faults", "", *(f"- {line}" for line in result["fault_log"] or ["none"]),
        "", "## Checks", "",
        *(f"- {key}: {value}" for key, value in checks.items()),
        "", f"**Lost or broken: {', '.join(result['problems']) or 'nothing'}**",
        "", "## Memory afterwards (RSS, MiB)", "",
        *(f"- {service}: {memory}" for service, memory in result["rss_mib"].items()),
    ]
    if run["errors"]:
        lines += ["", "## Errors (first 20)", "", *(f"- {e}" for e in run["errors"][:20])]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")


# --- main ---------------------------------------------------------------------------------

def postgres(command: str, database: str) -> None:
    subprocess.run([command, "--if-exists", database] if command == "dropdb"
                   else [command, database], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--database", default="guichet_surge",
                        help="PostgreSQL database, dropped and created afresh")
    parser.add_argument("--redis", default=os.environ.get("SURGE_REDIS_URL",
                                                           "redis://127.0.0.1:6379/9"),
                        help="a Redis database for this run alone (flushed)")
    parser.add_argument("--worker-after", action="store_true",
                        help="start the Celery worker only once the surge is over (the web "
                             "tier alone, the outbox filling up meanwhile); not with --faults")
    parser.add_argument("--drain-timeout", type=float,
                        help="seconds to wait for the outbox after the surge (default: 120 + "
                             "1.5 per submission: a receipt PDF takes about a second to render "
                             "on a loaded 2-core machine)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (more than 1: the gthread worker)")
    parser.add_argument("--celery-concurrency", type=int, default=2,
                        help="processes of the Celery worker's pool")
    parser.add_argument("--name", default="surge", help="results file name")
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    options = parser.parse_args()
    if options.drain_timeout is None:
        options.drain_timeout = 120 + 1.5 * options.count
    if options.worker_after and options.faults:
        parser.error("--worker-after goes without --faults (a fault kills the Celery worker)")
    for variable, default in (("PGHOST", "127.0.0.1"), ("PGPORT", "5432"),
                              ("PGUSER", "postgres")):
        os.environ.setdefault(variable, default)
    database_url = (f"postgres://{os.environ['PGUSER']}@{os.environ['PGHOST']}:"
                    f"{os.environ['PGPORT']}/{options.database}")
    folder = Path(tempfile.mkdtemp(prefix="guichet-surge-"))
    postgres("dropdb", options.database)
    postgres("createdb", options.database)
    import redis

    redis.Redis.from_url(options.redis).flushdb()
    smtp_port, port = free_port(), free_port()
    env = server_environment(database_url, options.redis, smtp_port, folder,
                             secrets.token_urlsafe(50))
    env["GUNICORN_THREADS"] = str(options.threads)
    started = time.perf_counter()
    setup_django(env)
    applicants = seed(options.count)
    print(f"seeded {options.count} applicants in {time.perf_counter() - started:.0f} s "
          f"({folder})", flush=True)
    from django.db import connection

    connection.close()
    sink = MailSink(folder / "mails", smtp_port)
    sink.controller.start()
    celery_concurrency = options.celery_concurrency
    services = {"gunicorn": gunicorn("gunicorn", port, env, folder, measured=True),
                "celery-worker": celery_worker(env, folder, celery_concurrency),
                "celery-scheduler": celery_scheduler(env, folder)}
    problems = ["did not run"]
    try:
        for name, service in services.items():
            if not (options.worker_after and name == "celery-worker"):
                service.start()
        wait_until_ready(f"http://127.0.0.1:{port}", services["gunicorn"])
        load_before = round(os.getloadavg()[0], 2)
        cpu_before = {name: service.cpu() for name, service in services.items()}
        database_cpu_before, clients_cpu_before = postgres_cpu(), time.process_time()
        steal_before = stolen_cpu()
        work = queue.Queue()
        for applicant in applicants:
            work.put(applicant)
        tally, done, fault_log = Tally(), threading.Event(), []
        clients = [threading.Thread(target=client_loop, args=(("127.0.0.1", port), work, tally))
                   for _ in range(options.clients)]
        faults = threading.Thread(target=run_faults, args=(
            fault_plan(options.count, options.faults), options.count, tally, services,
            options.database, done, fault_log))
        start = time.perf_counter()
        faults.start()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        seconds = time.perf_counter() - start
        surge_cpu = {name: round(service.cpu() - cpu_before[name], 1)
                     for name, service in services.items()}
        surge_cpu["postgresql"] = round(postgres_cpu() - database_cpu_before, 1)
        surge_cpu["the clients"] = round(time.process_time() - clients_cpu_before, 1)
        # CPU time the hypervisor gave to other machines while this one's processes waited.
        surge_cpu["stolen by the host"] = round(stolen_cpu() - steal_before, 1)
        web_cpu = surge_cpu["gunicorn"]
        load_after = round(os.getloadavg()[0], 2)
        done.set()
        faults.join()
        if options.worker_after:
            services["celery-worker"].start()
        print(f"surge done in {seconds:.1f} s; waiting for the outbox", flush=True)
        pending, drain_s = wait_for_outbox(options.drain_timeout)
        time.sleep(1)  # the last SMTP conversations end
        checks = check(applicants, sink, env, folder)
        rss = {name: service.memory() for name, service in services.items()}
        problems = lost(checks)
        if tally.errors:
            problems.append("client_errors")
        result = {
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "count": options.count, "clients": options.clients, "faults": options.faults,
            "worker_after": options.worker_after,
            "gunicorn_workers": 2, "gunicorn_threads": options.threads,
            "celery_concurrency": celery_concurrency,
            "load_before": load_before, "load_after": load_after,
            "run": {"seconds": round(seconds, 1),
                    "submissions_per_s": round(tally.submitted / seconds, 1),
                    "post_p50_ms": percentile(tally.post_ms, 0.5),
                    "post_p95_ms": percentile(tally.post_ms, 0.95),
                    "post_p99_ms": percentile(tally.post_ms, 0.99),
                    "post_max_ms": round(max(tally.post_ms), 1) if tally.post_ms else None,
                    "post_mean_ms": round(statistics.mean(tally.post_ms), 1)
                    if tally.post_ms else None,
                    "get_p50_ms": percentile(tally.get_ms, 0.5),
                    "get_p95_ms": percentile(tally.get_ms, 0.95),
                    "get_p99_ms": percentile(tally.get_ms, 0.99),
                    "web_cpu_ms_per_submission": round(1000 * web_cpu / max(1, tally.submitted)),
                    "get_server_cpu_p50_ms": percentile(tally.get_cpu_ms, 0.5),
                    "post_server_cpu_p50_ms": percentile(tally.post_cpu_ms, 0.5),
                    "post_server_cpu_p95_ms": percentile(tally.post_cpu_ms, 0.95),
                    "get_queries": sorted(set(tally.get_queries)),
                    "post_queries": sorted(set(tally.post_queries)),
                    "retried": tally.retried, "retried_with_receipt": tally.retried_with_receipt,
                    "errors": tally.errors},
            "surge_cpu_s": surge_cpu,
            "outbox_pending": pending, "outbox_drain_s": drain_s,
            "fault_log": fault_log, "checks": checks, "rss_mib": rss,
            "restarts": {name: service.starts - 1 for name, service in services.items()},
            "problems": problems,
        }
        slowest = sorted(range(len(tally.post_ms)), key=tally.post_ms.__getitem__)[-8:]
        print("slowest POSTs (their rank in completion order, ms):",
              [(rank, round(tally.post_ms[rank])) for rank in slowest])
        write_report(result, options.name)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"LOST OR BROKEN: {', '.join(problems)}" if problems else "nothing lost",
              flush=True)
    finally:
        for service in services.values():
            service.stop()
        sink.controller.stop()
        from django.db import connection

        connection.close()
        if not options.keep:
            postgres("dropdb", options.database)
            subprocess.run(["rm", "-rf", str(folder)], check=False)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
