"""Prometheus metrics at `/metrics`: requests and latency per view, plus figures read from the
database when scraped (dossiers per status, submissions, the outbox backlog once it exists).

Under gunicorn every worker counts its own requests; `guichet/gunicorn_conf.py` sets
PROMETHEUS_MULTIPROC_DIR so that the scrape, whichever worker answers, sums them all.

Access: a bearer token (`METRICS_TOKEN`), compared in constant time; no token set, no metrics
(404). A token rather than "internal addresses only": behind the TLS proxy every request comes
from the proxy's internal address, so an address rule would open the metrics to the Internet
the day the proxy forwards the path; a token holds whatever the network looks like.
"""

import hmac
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter("guichet_http_requests", "HTTP requests served, by view, method and status",
                   ["view", "method", "status"])
LATENCY = Histogram("guichet_http_request_duration_seconds",
                    "Time from the first middleware to the response, by view",
                    ["view", "method"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Figures read from the database at scrape time: name -> (help, kind, reader). A reader returns
# a number, or {label value: number} for one label. Other apps add theirs with `scraped()`.
_SCRAPED: dict[str, tuple[str, str, str | None, Callable]] = {}


def scraped(name: str, documentation: str, kind: str = "gauge", label: str | None = None):
    """Register a reader of a figure computed at scrape time, e.g. in an app's `ready()`:

        scraped("guichet_outbox_backlog", "Outbox messages not yet delivered")(
            lambda: OutboxMessage.objects.filter(delivered_at=None).count())
    """
    def register(reader: Callable):
        _SCRAPED[name] = (documentation, kind, label, reader)
        return reader
    return register


@scraped("guichet_dossiers", "Dossiers, by status", label="status")
def _dossiers_per_status() -> dict:
    from django.db.models import Count

    from guichet.dossiers.models import Dossier

    return dict(Dossier.objects.values_list("status").annotate(n=Count("id")).order_by())


@scraped("guichet_submissions", "Submissions received (receipts, corrections included)",
         kind="counter")
def _submissions() -> int:
    from guichet.dossiers.models import Submission

    return Submission.objects.count()


class DatabaseCollector:
    def collect(self):
        for name, (documentation, kind, label, reader) in _SCRAPED.items():
            value = reader()
            if value is None:  # the reader's table is not there (yet)
                continue
            family = (CounterMetricFamily if kind == "counter" else GaugeMetricFamily)(
                name, documentation, labels=[label] if label else None)
            if label:
                for key, number in sorted(value.items()):
                    family.add_metric([str(key)], number)
            else:
                family.add_metric([], value)
            yield family


def exposition() -> bytes:
    scraped_now = CollectorRegistry()
    scraped_now.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        return generate_latest(workers) + generate_latest(scraped_now)
    return generate_latest(REGISTRY) + generate_latest(scraped_now)


def authorised(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    offered = request.META.get("HTTP_AUTHORIZATION", "")
    return bool(token) and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())


def metrics(request):
    if not getattr(settings, "METRICS_TOKEN", ""):
        return HttpResponseNotFound()
    if not authorised(request):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def _unrouted(request) -> str:
    """Static files are answered by WhiteNoise before any URL is resolved."""
    return "static" if request.path_info.startswith(f"/{settings.STATIC_URL.strip('/')}/") \
        else "unmatched"


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The view's name, never the path: paths carry ids and would make a series each.
        view = (match.view_name or match._func_path) if match else _unrouted(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        LATENCY.labels(view, method).observe(time.perf_counter() - started)
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response

