"""Webhooks: a call's administrators register endpoints, and business events are POSTed there.

Emitting an event writes one outbox row per subscribed endpoint, in the transaction of the
action (`jobs_for`, `emit`); the worker delivers it (`deliver`), retried with the outbox's
backoff until the endpoint answers 2xx, then left failed for staff to retry. Each delivery is
signed: `Guichet-Signature: v1=<hex>`, the HMAC-SHA256 with the endpoint's secret of
`<timestamp>.<body>`, the timestamp (Unix seconds) sent in `Guichet-Timestamp`, so that the
receiver can check both who sent it and that it is fresh. A successful delivery is logged with
the answer; a failed one keeps the answer in its outbox row (`last_error`).
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, WebhookDelivery, WebhookEndpoint, WebhookEvent
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.core.text import has_control_characters
from guichet.notifications.outbox import Job, enqueue_all

TIMEOUT_SECONDS = 5
RESPONSE_KEPT = 500
SUBSCRIBABLE = [event for event in WebhookEvent if event != WebhookEvent.TEST]


class WebhookRefused(ServiceError):
    code = "webhook_refused"


class DeliveryFailed(Exception):
    """The endpoint did not answer 2xx: the outbox records why and tries again later."""


def jobs_for(call: Call, event: WebhookEvent, data: dict) -> list[Job]:
    """The outbox rows that tell `event` about `data` (primary keys and plain values) to every
    active endpoint of the call subscribed to it: no query when none is."""
    if str(event) not in call.webhook_events:
        return []
    endpoints = WebhookEndpoint.objects.filter(call=call, active=True).values_list(
        "pk", "events")
    return [_job(pk, event, data) for pk, events in endpoints if str(event) in events]


def emit(call: Call, event: WebhookEvent, data: dict) -> None:
    """`jobs_for`, written now, in the caller's transaction."""
    jobs = jobs_for(call, event, data)
    if jobs:
        enqueue_all(jobs)


def _listened(call: Call) -> None:
    """Keep `call.webhook_events`: the events of its active endpoints."""
    events = set()
    for subscribed in WebhookEndpoint.objects.filter(call=call, active=True).values_list(
            "events", flat=True):
        events.update(subscribed)
    call.webhook_events = sorted(events)
    Call.objects.filter(pk=call.pk).update(webhook_events=call.webhook_events)


def _job(endpoint_pk: int, event: WebhookEvent, data: dict) -> Job:
    return Job("webhook", {"endpoint": endpoint_pk, "event": str(event), "data": data,
                           "id": str(uuid.uuid4())})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()


def deliver(endpoint: int, event: str, data: dict, id: str) -> None:
    """The outbox task: POST the event, signed; raise DeliveryFailed unless answered 2xx."""
    target = WebhookEndpoint.objects.get(pk=endpoint)
    _refuse_internal(target.url)
    instant = server_now()
    body = json.dumps({"id": id, "event": event, "call": target.call.code,
                       "created_at": instant.isoformat(), "data": data},
                      sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(instant.timestamp()))
    request = urllib.request.Request(target.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Guichet-Webhooks/1",
        "Guichet-Event": event, "Guichet-Delivery": id, "Guichet-Timestamp": timestamp,
        "Guichet-Signature": signature(target.secret, timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            status, text = answer.status, answer.read(RESPONSE_KEPT)
    except urllib.error.HTTPError as refused:
        raise DeliveryFailed(f"HTTP {refused.code}: {_excerpt(refused.read(RESPONSE_KEPT))}") \
            from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"no answer: {exc}") from None
    WebhookDelivery.objects.create(endpoint=target, event=event, delivery_id=id,
                                   attempted_at=instant, status_code=status,
                                   response=_excerpt(text))


def _refuse_internal(url: str) -> None:
    """Refuse an address that resolves to the server's own networks, unless allowed (tests,
    development). The name is resolved again by the connection: a DNS answer that changes in
    between is not caught here; a proxy that filters egress is the complete answer."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"cannot resolve {host}: {exc}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise DeliveryFailed(f"{host} resolves to a non-public address ({ip})")


def _excerpt(body: bytes) -> str:
    return body.decode("utf-8", "replace").replace("\x00", "")[:RESPONSE_KEPT]


@transaction.atomic
def add_endpoint(call: Call, by, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, which is shown this once."""
    require_perm(by, "calls.manage_webhooks", call)
    url = url.strip()
    if has_control_characters(url) or not url.startswith(("https://", "http://")):
        raise WebhookRefused(_("L'adresse doit commencer par https:// (ou http://)."),
                             field="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookRefused(_("Cette adresse n'est pas une URL valide."), field="url") from None
    chosen = [event for event in SUBSCRIBABLE if event.value in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise WebhookRefused(_("Choisissez au moins un événement parmi ceux proposés."),
                             field="events")
    secret = secrets.token_hex(32)
    endpoint = WebhookEndpoint.objects.create(
        call=call, url=url, events=[event.value for event in chosen], secret=secret,
        created_at=server_now(), created_by=by)
    _listened(call)
    append_event(AuditAction.CALL_WEBHOOK_ADDED, call, by=by,
                 details={"endpoint": endpoint.pk, "url": url, "events": endpoint.events})
    return endpoint, secret


@transaction.atomic
def remove_endpoint(endpoint: WebhookEndpoint, by) -> None:
    """Stop sending to the endpoint (its log stays)."""
    require_perm(by, "calls.manage_webhooks", endpoint.call)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    _listened(endpoint.call)
    append_event(AuditAction.CALL_WEBHOOK_REMOVED, endpoint.call, by=by,
                 details={"endpoint": endpoint.pk})


@transaction.atomic
def send_test_event(endpoint: WebhookEndpoint, by) -> None:
    """Queue a `test` event to this endpoint alone, whatever it subscribed to."""
    require_perm(by, "calls.manage_webhooks", endpoint.call)
    if not endpoint.active:
        raise WebhookRefused(_("Ce webhook est désactivé."))
    enqueue_all([_job(endpoint.pk, WebhookEvent.TEST, {"call": endpoint.call.code})])
    append_event(AuditAction.CALL_WEBHOOK_TESTED, endpoint.call, by=by,
                 details={"endpoint": endpoint.pk})
