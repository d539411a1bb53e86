"""Money in euros, exact to the cent, as `Decimal` (never a binary float)."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
EURO = Decimal("1")
ZERO = Decimal("0.00")
# Matches the database columns (14 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("999999999999.99")

ROUNDINGS = ("euro_half_up", "cent_half_up", "cent_down")
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


class AmountError(ValueError):
    """An amount that is not a whole, non-negative number of cents."""


def exact_cents(value: Decimal) -> Decimal:
    """Return `value` with exactly two decimals, refusing anything that would lose a cent."""
    try:
        cents = value.quantize(CENT)
        if cents == value and not cents.is_signed() and cents <= MAX_AMOUNT:
            return cents  # the common case, checked with the fewest operations
    except InvalidOperation:
        pass
    return _exact_cents_or_reason(value)


def _exact_cents_or_reason(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise AmountError("not a finite number")
    if value < 0:
        raise AmountError("must not be negative")
    if value > MAX_AMOUNT:
        raise AmountError(f"too large (at most {MAX_AMOUNT})")
    cents = value.quantize(CENT)
    if cents != value:
        raise AmountError("at most 2 decimals (whole cents)")
    return cents.copy_abs()  # -0.00 is zero


def parse_amount(text: str) -> Decimal:
    """Parse a decimal string such as "1234.50" into exact cents."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise AmountError(f"not a decimal amount: {text!r}") from exc
    return exact_cents(value)


def apply_rate(base: Decimal, rate: Decimal, rounding: str) -> Decimal:
    """`rate` × `base`, rounded as the call definition says, returned with two decimals."""
    product = base * rate
    if rounding == "euro_half_up":
        return product.quantize(EURO, ROUND_HALF_UP).quantize(CENT)
    if rounding == "cent_half_up":
        return product.quantize(CENT, ROUND_HALF_UP)
    if rounding == "cent_down":
        return product.quantize(CENT, ROUND_DOWN)
    raise ValueError(f"unknown rounding {rounding!r}; expected one of {ROUNDINGS}")


def ratio(numerator: Decimal, denominator: Decimal, places: int = 4) -> Decimal | None:
    """numerator / denominator rounded half up to `places` decimals; None when undefined."""
    if not denominator:
        return None
    return (numerator / denominator).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def format_eur_fr(amount: Decimal) -> str:
    """French typography: 1 234 567,89 € (narrow no-break spaces)."""
    grouped = f"{amount:,.2f}".replace(",", NARROW_NBSP).replace(".", ",")
    return f"{grouped}{NBSP}€"


def format_eur_en(amount: Decimal) -> str:
    """English typography: €1,234,567.89."""
    grouped = f"{abs(amount):,.2f}"
    return f"-€{grouped}" if amount < 0 else f"€{grouped}"


def format_percent(rate: Decimal) -> str:
    """0.70 -> "70", 0.305 -> "30.5" (no trailing zeros)."""
    return f"{(rate * 100).normalize():f}"
