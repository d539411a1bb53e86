"""gunicorn settings for `guichet serve` (`gunicorn -c python:guichet.gunicorn_conf`).

Every figure can be changed from the environment (README, "Run in production"). The
application is loaded once in the master (`preload_app`), then frozen out of the garbage
collector's reach before the workers are forked, so that the workers share its memory pages
instead of copying them when a collection touches them.
"""

import datetime as dt
import gc
import json
import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Nothing is collected while the master imports Django and the application: a collection would
# free objects among the long-lived ones and leave holes that the workers' first writes copy.
gc.disable()

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is the usual name (Heroku, Render, Dokku); gunicorn's default is one worker.
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
threads = _int("GUNICORN_THREADS", 1)  # more than 1: gunicorn switches to the gthread worker
preload_app = True
timeout = _int("GUNICORN_TIMEOUT", 30)  # a worker silent this long is killed and replaced
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # on TERM/HUP: finish the requests
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # behind the proxy, which reuses its connections
# A safety net against slow leaks: a worker is replaced after this many requests, at a moment
# that differs per worker (jitter), so that they never all restart together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"  # the heartbeat file: never on a disk that may stall
# gunicorn's control socket (one path per user by default) is not used, and two instances on
# one machine would fight over it.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"

# The garbage collector's first generation is collected after 700 allocations by default, tens
# of times per page; at 50 000 it runs about once per page, with at most that many container
# objects waiting (a few MiB).
GC_THRESHOLDS = (50_000, 20, 100)

# Prometheus counters of all workers, summed at scrape (guichet/core/metrics.py). The folder
# must be set before prometheus_client is imported, hence here.
_METRICS_DIR_OWNED = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _METRICS_DIR_OWNED:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="guichet-metrics-")
else:  # counts of a previous run would be added to this one's
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def when_ready(server):
    """The application is loaded, no worker forked yet: do its lazy first-request work here,
    once for every worker (guichet/core/warmup.py)."""
    # Imported here: the configuration loads before the application.
    from guichet import celery  # noqa: PLC0415
    from guichet.core.warmup import warm_up  # noqa: PLC0415

    warm_up()
    celery.warm_up()


def pre_fork(server, worker):
    gc.freeze()  # everything allocated so far is permanent: no collection scans it again
    gc.enable()


def post_fork(server, worker):
    gc.set_threshold(*GC_THRESHOLDS)


def child_exit(server, worker):
    # Imported in the master only when a worker exits: the config file loads before the app.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _METRICS_DIR_OWNED:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


class JsonAccessLogger(Logger):
    """One JSON object per request, with the request id the application answered with.

    The query string is left out: it carries what people search for, and links' tokens."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        headers = {name.lower(): value for name, value in resp.headers}
        entry = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id"),
            "user_agent": atoms["a"],
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.exception("access log")


logger_class = JsonAccessLogger
