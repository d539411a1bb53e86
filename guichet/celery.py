"""The Celery application: workers run the outbox and the periodic jobs (`guichet worker`,
`guichet scheduler`). The broker is `CELERY_BROKER_URL` (REDIS_URL); without one nothing here
runs and the outbox works in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")

app = Celery("guichet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["guichet.jobs"])

DAY, MINUTE = 24 * 3600.0, 60.0
app.conf.beat_schedule = {
    "outbox-sweep": {"task": "guichet.sweep_outbox", "schedule": MINUTE},
    "remind-drafts": {"task": "guichet.remind_drafts", "schedule": DAY},
    "remind-reports": {"task": "guichet.remind_reports", "schedule": DAY},
    "remind-reviews": {"task": "guichet.remind_reviews", "schedule": DAY},
    "daily-digests": {"task": "guichet.send_digests", "schedule": DAY},
    "audit-anchor": {"task": "guichet.anchor_audit", "schedule": DAY},
}


def warm_up() -> None:
    """Resolve what Celery and kombu load on the first task sent: the result backend (found
    through the installed packages' entry points) and the broker's transport (kombu's Redis
    module imports redis.asyncio), about 250 ms of CPU that the first submission of every
    web worker paid. Building a kombu connection opens no socket."""
    if app.conf.broker_url:
        app.backend  # noqa: B018 (a lazy attribute: reading it loads the backend)
        app.connection_for_write().release()
