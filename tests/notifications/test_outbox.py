"""The transactional outbox: mails and the receipt PDF written with the business action,
delivered once (in-process without a broker, by a real Celery worker on Redis with one), retried
with backoff, swept after a crash, and retried by staff from the back office."""

import datetime as dt
import json
import logging
import os
import socket
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError, transaction

from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.celery import app
from guichet.core.jsonlog import JsonFormatter
from guichet.core.request_id import RequestIdFilter, bound_request_id, current_request_id
from guichet.dossiers import membership
from guichet.dossiers.models import Submission
from guichet.dossiers.receipt import receipt_hash_from_pdf
from guichet.dossiers.receipt_store import receipt_ready
from guichet.jobs.tasks import run_outbox_message
from guichet.mails.catalogue import CATALOGUE, render, send_notification
from guichet.notifications import outbox
from guichet.notifications.kinds import Kind
from guichet.notifications.models import OutboxMessage, OutboxStatus
from guichet.notifications.selectors import KIND_LABELS
from guichet.review.models import Role
from tests.factories import lead_and_member, make_dossier, staff

# The Celery test uses this Redis (a queue of its own), like the login-throttling tests.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LATER = dt.timedelta(hours=1)  # far beyond the sweep's grace delay


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document)


@pytest.fixture
def people(dossier):
    return lead_and_member(dossier)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.fixture
def unreachable_smtp(settings):
    """Mail through SMTP to a port where nothing listens: every send fails for real."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1", _closed_port(), 2)
    return settings


@pytest.mark.django_db
def test_outbox_row_written_in_the_action_transaction_and_gone_with_its_rollback(
        dossier, people, mailoutbox):
    lead, _member = people

    class Abandoned(Exception):
        pass

    written = []

    def invite_then_fail():
        with transaction.atomic():
            membership.invite_member(dossier, "partenaire@example.fr", lead)
            written.append(OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count())
            raise Abandoned

    with pytest.raises(Abandoned):
        invite_then_fail()
    assert written == [1]
    assert not OutboxMessage.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_outbox_in_process_without_broker_delivers_after_commit(
        settings, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    assert not settings.CELERY_BROKER_URL  # the default: `make run`, the test settings
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=True):
        membership.invite_member(dossier, "partenaire@example.fr", lead)
        assert mailoutbox == []  # never inside the transaction
    assert [message.to for message in mailoutbox] == [["partenaire@example.fr"]]
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, "")
    assert row.done_at is not None


@pytest.mark.django_db
def test_outbox_row_survives_a_crash_before_relay_and_the_sweep_delivers_it(
        dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False):  # the process dies after commit
        membership.invite_member(dossier, "partenaire@example.fr", lead)
    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.PENDING
    assert mailoutbox == []
    assert outbox.sweep(now=row.created_at + dt.timedelta(seconds=10)) == 0  # not overdue yet
    assert outbox.sweep(now=row.created_at + LATER) == 1
    assert [message.to for message in mailoutbox] == [["partenaire@example.fr"]]
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert outbox.sweep(now=row.created_at + 2 * LATER) == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_sweep_command_hands_over_an_overdue_row(
        settings, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 0
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False):  # never relayed
        membership.invite_member(dossier, "partenaire@example.fr", lead)
    call_command("sweep_outbox")
    assert [message.to for message in mailoutbox] == [["partenaire@example.fr"]]


@pytest.mark.django_db
def test_outbox_running_a_row_twice_sends_once(
        dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False):
        membership.invite_member(dossier, "partenaire@example.fr", lead)
    row = OutboxMessage.objects.get()
    assert outbox.run(row.pk).status == OutboxStatus.SENT
    assert outbox.run(row.pk).status == OutboxStatus.SENT
    outbox.relay(row.pk)
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_outbox_mail_sent_again_after_a_crash_keeps_its_message_id(
        settings, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    """The worker died after the SMTP server took the mail, before the row was marked sent:
    the copy the sweep sends carries the same Message-ID, so receivers drop it."""
    settings.DEFAULT_FROM_EMAIL = "Guichet <ne-pas-repondre@guichet.example.org>"
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False):
        membership.invite_member(dossier, "partenaire@example.fr", lead)
        membership.invite_member(dossier, "autre@example.fr", lead)
    first, second = OutboxMessage.objects.order_by("pk")
    outbox.run(first.pk)
    OutboxMessage.objects.filter(pk=first.pk).update(status=OutboxStatus.PENDING)  # no done mark
    outbox.run(first.pk)
    outbox.run(second.pk)
    ids = [message.message()["Message-ID"] for message in mailoutbox]
    assert [message.to for message in mailoutbox] == [
        ["partenaire@example.fr"], ["partenaire@example.fr"], ["autre@example.fr"]]
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]
    assert ids[0].startswith("<")
    assert ids[0].endswith(".0@guichet.example.org>")


@pytest.mark.django_db
def test_mail_sent_outside_the_outbox_gets_a_fresh_message_id(dossier, people, mailoutbox):
    context = {"dossier": dossier.pk, "wave": Wave.objects.filter(call=dossier.call).first().pk}
    send_notification(Kind.DRAFT_REMINDER, context)
    send_notification(Kind.DRAFT_REMINDER, context)
    first, again = (message.message()["Message-ID"] for message in mailoutbox)
    assert first != again


@pytest.mark.django_db
def test_outbox_failure_backs_off_exponentially_then_fails(
        unreachable_smtp, dossier, people, django_capture_on_commit_callbacks):
    unreachable_smtp.OUTBOX_MAX_ATTEMPTS, unreachable_smtp.OUTBOX_RETRY_BASE_SECONDS = 3, 60
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=True):  # attempt 1, in-process
        membership.invite_member(dossier, "partenaire@example.fr", lead)
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    first_delay = row.next_attempt_at
    second = outbox.run(row.pk)
    assert (second.status, second.retry_in) == (OutboxStatus.PENDING, 120)  # 60 s, then 120 s
    row.refresh_from_db()
    assert row.next_attempt_at > first_delay
    third = outbox.run(row.pk)
    assert (third.status, third.retry_in) == (OutboxStatus.FAILED, None)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert outbox.sweep(now=row.created_at + LATER) == 0  # a failed row waits for staff


@pytest.mark.django_db
def test_failed_delivery_listed_for_administrators_and_retry_delivers(
        client, unreachable_smtp, open_call, dossier, people, mailoutbox,
        django_capture_on_commit_callbacks):
    unreachable_smtp.OUTBOX_MAX_ATTEMPTS = 1
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=True):
        membership.invite_member(dossier, "partenaire@example.fr", lead)
    row = OutboxMessage.objects.get(status=OutboxStatus.FAILED)

    client.force_login(staff(open_call, "instructeur@example.fr", Role.INSTRUCTOR))
    assert client.get("/instruction/envois-en-echec/").status_code == 403
    assert client.post(f"/instruction/envois-en-echec/{row.pk}/relance/").status_code == 403
    client.force_login(lead)
    assert client.get("/instruction/envois-en-echec/").status_code == 403

    client.force_login(staff(open_call, "admin@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/envois-en-echec/").content.decode()
    table = page[page.index('data-testid="failed-deliveries"'):]
    assert "Courriel : Invitation à rejoindre un consortium" in table
    assert "ConnectionRefusedError" in table
    assert f'data-testid="retry-{row.pk}"' in table

    unreachable_smtp.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # repaired
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/instruction/envois-en-echec/{row.pk}/relance/", follow=True)
    assert "Envoi relancé." in response.content.decode()
    assert [message.to for message in mailoutbox] == [["partenaire@example.fr"]]
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert AuditEvent.objects.filter(action="outbox.retried", object_id=str(row.pk)).exists()
    again = client.post(f"/instruction/envois-en-echec/{row.pk}/relance/", follow=True)
    assert "il n&#x27;y a rien à relancer" in again.content.decode()
    assert len(mailoutbox) == 1
    assert "Aucun envoi en échec." in again.content.decode()


@pytest.mark.django_db
def test_failed_deliveries_of_another_funder_neither_listed_nor_retried(
        client, unreachable_smtp, open_call, other_call, dossier, people, regional_document,
        mailoutbox, django_capture_on_commit_callbacks):
    unreachable_smtp.OUTBOX_MAX_ATTEMPTS = 1
    regional = make_dossier(regional_document)
    with django_capture_on_commit_callbacks(execute=True):
        membership.invite_member(dossier, "partenaire@example.fr", people[0])
        membership.invite_member(regional, "partenaire-region@example.fr",
                                 lead_and_member(regional)[0])
    ours = OutboxMessage.objects.get(payload__context__invitation=dossier.consortium.invitations
                                     .get().pk)
    theirs = OutboxMessage.objects.exclude(pk=ours.pk).get(status=OutboxStatus.FAILED)
    retry = "/instruction/envois-en-echec/{}/relance/".format

    client.force_login(staff(open_call, "admin@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/envois-en-echec/").content.decode()
    assert f'data-testid="retry-{ours.pk}"' in page
    assert f'data-testid="retry-{theirs.pk}"' not in page
    assert client.post(retry(theirs.pk)).status_code == 404
    client.force_login(staff(other_call, "admin-region@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/envois-en-echec/").content.decode()
    assert f'data-testid="retry-{theirs.pk}"' in page
    assert f'data-testid="retry-{ours.pk}"' not in page
    assert client.post(retry(ours.pk)).status_code == 404
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (ours.status, theirs.status) == (OutboxStatus.FAILED, OutboxStatus.FAILED)
    assert mailoutbox == []


def test_failed_deliveries_link_shown_to_administrators_only(client, open_call):
    link = 'href="/instruction/envois-en-echec/"'
    client.force_login(staff(open_call, "instructeur@example.fr", Role.INSTRUCTOR))
    assert link not in client.get("/instruction/").content.decode()
    client.force_login(staff(open_call, "admin@example.fr", Role.ADMINISTRATOR))
    assert link in client.get("/instruction/").content.decode()


# --- the receipt leaves the submission request ------------------------------------------------

@pytest.mark.django_db
def test_submit_post_writes_receipt_pdf_and_mail_to_the_outbox(
        client, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, _member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=False) as relays:
        response = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert response["Location"] == f"/dossiers/{dossier.pk}/accuse/"
    submission = Submission.objects.get(dossier=dossier)
    assert sorted(OutboxMessage.objects.values_list("idempotency_key", flat=True)) == [
        f"notification:receipt:{dossier.pk}:1", f"receipt_pdf:{dossier.pk}:1"]
    assert not receipt_ready(dossier, 1, submission.sha256)  # nothing rendered in the request
    assert mailoutbox == []
    for relay in relays:
        relay()
    assert receipt_ready(dossier, 1, submission.sha256)
    [receipt_mail] = mailoutbox
    assert receipt_hash_from_pdf(receipt_mail.attachments[0][1]) == submission.sha256
    download = client.get(f"/dossiers/{dossier.pk}/accuse.pdf")
    assert receipt_hash_from_pdf(download.content) == submission.sha256


@pytest.mark.django_db
def test_receipt_pdf_rendered_on_demand_before_the_worker_ran(
        client, dossier, people, django_capture_on_commit_callbacks):
    lead, _member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=False):  # no worker has run
        client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    submission = Submission.objects.get(dossier=dossier)
    download = client.get(f"/dossiers/{dossier.pk}/accuse.pdf")
    assert download.status_code == 200
    assert receipt_hash_from_pdf(download.content) == submission.sha256
    assert receipt_ready(dossier, 1, submission.sha256)  # kept: the worker will find it


@pytest.mark.django_db
def test_submit_post_repeated_answers_with_the_receipt_not_an_error(
        client, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, _member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert first.status_code == retried.status_code == 302
    assert retried["Location"] == first["Location"] == f"/dossiers/{dossier.pk}/accuse/"
    assert Submission.objects.filter(dossier=dossier).count() == 1
    assert len(mailoutbox) == 1  # one receipt mail
    assert OutboxMessage.objects.count() == 2  # the receipt PDF and its mail, once
    assert client.get(retried["Location"]).status_code == 200


@pytest.mark.django_db
def test_submit_post_by_a_member_who_is_not_the_lead_is_still_refused(
        client, dossier, people):
    _lead, member = people
    client.force_login(member)
    response = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert response.status_code == 200
    assert "Seul le chef de file dépose le dossier." in response.content.decode()
    assert not Submission.objects.filter(dossier=dossier).exists()


# --- a real Celery worker on Redis ------------------------------------------------------------

def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def celery_worker_on_redis(settings):
    """A Celery worker (Celery's own test worker, in a thread of this process) consuming the
    Redis broker of these tests; the web side hands rows to it through that broker."""
    if not _redis_up():
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")

    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    app.conf.update(broker_url=TEST_REDIS_URL, task_default_queue="guichet-tests")
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield app
    app.conf.update(broker_url="")


def _wait_until_done(pk: int, seconds: float = 30) -> OutboxMessage:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            row = OutboxMessage.objects.get(pk=pk)
        except OperationalError:
            # SQLite's in-memory test database is shared with the worker's thread through a
            # shared cache, where a table being written is "locked" at once (no busy wait).
            time.sleep(0.1)
            continue
        if row.status != OutboxStatus.PENDING:
            return row
        time.sleep(0.1)
    raise AssertionError(f"outbox row {pk} still pending after {seconds} s")


@pytest.mark.django_db(transaction=True)
def test_celery_worker_on_redis_delivers_the_mail_once(open_call, example_document,
                                                        celery_worker_on_redis, mailoutbox):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    membership.invite_member(dossier, "partenaire@example.fr", lead)  # commits: relayed
    row = _wait_until_done(OutboxMessage.objects.get().pk)
    assert row.status == OutboxStatus.SENT
    assert [message.to for message in mail.outbox] == [["partenaire@example.fr"]]
    outbox.relay(row.pk)  # handed over again (a sweep racing the worker): still one mail
    outbox.sweep(now=row.created_at + LATER)
    time.sleep(1)
    assert len(mail.outbox) == 1


def test_worker_and_scheduler_commands_refuse_without_broker(settings):
    settings.CELERY_BROKER_URL = ""
    for command in ("worker", "scheduler"):
        with pytest.raises(CommandError, match="No broker: set REDIS_URL"):
            call_command(command)


def test_catalogue_every_kind_has_a_rule_a_label_and_a_french_and_english_template():
    assert set(CATALOGUE) == set(KIND_LABELS) == set(Kind)
    for kind in Kind:
        subjects = {language: render(kind, {}, language)[0] for language in ("fr", "en")}
        assert all(subject.strip() for subject in subjects.values()), kind
        assert subjects["fr"] != subjects["en"], kind


@pytest.mark.django_db
def test_notification_in_english_from_its_english_template(
        dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, _member = people
    with django_capture_on_commit_callbacks(execute=False):
        invitation = membership.invite_member(dossier, "partner@example.org", lead)
    send_notification(Kind.INVITATION, {"invitation": invitation.pk}, language="en")
    [message] = mailoutbox
    assert message.subject == f"Invitation to join the “{dossier.title}” consortium"
    assert "as a new partner organisation" in message.body
    assert "(Paris time, UTC+0" in message.body  # instants always in Paris time


@pytest.fixture
def outbox_log(caplog):
    """The outbox's log lines as the JSON formatter writes them (with their request id)."""
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="guichet.outbox")
    return lambda: [json.loads(JsonFormatter().format(record)) for record in caplog.records
                    if record.name == "guichet.outbox"]


def test_outbox_request_id_follows_a_request_into_its_mail_delivery(
        client, dossier, people, mailoutbox, outbox_log, django_capture_on_commit_callbacks):
    lead, _member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):  # run after the request is over
        client.post(f"/dossiers/{dossier.pk}/etape/consortium/",
                    {"email": "invitee@example.fr"}, HTTP_X_REQUEST_ID="req-invite-1")
    row = OutboxMessage.objects.get(payload__kind=Kind.INVITATION)
    assert (row.request_id, row.status) == ("req-invite-1", OutboxStatus.SENT)
    assert mailoutbox[0].to == ["invitee@example.fr"]
    [done] = [entry for entry in outbox_log() if entry["message"].endswith("done, attempt 1")]
    assert done["request_id"] == "req-invite-1"


def test_outbox_celery_task_run_on_a_row_carries_its_request_id(dossier, people, mailoutbox,
                                                                 outbox_log):
    lead, _member = people
    with bound_request_id("req-celery-7"):
        membership.invite_member(dossier, "invitee@example.fr", lead)
    row = OutboxMessage.objects.get(payload__kind=Kind.INVITATION)
    assert current_request_id() is None
    assert run_outbox_message(row.pk) == OutboxStatus.SENT
    assert [entry["request_id"] for entry in outbox_log()] == ["req-celery-7"]
    assert current_request_id() is None  # restored after the task
    assert len(mailoutbox) == 1


def test_outbox_row_queued_outside_a_request_has_no_request_id(dossier, people):
    lead, _member = people
    membership.invite_member(dossier, "invitee@example.fr", lead)  # as a periodic job would
    assert OutboxMessage.objects.get(payload__kind=Kind.INVITATION).request_id is None



# --- several rows at once ----------------------------------------------------------------------

@pytest.mark.django_db
def test_enqueue_all_returns_the_row_of_a_key_written_already_and_writes_the_others(
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = outbox.enqueue("notification", {"kind": "receipt", "context": {"n": 1}},
                               key="asked-before")
    with django_capture_on_commit_callbacks(execute=False) as relays:
        again, fresh = outbox.enqueue_all([
            outbox.Job("notification", {"kind": "receipt", "context": {"n": 2}},
                       key="asked-before"),
            outbox.Job("receipt_pdf", {"dossier": 1, "version": 1}, key="new-one"),
        ])
    assert again.pk == first.pk
    assert OutboxMessage.objects.get(pk=first.pk).payload["context"] == {"n": 1}
    assert OutboxMessage.objects.get(pk=fresh.pk).idempotency_key == "new-one"
    assert OutboxMessage.objects.count() == 2
    assert len(relays) == 1  # the new row only: the other one was relayed when it was written


@pytest.mark.django_db
def test_enqueue_all_refuses_an_unknown_task_before_writing_anything():
    with pytest.raises(ValueError, match="no_such_task"):
        outbox.enqueue_all([outbox.Job("receipt_pdf", {"dossier": 1, "version": 1}),
                            outbox.Job("no_such_task", {})])
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_submit_post_stays_within_its_query_budget(
        client, dossier, people, django_assert_max_num_queries,
        django_capture_on_commit_callbacks):
    """Issue 10: at most 20 queries for the submission POST, session and user included (19
    on PostgreSQL; BEGIN and COMMIT counted here)."""
    lead, _member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=False), \
            django_assert_max_num_queries(21):
        response = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert response["Location"] == f"/dossiers/{dossier.pk}/accuse/"
