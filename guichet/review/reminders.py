"""Reviews falling due: the expert is reminded REVIEW_REMINDER_DAYS before the due day and
told once the day has passed; each message is sent once per assignment."""

import datetime as dt

from django.conf import settings
from django.db import transaction

from guichet.core.clock import now as server_now
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
from guichet.review.models import Assignment


def remind_reviews(today: dt.date) -> int:
    """Notify the experts whose reviews are due soon or overdue; returns how many notices."""
    open_reviews = Assignment.objects.filter(submitted_at__isnull=True, due_on__isnull=False)
    soon = today + dt.timedelta(days=settings.REVIEW_REMINDER_DAYS)
    due = list(open_reviews.filter(reminded_at__isnull=True, due_on__gte=today,
                                   due_on__lte=soon).values_list("pk", flat=True))
    overdue = list(open_reviews.filter(overdue_notified_at__isnull=True, due_on__lt=today)
                   .values_list("pk", flat=True))
    for pk in due:
        _notice(pk, Kind.REVIEW_DUE, "reminded_at")
    for pk in overdue:
        _notice(pk, Kind.REVIEW_OVERDUE, "overdue_notified_at")
    return len(due) + len(overdue)


@transaction.atomic
def _notice(assignment: int, kind: Kind, marker: str) -> None:
    notify(kind, key=f"{kind}:{assignment}", assignment=assignment)
    Assignment.objects.filter(pk=assignment).update(**{marker: server_now()})
