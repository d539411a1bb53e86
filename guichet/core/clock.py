"""The server's clock: the one place instants come from, so that tests can pass their own."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def now() -> dt.datetime:
    return timezone.now()


def in_paris(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(PARIS)
