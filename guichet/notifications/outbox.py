"""Writing, relaying and running outbox rows (guichet.notifications.models.OutboxMessage).

`enqueue` writes a row in the caller's transaction and asks for it to be relayed after commit:
to Celery when a broker is set (`CELERY_BROKER_URL`, from `REDIS_URL`), otherwise `run` is
called in-process, the same function a worker calls. `run` locks the row and does the work only
while it is pending, so a row is done at most once however often it is relayed; a failure is
recorded and retried with exponential backoff, then left failed for staff to retry.
"""

import contextvars
import dataclasses
import datetime as dt
import logging
import uuid
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from guichet.core.clock import now as server_now
from guichet.core.request_id import bound_request_id, current_request_id
from guichet.notifications.models import OutboxMessage, OutboxStatus

logger = logging.getLogger("guichet.outbox")
_running = contextvars.ContextVar("outbox_row", default=None)

# What a row may ask for: its `task` names one of these functions, called with its payload.
TASKS = {
    "notification": "guichet.mails.catalogue.send_notification",
    "receipt_pdf": "guichet.dossiers.receipt_store.store_receipt_pdf",
    "close_if_exhausted": "guichet.grants.commitment.close_if_exhausted",
    "wave_archive": "guichet.dossiers.archives.build_wave_archive",
    "webhook": "guichet.calls.webhooks.deliver",
}
ERROR_LENGTH = 2000


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds before the next attempt, when one is due


@dataclasses.dataclass(frozen=True)
class Job:
    """A row to write: a task of TASKS, its payload, and the key that makes it written once."""
    task: str
    payload: dict
    key: str | None = None


def enqueue(task: str, payload: dict, key: str | None = None) -> OutboxMessage:
    """Write the row in the current transaction; relay it once the transaction commits.

    A row with the same `key` already written means the work is already asked for: that row is
    returned and nothing new is written."""
    return enqueue_all([Job(task, payload, key)])[0]


def enqueue_all(jobs: list[Job]) -> list[OutboxMessage]:
    """`enqueue` of several rows, in one insert when none of their keys is written yet (the
    common case: a submission's receipt PDF and mail); otherwise one at a time."""
    for job in jobs:
        if job.task not in TASKS:
            raise ValueError(f"unknown outbox task {job.task!r}")
    instant = server_now()
    rows = [OutboxMessage(task=job.task, payload=job.payload, created_at=instant,
                          next_attempt_at=instant, request_id=current_request_id(),
                          idempotency_key=job.key or f"{job.task}:{uuid.uuid4()}")
            for job in jobs]
    try:
        with transaction.atomic():
            messages = OutboxMessage.objects.bulk_create(rows)
    except IntegrityError:
        if len(rows) == 1:
            return [OutboxMessage.objects.get(idempotency_key=rows[0].idempotency_key)]
        return [enqueue(row.task, row.payload, row.idempotency_key) for row in rows]
    pks = [message.pk for message in messages]
    transaction.on_commit(lambda: [relay(pk) for pk in pks])
    return messages


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def relay(pk: int) -> None:
    """Hand the row to a worker, or run it here when there is no broker. Never raises: the row
    is committed, and the sweep hands it again if this hand-over is lost."""
    try:
        if broker_configured():
            # By name: the Celery tasks sit above every app, the outbox below them.
            import_string("guichet.jobs.tasks.run_outbox_message").apply_async((pk,))
        else:
            run(pk)
    except Exception:
        logger.exception("outbox row %s could not be relayed; the sweep will retry it", pk)


def run(pk: int) -> Outcome:
    """Do the work of a pending row, once: the row stays locked until its status is written, a
    row that is not pending (done, failed, or locked by another worker) is left alone. The
    work's own writes roll back when it fails."""
    with transaction.atomic():
        message = (OutboxMessage.objects.select_for_update(skip_locked=True)
                   .filter(pk=pk).first())
        if message is None:
            return Outcome("busy")
        if message.status != OutboxStatus.PENDING:
            return Outcome(message.status)
        token = _running.set(message)
        try:
            with bound_request_id(message.request_id):
                return _do(message)
        finally:
            _running.reset(token)


def _do(message: OutboxMessage) -> Outcome:
    """The row's work and its outcome, under the id of the request that queued it (a fresh id
    when none did), so that its log lines can be followed back to that request."""
    message.attempts += 1
    try:
        with transaction.atomic():
            import_string(TASKS[message.task])(**message.payload)
    except Exception as error:
        logger.exception("outbox row %s (%s) failed, attempt %s", message.pk, message.task,
                         message.attempts)
        return _record_failure(message, error)
    message.status, message.done_at, message.last_error = (
        OutboxStatus.SENT, server_now(), "")
    message.save(update_fields=["status", "done_at", "attempts", "last_error"])
    logger.info("outbox row %s (%s) done, attempt %s", message.pk, message.task,
                message.attempts)
    return Outcome(OutboxStatus.SENT)


def message_id(index: int) -> str | None:
    """The Message-ID of the `index`-th mail sent by the outbox row running now, the same at
    every attempt: a worker that dies after the SMTP server took a mail but before the row is
    marked sent makes the sweep send it again, and receivers recognise the copy by this id.
    Unique to this row and instance (an HMAC with the secret key), revealing neither; None
    outside an outbox row."""
    message = _running.get()
    if message is None:
        return None
    stem = salted_hmac("guichet.outbox.message-id", f"{message.pk}:{message.idempotency_key}",
                       algorithm="sha256").hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{stem}.{index}@{domain}>"


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: the base delay, doubled after each failure."""
    return settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (attempts - 1)


def _record_failure(message: OutboxMessage, error: Exception) -> Outcome:
    message.last_error = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
        delay = None
    else:
        delay = backoff(message.attempts)
        message.next_attempt_at = server_now() + dt.timedelta(seconds=delay)
    message.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    return Outcome(message.status, delay)


def make_pending_again(message: OutboxMessage) -> None:
    """A failed row (locked by the caller) gets a fresh budget of attempts, due now."""
    message.status, message.attempts, message.next_attempt_at = (
        OutboxStatus.PENDING, 0, server_now())
    message.save(update_fields=["status", "attempts", "next_attempt_at"])


def sweep(now: dt.datetime | None = None) -> int:
    """Relay again every pending row whose attempt is overdue by more than the grace delay: the
    hand-over after commit was lost (a crash, the broker down) or its retry went missing."""
    now = now or server_now()
    overdue = now - dt.timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    pks = list(OutboxMessage.objects.filter(status=OutboxStatus.PENDING,
                                            next_attempt_at__lte=overdue)
               .order_by("next_attempt_at").values_list("pk", flat=True))
    for pk in pks:
        relay(pk)
    return len(pks)
