"""The server's clock: the one place instants come from, so that tests can pass their own."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

PARIS = ZoneInfo("Europe/Paris")


def now() -> dt.datetime:
    return timezone.now()


def in_paris(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(PARIS)


def format_paris_instant(instant: dt.datetime, language: str = "fr") -> str:
    """An aware instant as "31/08/2021 à 11:59:59 (heure de Paris, UTC+02:00)" (in `language`):
    the one way mails and PDFs write an instant (the offset tells summer from winter time)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    local = in_paris(instant)
    offset = local.strftime("%z")  # "+0200"; "%:z" only exists from Python 3.12
    with translation.override(language):
        return _("%(date)s à %(time)s (heure de Paris, UTC%(offset)s)") % {
            "date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M:%S"),
            "offset": f"{offset[:3]}:{offset[3:]}"}


def site_url(path: str) -> str:
    """An absolute link for a mail: `settings.SITE_URL` (where people reach the site, e.g.
    behind a proxy or on another port) followed by `path`."""
    return settings.SITE_URL.rstrip("/") + path
