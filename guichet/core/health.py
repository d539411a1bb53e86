"""Liveness and readiness probes for the load balancer and the orchestrator.

`/healthz` says the process answers (no database: a database outage must not get every web
process restarted). `/readyz` says whether this process can serve: the database, the cache,
the broker when one is configured and the file storage, each checked and named in the JSON;
503 as soon as one fails, so that the balancer sends traffic elsewhere.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("guichet.health")
BROKER_TIMEOUT_S = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the value written could not be read back")
    cache.delete(key)


def check_storage() -> None:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}", ContentFile(b"ready"))
    default_storage.delete(name)


def broker_url() -> str | None:
    """The Celery broker when the settings name one, else Redis when REDIS_URL is set."""
    return getattr(settings, "CELERY_BROKER_URL", None) or getattr(settings, "REDIS_URL", None)


def check_broker() -> None:
    url = broker_url()
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT_S,
                                      socket_timeout=BROKER_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    else:  # AMQP and the others: through kombu, which Celery brings
        from kombu import Connection

        with Connection(url, connect_timeout=BROKER_TIMEOUT_S) as broker:
            broker.ensure_connection(max_retries=1)


def readiness_checks() -> dict:
    checks = {"database": check_database, "cache": check_cache, "storage": check_storage}
    if broker_url():
        checks["broker"] = check_broker
    return checks


def run_checks(checks: dict) -> dict:
    """{name: {"ok": bool, "ms": float, "error"?: str}}, every check run even after a failure.

    The answer is public (balancers call it with no credential): it names the exception's
    class only; the message, which may name hosts and ports, goes to the log."""
    results = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    results = run_checks(readiness_checks())
    failed = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": results}
    return JsonResponse(body, status=503 if failed else 200)


class ProbeMiddleware:
    """Answers /healthz, /readyz and /metrics before host validation and the HTTPS redirect:
    probes and scrapers call the process directly, by its address and in plain HTTP, where
    ALLOWED_HOSTS and SECURE_SSL_REDIRECT would refuse them (and /metrics has its token)."""

    def __init__(self, get_response):
        from guichet.core.metrics import metrics

        self.get_response = get_response
        self.routes = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}

    def __call__(self, request):
        probe = self.routes.get(request.path_info)
        return probe(request) if probe else self.get_response(request)
