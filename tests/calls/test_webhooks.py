"""Webhooks: registered by a call's administrators, signed, delivered by the outbox after the
action commits, retried when refused, logged; tested against a local HTTP receiver."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from guichet.audit.models import AuditEvent
from guichet.calls.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from guichet.calls.webhooks import WebhookRefused, add_endpoint, remove_endpoint
from guichet.core.clock import now
from guichet.demo.dossiers import seed_demo
from guichet.demo.grants import seed_decided_wave
from guichet.dossiers.services import submit
from guichet.notifications import outbox
from guichet.notifications.models import OutboxMessage, OutboxStatus
from guichet.review.models import Role
from tests.factories import make_dossier, staff

pytestmark = pytest.mark.django_db


class Receiver(BaseHTTPRequestHandler):
    """Records every POST; answers `status` (200 unless told otherwise)."""

    received: list[dict] = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"headers": dict(self.headers), "body": body})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok merci" if type(self).status < 300 else b"boom\x00 interne")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received, Receiver.status = [], 200
    Receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/guichet"
    yield Receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(open_call):
    return staff(open_call, "admin@example.fr", Role.ADMINISTRATOR)


def _verified(request: dict, secret: str) -> dict:
    """The delivery's JSON, once its signature checks out as a receiver would check it."""
    headers = request["headers"]
    signed = headers["Guichet-Timestamp"].encode() + b"." + request["body"]
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["Guichet-Signature"], expected)
    return json.loads(request["body"])


def test_webhook_submission_delivered_signed_after_commit(
        open_call, admin, receiver, example_document, django_capture_on_commit_callbacks):
    endpoint, secret = add_endpoint(open_call, admin, receiver.url, ["dossier.submitted"])
    dossier = make_dossier(example_document)
    with django_capture_on_commit_callbacks(execute=True):
        submit(dossier, now=now())
    dossier.refresh_from_db()
    [request] = receiver.received
    payload = _verified(request, secret)
    assert payload["event"] == "dossier.submitted"
    assert payload["call"] == "deffinum"
    assert payload["data"] == {"dossier": dossier.pk, "version": 1,
                               "receipt_number": dossier.receipt_number}
    assert request["headers"]["Guichet-Event"] == "dossier.submitted"
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (delivery.status_code, delivery.response, delivery.delivery_id) == (
        200, "ok merci", payload["id"])


def test_webhook_wrong_secret_fails_the_receivers_check(
        open_call, admin, receiver, example_document, django_capture_on_commit_callbacks):
    add_endpoint(open_call, admin, receiver.url, ["dossier.submitted"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(make_dossier(example_document), now=now())
    with pytest.raises(AssertionError):
        _verified(receiver.received[0], "0" * 64)


def test_webhook_not_sent_to_other_events_inactive_endpoints_or_other_calls(
        open_call, other_call, admin, receiver, example_document,
        django_capture_on_commit_callbacks):
    add_endpoint(open_call, admin, receiver.url, ["payment.recorded"])
    removed, _secret = add_endpoint(open_call, admin, receiver.url, ["dossier.submitted"])
    remove_endpoint(removed, admin)
    theirs = staff(other_call, "admin-region@example.fr", Role.ADMINISTRATOR)
    add_endpoint(other_call, theirs, receiver.url, ["dossier.submitted"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(make_dossier(example_document), now=now())
    assert receiver.received == []
    assert not OutboxMessage.objects.filter(task="webhook").exists()


def test_webhook_refused_delivery_retried_with_the_answer_kept(
        open_call, admin, receiver, example_document, django_capture_on_commit_callbacks):
    endpoint, _secret = add_endpoint(open_call, admin, receiver.url, ["dossier.submitted"])
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        submit(make_dossier(example_document), now=now())
    row = OutboxMessage.objects.get(task="webhook")
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 500: boom interne" in row.last_error
    assert not WebhookDelivery.objects.exists()
    receiver.status = 200
    assert outbox.run(row.pk).status == OutboxStatus.SENT
    assert len(receiver.received) == 2
    assert receiver.received[0]["headers"]["Guichet-Delivery"] == receiver.received[1][
        "headers"]["Guichet-Delivery"]  # the same delivery, tried again
    assert WebhookDelivery.objects.get(endpoint=endpoint).status_code == 200


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/hook",
                                 "https://example.org/\r\nHost: evil", "https://"])
def test_webhook_hostile_url_refused_with_its_field(open_call, admin, url):
    with pytest.raises(WebhookRefused) as refused:
        add_endpoint(open_call, admin, url, ["dossier.submitted"])
    assert refused.value.field == "url"
    assert not WebhookEndpoint.objects.exists()


def test_webhook_unknown_event_refused(open_call, admin, receiver):
    with pytest.raises(WebhookRefused) as refused:
        add_endpoint(open_call, admin, receiver.url, ["dossier.submitted", "dossier.deleted"])
    assert refused.value.field == "events"


def test_webhook_page_shows_the_secret_once_and_sends_a_test_event(
        client, open_call, admin, receiver, django_capture_on_commit_callbacks):
    client.force_login(admin)
    page = "/instruction/appels/deffinum/webhooks/"
    response = client.post(f"{page}ajout/", {"url": receiver.url,
                                             "events": ["dossier.submitted", "payment.recorded"]})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["dossier.submitted", "payment.recorded"]
    first = client.get(page).content.decode()
    assert endpoint.secret in first
    assert "Dossier déposé, Versement enregistré" in first
    assert endpoint.secret not in client.get(page).content.decode()
    assert AuditEvent.objects.filter(action="call.webhook_added").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{page}{endpoint.pk}/test/")
    [request] = receiver.received
    assert _verified(request, endpoint.secret)["event"] == WebhookEvent.TEST
    log = client.get(page).content.decode()
    assert "Événement de test" in log
    assert "HTTP 200" in log


def test_webhook_page_for_the_calls_administrators_only(client, open_call, other_call):
    page = "/instruction/appels/deffinum/webhooks/"
    client.force_login(staff(open_call, "instructeur@example.fr", Role.INSTRUCTOR))
    assert client.get(page).status_code == 403
    assert client.post(f"{page}ajout/", {"url": "https://example.org/h",
                                         "events": ["dossier.submitted"]}).status_code == 403
    client.force_login(staff(other_call, "admin-region@example.fr", Role.ADMINISTRATOR))
    assert client.get(page).status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_webhook_grant_events_of_a_decided_wave(
        open_call, admin, receiver, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    events = [event.value for event in WebhookEvent if event != WebhookEvent.TEST]
    _endpoint, secret = add_endpoint(open_call, admin, receiver.url, events)
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()  # two dossiers submitted in the first wave
        seed_decided_wave(open_call)  # decided, signed, paid, one intermediate report
    received = [_verified(request, secret)["event"] for request in receiver.received]
    assert sorted(received) == sorted(
        ["dossier.submitted"] * 2 + ["decision.published"] * 2 + ["agreement.signed"] * 2
        + ["payment.recorded"] * 3 + ["report.submitted"])


def test_webhook_to_an_internal_address_refused_in_production(
        open_call, admin, receiver, settings, example_document,
        django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    add_endpoint(open_call, admin, receiver.url, ["dossier.submitted"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(make_dossier(example_document), now=now())
    assert receiver.received == []
    row = OutboxMessage.objects.get(task="webhook")
    assert "127.0.0.1 resolves to a non-public address" in row.last_error
