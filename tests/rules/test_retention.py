import datetime as dt

import pytest

from guichet.rules.definition import PersonalData
from guichet.rules.retention import DossierDates, add_years, erasure_due, erasure_due_on

pytestmark = pytest.mark.unit
POLICY = PersonalData(years_after_last_payment=10, years_after_decision=2)


def _dates(grant_open=False, last_payment_on=None, decided_on=None, closed_on=None):
    return DossierDates(grant_open, last_payment_on, decided_on, closed_on)


def test_retention_of_a_closed_grant_counts_from_its_last_payment():
    dates = _dates(last_payment_on=dt.date(2024, 3, 15), decided_on=dt.date(2021, 12, 1),
                   closed_on=dt.date(2021, 10, 1))
    assert erasure_due_on(dates, POLICY) == dt.date(2034, 3, 15)
    assert not erasure_due(dates, POLICY, dt.date(2034, 3, 14))
    assert erasure_due(dates, POLICY, dt.date(2034, 3, 15))


def test_retention_of_an_open_grant_never_ends():
    dates = _dates(grant_open=True, last_payment_on=dt.date(2000, 1, 1),
                   decided_on=dt.date(1999, 1, 1))
    assert erasure_due_on(dates, POLICY) is None
    assert not erasure_due(dates, POLICY, dt.date(2100, 1, 1))


def test_retention_of_a_refused_dossier_counts_from_the_decision():
    dates = _dates(decided_on=dt.date(2021, 12, 1), closed_on=dt.date(2021, 10, 1))
    assert erasure_due_on(dates, POLICY) == dt.date(2023, 12, 1)


def test_retention_of_a_dossier_never_decided_counts_from_its_wave_closing():
    assert erasure_due_on(_dates(closed_on=dt.date(2021, 10, 1)), POLICY) == dt.date(2023, 10, 1)
    assert erasure_due_on(_dates(), POLICY) is None


def test_retention_follows_the_call_durations():
    policy = PersonalData(years_after_last_payment=5, years_after_decision=1)
    assert erasure_due_on(_dates(last_payment_on=dt.date(2024, 1, 2)), policy) == dt.date(
        2029, 1, 2)
    assert erasure_due_on(_dates(decided_on=dt.date(2024, 1, 2)), policy) == dt.date(2025, 1, 2)


def test_retention_add_years_moves_29_february_to_28():
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
