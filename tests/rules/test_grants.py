"""Grants after the award (RULES.md, "Payment in three tranches" and "open data"): tranches, the
final balance and recovery, wave allowances, members' shares for SCDL, report due dates."""

import datetime as dt
import doctest
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.rules import grants
from guichet.rules.grants import (
    balance_due,
    member_shares,
    months_after,
    payable_amount,
    recovery_amount,
    tranche_amounts,
    wave_allowances,
)
from guichet.rules.money import CENT, AmountError

D = Decimal
DEFFINUM_SHARES = [D("0.50"), D("0.30"), None]
MILLION = D("1000000.00")
ONE_MILLIONTH = Fraction(1, 10**6)


def as_euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def half_up_cents(value: Fraction) -> Decimal:
    """Test oracle: an exact rational amount in euros, rounded half up to the cent."""
    cents = value * 100
    return as_euros(int(cents + Fraction(1, 2)) if cents >= 0 else -int(-cents + Fraction(1, 2)))


# --- tranche_amounts ---------------------------------------------------------------------


def test_tranche_amounts_deffinum_published_award_split_50_30_rest():
    amounts = tranche_amounts(D("4849695.00"), DEFFINUM_SHARES)
    assert amounts == [D("2424847.50"), D("1454908.50"), D("969939.00")]
    assert [str(amount) for amount in amounts] == ["2424847.50", "1454908.50", "969939.00"]


def test_tranche_amounts_odd_cent_rounded_half_up_and_balance_absorbs_it():
    # 0.5 × 1 000 000.01 = 500 000.005 -> .01 (half up); 0.3 × = 300 000.003 -> .00
    amounts = tranche_amounts(D("1000000.01"), DEFFINUM_SHARES)
    assert amounts == [D("500000.01"), D("300000.00"), D("200000.00")]
    assert sum(amounts) == D("1000000.01")


def test_tranche_amounts_single_remainder_tranche_takes_all():
    assert tranche_amounts(D("350000.00"), [None]) == [D("350000.00")]


def test_tranche_amounts_zero_award_all_zero():
    assert tranche_amounts(D("0"), DEFFINUM_SHARES) == [D("0.00")] * 3


@pytest.mark.parametrize(
    ("award", "shares", "message"),
    [
        (D("100.001"), DEFFINUM_SHARES, "at most 2 decimals"),
        (D("-100.00"), DEFFINUM_SHARES, "must not be negative"),
        (D("100.00"), [D("0"), None], r"must be a rate in \(0, 1\]"),
        (D("100.00"), [D("-0.5"), None], r"must be a rate in \(0, 1\]"),
        (D("100.00"), [D("1.5"), None], r"must be a rate in \(0, 1\]"),
        (D("100.00"), [D("NaN"), None], r"must be a rate in \(0, 1\]"),
        (D("100.00"), [D("0.50"), D("0.50"), None], "leaving nothing for the balance"),
        (D("100.00"), [D("0.70"), D("0.40"), None], "leaving nothing for the balance"),
        (D("100.00"), [None, D("0.50")], "exactly one tranche, the last"),
        (D("100.00"), [D("0.50"), None, None], "exactly one tranche, the last"),
        (D("100.00"), [D("0.50"), D("0.50")], "exactly one tranche, the last"),
        (D("100.00"), [], "exactly one tranche, the last"),
    ],
)
def test_tranche_amounts_invalid_input_refused(award, shares, message):
    with pytest.raises(ValueError, match=message):
        tranche_amounts(award, shares)


def test_tranche_amounts_award_smaller_than_rounded_fixed_tranches_refused():
    # each 0.25 × 0.02 = 0.005 rounds up to 0.01: 0.03 of fixed tranches on a 0.02 award
    shares = [D("0.25"), D("0.25"), D("0.25"), D("0.24"), None]
    with pytest.raises(ValueError, match="too small for these shares"):
        tranche_amounts(D("0.02"), shares)


def test_tranche_amounts_float_share_refused():
    with pytest.raises(TypeError, match="must be a Decimal"):
        tranche_amounts(D("100.00"), [0.5, None])


@st.composite
def fixed_shares(draw) -> list[Decimal]:
    """Up to 4 fixed shares in millionths, adding up to less than 1."""
    left = 10**6 - 1
    shares = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if left < 1:
            break
        units = draw(st.integers(min_value=1, max_value=left))
        left -= units
        shares.append(Decimal(units).scaleb(-6))
    return shares


@settings(max_examples=300, deadline=None)
@given(award_cents=st.integers(min_value=0, max_value=10**11), shares=fixed_shares())
def test_tranche_amounts_any_award_sums_exactly_and_fixed_within_half_cent(award_cents, shares):
    award = as_euros(award_cents)
    rounded_fixed = [half_up_cents(Fraction(award) * Fraction(share)) for share in shares]
    if sum(rounded_fixed) > award:  # only for a few cents split into many shares
        with pytest.raises(ValueError, match="too small for these shares"):
            tranche_amounts(award, [*shares, None])
        return
    amounts = tranche_amounts(award, [*shares, None])
    assert len(amounts) == len(shares) + 1
    assert sum(amounts) == award
    assert all(amount.as_tuple().exponent == -2 for amount in amounts)
    assert amounts[-1] >= 0
    for amount, share in zip(amounts, shares, strict=False):
        assert abs(Fraction(amount) - Fraction(award) * Fraction(share)) <= Fraction(1, 200)


# --- balance_due, recovery_amount, payable_amount ----------------------------------------


def test_balance_due_expenses_reach_base_pays_award_minus_paid():
    assert balance_due(D("700000"), MILLION, MILLION, D("560000")) == D("140000.00")
    assert balance_due(D("700000"), MILLION, D("1200000"), D("560000")) == D("140000.00")


def test_balance_due_expenses_short_of_base_earned_part_covers_paid_nothing_due():
    # 70 % × 800 000 = 560 000 earned; 50 % + 30 % = 560 000 already paid
    balance = balance_due(D("700000"), MILLION, D("800000"), D("560000"))
    assert balance == D("0.00")
    assert payable_amount(balance) == D("0.00")
    assert recovery_amount(balance) == D("0.00")


def test_balance_due_expenses_far_short_of_base_recovery_order():
    # 70 % × 600 000 = 420 000 earned, 560 000 paid: 140 000 to recover
    balance = balance_due(D("700000"), MILLION, D("600000"), D("560000"))
    assert balance == D("-140000.00")
    assert recovery_amount(balance) == D("140000.00")
    assert payable_amount(balance) == D("0.00")


def test_balance_due_rate_not_rounded_before_multiplying():
    # 4 849 695 / 6 928 135 = 0.7000000520...; a rate rounded to 0.70 would earn 3 500 000.00
    balance = balance_due(D("4849695"), D("6928135"), D("5000000"), D("0"))
    assert balance == D("3500000.36")  # 4 849 695 × 5 000 000 / 6 928 135 = 3 500 000.3608...


def test_balance_due_half_cent_rounded_up():
    # 0.03 × 0.01 / 0.02 = 0.015 -> 0.02
    assert balance_due(D("0.03"), D("0.02"), D("0.01"), D("0")) == D("0.02")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((D("700000"), D("0"), D("1"), D("0")), "eligible_base must be positive"),
        ((D("700000"), D("-1"), D("1"), D("0")), "eligible_base: must not be negative"),
        ((D("700000.001"), MILLION, D("1"), D("0")), "award: at most 2 decimals"),
        ((D("700000"), MILLION, D("-1"), D("0")), "accepted_expenses: must not be negative"),
        ((D("700000"), MILLION, D("1"), D("-5")), "paid: must not be negative"),
    ],
)
def test_balance_due_invalid_amount_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        balance_due(*arguments)


def test_recovery_and_payable_amounts_positive_balance_paid_not_recovered():
    assert payable_amount(D("969939.00")) == D("969939.00")
    assert recovery_amount(D("969939.00")) == D("0.00")
    assert str(recovery_amount(D("0.00"))) == "0.00"  # not "-0.00"


@settings(max_examples=300, deadline=None)
@given(
    base_cents=st.integers(min_value=1, max_value=10**13),
    award_permille=st.integers(min_value=0, max_value=1000),
    accepted_permille=st.integers(min_value=0, max_value=1500),
    paid_permille=st.integers(min_value=0, max_value=1000),
    odd_cents=st.integers(min_value=0, max_value=99),
)
def test_balance_due_any_amounts_balance_plus_paid_is_earned_part(
        base_cents, award_permille, accepted_permille, paid_permille, odd_cents):
    base = as_euros(base_cents)
    award = as_euros(base_cents * award_permille // 1000)
    accepted = as_euros(min(base_cents * accepted_permille // 1000 + odd_cents, 10**14 - 1))
    paid = as_euros(int(award * 100) * paid_permille // 1000)
    earned = min(award, half_up_cents(Fraction(award) * Fraction(accepted) / Fraction(base)))
    balance = balance_due(award, base, accepted, paid)
    assert balance + paid == earned
    assert balance.as_tuple().exponent == -2
    assert (recovery_amount(balance) > 0) == (paid > earned)
    assert payable_amount(balance) - recovery_amount(balance) == balance


# --- wave_allowances ---------------------------------------------------------------------


def deffinum_waves(w1: int, w2: int, w3: int) -> list[tuple[Decimal | None, Decimal]]:
    """The three Deffinum waves with what each has committed, in M€."""
    return [(100 * MILLION, w1 * MILLION), (None, w2 * MILLION), (None, w3 * MILLION)]


@pytest.mark.parametrize(
    ("committed", "expected_millions"),
    [
        ((0, 0, 0), (100, 300, 300)),
        ((80, 0, 0), (20, 220, 220)),
        ((80, 150, 0), (20, 70, 70)),
        ((80, 150, 60), (10, 10, 10)),
        ((100, 200, 0), (0, 0, 0)),
        ((100, 150, 50), (0, 0, 0)),
        ((30, 280, 0), (0, 0, 0)),  # wave 1's unspent 70 went to wave 2: the envelope is spent
    ],
)
def test_wave_allowances_deffinum_hand_cases(committed, expected_millions):
    allowances = wave_allowances(300 * MILLION, deffinum_waves(*committed), carry_over=True)
    assert allowances == [millions * MILLION for millions in expected_millions]


def test_wave_allowances_deffinum_same_without_carry_over_setting():
    # "what remains" waves take unspent budgets without the setting
    waves = deffinum_waves(80, 0, 0)
    assert wave_allowances(300 * MILLION, waves, carry_over=False) == [
        20 * MILLION, 220 * MILLION, 220 * MILLION]


def test_wave_allowances_fixed_waves_unspent_budget_carried_to_next():
    waves = [(100 * MILLION, 80 * MILLION), (100 * MILLION, D(0)), (100 * MILLION, D(0))]
    # wave 2: 100 + 20 from wave 1; wave 3: 100 + those 120 if wave 2 awards nothing
    assert wave_allowances(300 * MILLION, waves, carry_over=True) == [
        20 * MILLION, 120 * MILLION, 220 * MILLION]
    assert wave_allowances(300 * MILLION, waves, carry_over=False) == [
        20 * MILLION, 100 * MILLION, 100 * MILLION]


def test_wave_allowances_carry_passes_on_from_wave_to_wave():
    waves = [(100 * MILLION, 80 * MILLION), (100 * MILLION, 90 * MILLION), (100 * MILLION, D(0))]
    # wave 3 gets its 100 plus 20 unspent in wave 1 and 10 unspent in wave 2
    assert wave_allowances(300 * MILLION, waves, carry_over=True)[2] == 130 * MILLION


def test_wave_allowances_late_award_in_earlier_wave_limited_by_carry_already_used():
    # wave 2 already used the 20 wave 1 left: wave 1 may not award them again
    waves = [(100 * MILLION, 80 * MILLION), (50 * MILLION, 70 * MILLION), (None, D(0))]
    assert wave_allowances(300 * MILLION, waves, carry_over=True) == [
        D("0.00"), D("0.00"), 150 * MILLION]


def test_wave_allowances_remaining_wave_stops_the_carry():
    waves = [(100 * MILLION, D(0)), (None, 50 * MILLION), (50 * MILLION, D(0))]
    # wave 3 only has its own budget: wave 1's unspent budget is in "what remains" already
    assert wave_allowances(300 * MILLION, waves, carry_over=True) == [
        100 * MILLION, 250 * MILLION, 50 * MILLION]


def test_wave_allowances_capped_by_what_remains_of_envelope():
    waves = [(100 * MILLION, D(0)), (100 * MILLION, D(0))]
    assert wave_allowances(150 * MILLION, waves, carry_over=True) == [
        100 * MILLION, 150 * MILLION]
    assert wave_allowances(50 * MILLION, waves, carry_over=False) == [
        50 * MILLION, 50 * MILLION]


def test_wave_allowances_overrun_floored_at_zero():
    waves = [(100 * MILLION, 120 * MILLION), (None, D(0))]
    assert wave_allowances(100 * MILLION, waves, carry_over=True) == [D("0.00"), D("0.00")]


@pytest.mark.parametrize(
    ("envelope", "waves", "message"),
    [
        (D("-1"), [(None, D(0))], "envelope: must not be negative"),
        (D("10"), [(D("1.001"), D(0))], r"waves\[0\] budget: at most 2 decimals"),
        (D("10"), [(None, D("-1"))], r"waves\[0\] committed: must not be negative"),
    ],
)
def test_wave_allowances_invalid_amount_refused(envelope, waves, message):
    with pytest.raises(AmountError, match=message):
        wave_allowances(envelope, waves, carry_over=True)


def respects_limits(envelope: int, budgets: list[int | None], committed: list[int],
                    carry_over: bool) -> bool:
    """Test oracle, in cents: the envelope and each fixed wave's budget plus carry received."""
    if sum(committed) > envelope:
        return False
    carry = 0
    for budget, spent in zip(budgets, committed, strict=True):
        if budget is None:
            carry = 0
            continue
        limit = budget + (carry if carry_over else 0)
        if spent > limit:
            return False
        carry = limit - spent
    return True


@settings(max_examples=200, deadline=None)
@given(
    envelope=st.integers(min_value=0, max_value=10**6),
    budgets=st.lists(st.none() | st.integers(min_value=0, max_value=5 * 10**5),
                     min_size=1, max_size=5),
    carry_over=st.booleans(),
    attempts=st.lists(st.tuples(st.integers(min_value=0, max_value=4),
                                st.integers(min_value=0, max_value=4 * 10**5)), max_size=25),
)
def test_wave_allowances_commitments_within_allowances_respect_limits(
        envelope, budgets, carry_over, attempts):
    committed = [0] * len(budgets)
    for wave, wanted in attempts:
        wave %= len(budgets)
        waves = [(None if budget is None else as_euros(budget), as_euros(spent))
                 for budget, spent in zip(budgets, committed, strict=True)]
        allowances = wave_allowances(as_euros(envelope), waves, carry_over)
        assert all(allowance >= 0 for allowance in allowances)
        allowance = int(allowances[wave] * 100)
        beyond = committed.copy()
        beyond[wave] += allowance + 1
        assert not respects_limits(envelope, budgets, beyond, carry_over)  # nothing more fits
        committed[wave] += min(wanted, allowance)
        assert respects_limits(envelope, budgets, committed, carry_over)
    assert sum(committed) <= envelope


# --- member_shares -----------------------------------------------------------------------


def assert_consistent_shares(award, weights, amounts, fractions):
    assert len(amounts) == len(fractions) == len(weights)
    assert sum(amounts) == award
    assert sum(fractions) == D("1.000000")
    assert str(sum(fractions)) == "1.000000"
    total_weight = sum(weights)
    for weight, amount, fraction in zip(weights, amounts, fractions, strict=True):
        assert amount.as_tuple().exponent == -2
        assert fraction.as_tuple().exponent == -6
        assert 0 <= fraction <= 1
        exact_amount = Fraction(award) * Fraction(weight) / Fraction(total_weight)
        assert abs(Fraction(amount) - exact_amount) < Fraction(CENT)
        if award:
            assert abs(Fraction(fraction) - Fraction(amount) / Fraction(award)) < ONE_MILLIONTH
        if weight == 0:
            assert amount == 0
            assert fraction == 0


def test_member_shares_seven_members_random_weights_add_up_exactly():
    rng = random.Random(2021)
    weights = [as_euros(rng.randrange(1, 10**9)) for _ in range(7)]
    award = D("4849695.00")
    amounts, fractions = member_shares(award, weights)
    assert_consistent_shares(award, weights, amounts, fractions)


def test_member_shares_three_equal_members_extra_cent_to_first():
    amounts, fractions = member_shares(D("100.00"), [D(1), D(1), D(1)])
    assert amounts == [D("33.34"), D("33.33"), D("33.33")]
    assert fractions == [D("0.333400"), D("0.333300"), D("0.333300")]


def test_member_shares_zero_weight_gets_nothing():
    amounts, fractions = member_shares(D("0.03"), [D(0), D("500"), D("500")])
    assert amounts == [D("0.00"), D("0.02"), D("0.01")]
    assert fractions == [D("0.000000"), D("0.666667"), D("0.333333")]


def test_member_shares_zero_award_fractions_follow_weights():
    amounts, fractions = member_shares(D("0"), [D(1), D(2), D(0)])
    assert amounts == [D("0.00")] * 3
    assert fractions == [D("0.333333"), D("0.666667"), D("0.000000")]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([D(0), D(0)], "at least one member must have a positive weight"),
        ([], "at least one member must have a positive weight"),
        ([D(1), D(-1)], "weight 1 must be a non-negative number"),
        ([D("Infinity")], "weight 0 must be a non-negative number"),
    ],
)
def test_member_shares_invalid_weights_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        member_shares(D("100.00"), weights)


weights_strategy = st.lists(
    st.integers(min_value=0, max_value=10**10).map(as_euros), min_size=1, max_size=12,
).filter(any)


@settings(max_examples=200, deadline=None)
@given(award_cents=st.integers(min_value=0, max_value=10**11), weights=weights_strategy)
def test_member_shares_any_weights_amounts_and_fractions_add_up(award_cents, weights):
    award = as_euros(award_cents)
    amounts, fractions = member_shares(award, weights)
    assert_consistent_shares(award, weights, amounts, fractions)


# --- months_after ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2021, 9, 1), 12, dt.date(2022, 9, 1)),  # first results at month 12
        (dt.date(2021, 9, 1), 36, dt.date(2024, 9, 1)),  # final report at the end
        (dt.date(2021, 1, 31), 1, dt.date(2021, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2021, 8, 31), 1, dt.date(2021, 9, 30)),
        (dt.date(2021, 12, 15), 1, dt.date(2022, 1, 15)),
        (dt.date(2021, 12, 31), 2, dt.date(2022, 2, 28)),
        (dt.date(2021, 6, 30), 0, dt.date(2021, 6, 30)),
        (dt.date(2021, 3, 31), -1, dt.date(2021, 2, 28)),
    ],
)
def test_months_after_same_day_clamped_to_month_end(start, months, expected):
    assert months_after(start, months) == expected


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
       months=st.integers(min_value=0, max_value=600))
def test_months_after_any_date_right_month_and_day_never_later(start, months):
    due = months_after(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day == start.day or (due.day < start.day
                                    and (due + dt.timedelta(days=1)).day == 1)


# --- documentation -----------------------------------------------------------------------


def test_grants_docstring_examples_hold():
    results = doctest.testmod(grants)
    assert results.failed == 0
    assert results.attempted >= 5


# --- refusals name what is wrong ---------------------------------------------------------------


@pytest.mark.parametrize("split", [
    lambda award: tranche_amounts(award, [D("0.50"), None]),
    lambda award: member_shares(award, [D("1")]),
])
def test_award_as_float_refused_naming_it(split):
    with pytest.raises(TypeError, match=r"^award must be a Decimal, not float$"):
        split(0.5)
    with pytest.raises(AmountError, match=r"^award: must not be negative \(got -1.00\)$"):
        split(D("-1.00"))


def test_tranche_amounts_remainder_not_last_refused_with_reason():
    with pytest.raises(ValueError, match=(
            r"^exactly one tranche, the last, must take the remainder \(share None\); "
            r"got remainder\(s\) at \[0\] of 2 tranche\(s\)$")):
        tranche_amounts(D("100.00"), [None, D("0.5")])


def test_tranche_amounts_share_as_float_refused_naming_it():
    with pytest.raises(TypeError, match=r"^share 0 must be a Decimal, not float$"):
        tranche_amounts(D("100.00"), [0.5, None])


def test_tranche_amounts_single_share_of_one_leaves_nothing_for_the_balance():
    with pytest.raises(ValueError, match=r"^fixed shares add up to 1, leaving nothing for the "
                                         r"balance$"):
        tranche_amounts(D("100.00"), [D("1"), None])


def test_member_shares_weight_as_float_or_all_zero_refused_with_reason():
    with pytest.raises(TypeError, match=r"^weight 1 must be a Decimal, not float$"):
        member_shares(D("100.00"), [D("1"), 2.0])
    with pytest.raises(ValueError, match=r"^at least one member must have a positive weight to "
                                         r"share the award$"):
        member_shares(D("100.00"), [D("0"), D("0")])
