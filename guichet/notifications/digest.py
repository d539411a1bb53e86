"""The daily digest: people who chose it get one mail a day listing the notifications they were
not mailed one by one."""

import datetime as dt

from django.db import transaction

from guichet.core.clock import PARIS
from guichet.notifications.kinds import Kind
from guichet.notifications.models import Notification
from guichet.notifications.services import notify


def send_digests(day: dt.date) -> int:
    """One digest per person for the notifications waiting at the end of `day` (Paris); a
    second run for the same day finds nothing waiting and its mail is already asked for (the
    outbox key is the person and the day). Returns how many digests were asked for."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
    people = sorted(set(Notification.objects.filter(awaits_digest=True, created_at__lt=end)
                        .values_list("recipient_id", flat=True)))
    for person in people:
        _digest(person, day, end)
    return len(people)


@transaction.atomic
def _digest(person: int, day: dt.date, end: dt.datetime) -> None:
    Notification.objects.filter(recipient_id=person, awaits_digest=True,
                                created_at__lt=end).update(awaits_digest=False,
                                                           digested_on=day)
    notify(Kind.DAILY_DIGEST, key=f"digest:{person}:{day.isoformat()}", person=person,
           day=day.isoformat())
