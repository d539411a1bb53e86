"""Money: exact cents as Decimal, the call's roundings, French and English typography."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.rules.money import (
    MAX_AMOUNT,
    AmountError,
    apply_rate,
    exact_cents,
    format_eur_en,
    format_eur_fr,
    format_percent,
    parse_amount,
    ratio,
)

NNBSP = "\u202f"  # narrow no-break space: French thousands separator
NBSP = "\u00a0"  # no-break space before the euro sign
MAX_CENTS = int(MAX_AMOUNT * 100)
RATE_70 = Decimal("0.70")

cents = st.integers(min_value=0, max_value=MAX_CENTS)


def as_euros(amount_in_cents: int) -> Decimal:
    return Decimal(amount_in_cents).scaleb(-2)


# --- exact_cents ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_amount", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1234.5", "1234.50"),
        ("7", "7.00"),
        ("0", "0.00"),
        ("0.01", "0.01"),
        ("1E+2", "100.00"),
    ],
)
def test_exact_cents_up_to_two_decimals_kept_with_two_decimals(given_amount, expected):
    result = exact_cents(Decimal(given_amount))
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("given_amount", ["0.001", "1234.567", "0.005", "999.999"])
def test_exact_cents_three_decimals_refused(given_amount):
    with pytest.raises(AmountError, match="at most 2 decimals"):
        exact_cents(Decimal(given_amount))


@pytest.mark.parametrize("given_amount", ["-0.01", "-1", "-500000.00"])
def test_exact_cents_negative_refused(given_amount):
    with pytest.raises(AmountError, match="must not be negative"):
        exact_cents(Decimal(given_amount))


@pytest.mark.parametrize("given_amount", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_exact_cents_non_finite_refused(given_amount):
    with pytest.raises(AmountError, match="not a finite number"):
        exact_cents(Decimal(given_amount))


@pytest.mark.parametrize("given_amount", ["-0", "-0.00", "-0.0"])
def test_exact_cents_negative_zero_becomes_zero(given_amount):
    result = exact_cents(Decimal(given_amount))
    assert str(result) == "0.00"
    assert not result.is_signed()


def test_exact_cents_max_amount_accepted():
    assert exact_cents(Decimal("999999999999.99")) == MAX_AMOUNT
    assert str(exact_cents(MAX_AMOUNT)) == "999999999999.99"


@pytest.mark.parametrize("given_amount", ["1000000000000.00", "1E+30", "1E+400"])
def test_exact_cents_above_max_amount_refused(given_amount):
    assert Decimal(given_amount) > MAX_AMOUNT
    with pytest.raises(AmountError, match="too large"):
        exact_cents(Decimal(given_amount))


def test_exact_cents_one_cent_above_max_amount_refused():
    with pytest.raises(AmountError, match="too large"):
        exact_cents(MAX_AMOUNT + Decimal("0.01"))


def test_parse_amount_string_with_spaces_read_exactly():
    assert str(parse_amount(" 1234.5 ")) == "1234.50"


@pytest.mark.parametrize("text", ["abc", "1,5", "", "12.3.4"])
def test_parse_amount_not_a_number_refused(text):
    with pytest.raises(AmountError, match="not a decimal amount"):
        parse_amount(text)


# --- apply_rate ----------------------------------------------------------------------------


def test_apply_rate_published_deffinum_award_rounded_half_up_to_the_euro():
    base = Decimal("6928135.00")
    assert base * RATE_70 == Decimal("4849694.5")
    cap = apply_rate(base, RATE_70, "euro_half_up")
    assert cap == Decimal("4849695")
    assert str(cap) == "4849695.00"


def test_apply_rate_published_base_with_cent_roundings_keeps_the_half_euro():
    base = Decimal("6928135.00")
    assert str(apply_rate(base, RATE_70, "cent_half_up")) == "4849694.50"
    assert str(apply_rate(base, RATE_70, "cent_down")) == "4849694.50"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("6928134.99", "4849694.00"),  # 4849694.493: below the half euro
        ("6928135.00", "4849695.00"),  # 4849694.5: exactly the half euro, rounded up
        ("6928135.01", "4849695.00"),  # 4849694.507
        ("4.99", "3.00"),  # 3.493
        ("5.00", "4.00"),  # 3.5
        ("5.01", "4.00"),  # 3.507
    ],
)
def test_apply_rate_euro_half_up_one_cent_around_half_euro(base, expected):
    assert str(apply_rate(Decimal(base), RATE_70, "euro_half_up")) == expected


@pytest.mark.parametrize(
    ("base", "expected"),
    [("1.04", "0.10"), ("1.05", "0.11"), ("1.06", "0.11")],  # 0.104, 0.105, 0.106
)
def test_apply_rate_cent_half_up_one_cent_around_half_cent(base, expected):
    assert str(apply_rate(Decimal(base), Decimal("0.10"), "cent_half_up")) == expected


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("240000.00", "72000.00"),  # 72000.000
        ("240000.01", "72000.00"),  # 72000.003
        ("240000.03", "72000.00"),  # 72000.009: never rounded up
        ("240000.04", "72000.01"),  # 72000.012
    ],
)
def test_apply_rate_cent_down_floors_to_the_cent(base, expected):
    assert str(apply_rate(Decimal(base), Decimal("0.30"), "cent_down")) == expected


def test_apply_rate_unknown_rounding_refused_naming_it():
    with pytest.raises(ValueError, match="'bankers'"):
        apply_rate(Decimal("100.00"), RATE_70, "bankers")


def test_ratio_aid_over_base_four_decimals():
    assert str(ratio(Decimal("560000.00"), Decimal("800000.00"))) == "0.7000"
    assert str(ratio(Decimal("4849695.00"), Decimal("6928135.00"))) == "0.7000"
    assert str(ratio(Decimal("1"), Decimal("3"))) == "0.3333"


def test_ratio_zero_denominator_is_none():
    assert ratio(Decimal("100.00"), Decimal("0.00")) is None


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(cents, max_size=60))
def test_sum_of_cent_amounts_never_loses_a_cent(amounts):
    total = sum([exact_cents(as_euros(amount)) for amount in amounts], Decimal("0.00"))
    assert total == Decimal(sum(amounts)) / 100
    assert total * 100 == sum(amounts)
    assert total.as_tuple().exponent == -2


@settings(max_examples=200, deadline=None)
@given(cents)
def test_aid_cap_euro_half_up_is_whole_euros_written_to_the_cent(base_cents):
    base = as_euros(base_cents)
    cap = apply_rate(base, RATE_70, "euro_half_up")
    assert cap.as_tuple().exponent == -2
    assert cap == cap.to_integral_value()
    assert cap == (base * RATE_70 + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR")


@settings(max_examples=200, deadline=None)
@given(cents, st.integers(min_value=1, max_value=100))
def test_aid_cap_within_half_euro_of_rate_times_base(base_cents, percent):
    base, rate = as_euros(base_cents), Decimal(percent).scaleb(-2)
    exact = base * rate
    assert abs(apply_rate(base, rate, "euro_half_up") - exact) <= Decimal("0.50")
    assert abs(apply_rate(base, rate, "cent_half_up") - exact) <= Decimal("0.005")
    assert Decimal(0) <= exact - apply_rate(base, rate, "cent_down") < Decimal("0.01")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=50_000_000, max_value=MAX_CENTS))
def test_cofinancing_floor_at_least_thirty_percent_less_half_euro(base_cents):
    base = as_euros(base_cents)
    floor = base - apply_rate(base, RATE_70, "euro_half_up")
    assert floor >= base * Decimal("0.30") - Decimal("0.50")
    assert floor > 0


# --- typography ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234567.89", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        ("4849695.00", f"4{NNBSP}849{NNBSP}695,00{NBSP}€"),
        ("999.5", f"999,50{NBSP}€"),
        ("0.00", f"0,00{NBSP}€"),
        ("1000", f"1{NNBSP}000,00{NBSP}€"),
        ("-1234.50", f"-1{NNBSP}234,50{NBSP}€"),
    ],
)
def test_format_eur_fr_french_typography(amount, expected):
    assert format_eur_fr(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234567.89", "€1,234,567.89"),
        ("4849695.00", "€4,849,695.00"),
        ("999.5", "€999.50"),
        ("0.00", "€0.00"),
        ("-1234.50", "-€1,234.50"),
    ],
)
def test_format_eur_en_english_typography(amount, expected):
    assert format_eur_en(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("rate", "expected"), [("0.70", "70"), ("0.30", "30"), ("0.305", "30.5"), ("1", "100")]
)
def test_format_percent_no_trailing_zeros(rate, expected):
    assert format_percent(Decimal(rate)) == expected


def test_ratio_exact_half_rounded_up_not_to_even():
    assert ratio(Decimal("1"), Decimal("800")) == Decimal("0.0013")  # 0.00125
    assert ratio(Decimal("1"), Decimal("8"), places=2) == Decimal("0.13")  # 0.125
    assert ratio(Decimal("-1"), Decimal("8"), places=2) == Decimal("-0.13")
