"""Celery tasks: each one calls the function `make run` calls in-process, nothing more."""

import datetime as dt
import logging

from django.conf import settings

from guichet.audit.services import take_anchor
from guichet.celery import app
from guichet.core.clock import in_paris
from guichet.core.clock import now as server_now
from guichet.dossiers import reminders
from guichet.grants import reports
from guichet.notifications import outbox
from guichet.notifications.digest import send_digests
from guichet.review.reminders import remind_reviews

logger = logging.getLogger("guichet.tasks")


@app.task(bind=True, name="guichet.run_outbox_message", acks_late=True, max_retries=None)
def run_outbox_message(self, pk: int) -> str:
    """Run one outbox row; a failure comes back after the row's backoff delay (the row counts
    the attempts and stops at OUTBOX_MAX_ATTEMPTS)."""
    outcome = outbox.run(pk)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@app.task(name="guichet.sweep_outbox")
def sweep_outbox() -> int:
    return outbox.sweep()


@app.task(name="guichet.remind_drafts")
def remind_drafts() -> int:
    return reminders.remind_drafts(server_now(), settings.DEADLINE_REMINDER_DAYS)


@app.task(name="guichet.remind_reports")
def remind_reports() -> int:
    return reports.remind_reports(in_paris(server_now()).date())


@app.task(name="guichet.remind_reviews")
def remind_reviews_task() -> int:
    return remind_reviews(in_paris(server_now()).date())


@app.task(name="guichet.send_digests")
def send_digests_task() -> int:
    """Yesterday's digests (Paris): the day is over, so each person gets it whole."""
    return send_digests(in_paris(server_now()).date() - dt.timedelta(days=1))


@app.task(name="guichet.anchor_audit")
def anchor_audit() -> str:
    """The audit chain's head, logged (and appended to AUDIT_ANCHOR_FILE when set) so that it
    is kept outside the database, as `guichet audit anchor` prints it."""
    line = take_anchor().to_json()
    logger.info("audit anchor %s", line)
    if settings.AUDIT_ANCHOR_FILE:
        with open(settings.AUDIT_ANCHOR_FILE, "a", encoding="utf-8") as anchors:
            anchors.write(line + "\n")
    return line
