"""The server's clock: the one place instants come from, so that tests can pass their own."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def now() -> dt.datetime:
    return timezone.now()


def in_paris(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(PARIS)


def format_paris_instant(instant: dt.datetime) -> str:
    """An aware instant as "31/08/2021 à 11:59:59 (heure de Paris, UTC+02:00)": the one way
    mails and PDFs write an instant (the offset tells summer from winter time)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    local = in_paris(instant)
    offset = local.strftime("%z")  # "+0200"; "%:z" only exists from Python 3.12
    return local.strftime("%d/%m/%Y à %H:%M:%S") + (
        f" (heure de Paris, UTC{offset[:3]}:{offset[3:]})"
    )


def site_url(path: str) -> str:
    """An absolute link for a mail: `settings.SITE_URL` (where people reach the site, e.g.
    behind a proxy or on another port) followed by `path`."""
    return settings.SITE_URL.rstrip("/") + path
