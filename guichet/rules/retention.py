"""When a dossier's personal data must be erased (RGPD art. 5.1.e), from the durations its
call declares (`[personal_data]`, see definition.PersonalData) and the dates of its life.

A grant keeps its dossier for `years_after_last_payment` after its last payment, once it is
closed (a grant still being paid is kept whatever its age); a dossier decided without a grant
for `years_after_decision` after the decision; a dossier never decided (a draft left, a wave
cancelled) as long after its wave, or the call's last wave, closed.
"""

import datetime as dt
from dataclasses import dataclass

from guichet.rules.definition import PersonalData


@dataclass(frozen=True, slots=True)
class DossierDates:
    grant_open: bool  # a grant not yet closed
    last_payment_on: dt.date | None
    decided_on: dt.date | None  # the decision's publication
    closed_on: dt.date | None  # the close of its wave (or of the call's last wave)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def erasure_due_on(dates: DossierDates, policy: PersonalData) -> dt.date | None:
    """The first day on which the dossier's personal data may no longer be kept; None while
    nothing allows erasing it yet (a grant still open, no date to count from)."""
    if dates.grant_open:
        return None
    if dates.last_payment_on is not None:
        return add_years(dates.last_payment_on, policy.years_after_last_payment)
    start = dates.decided_on or dates.closed_on
    return None if start is None else add_years(start, policy.years_after_decision)


def erasure_due(dates: DossierDates, policy: PersonalData, today: dt.date) -> bool:
    due = erasure_due_on(dates, policy)
    return due is not None and due <= today
