"""Grants after the award: tranches, the final balance, wave budgets, open-data shares, due dates.

Pure Python (no Django), like the rest of the rules core. Every amount is a `Decimal` in euros,
exact to the cent; each function rounds once, at the end, so that what is paid, recovered or
published adds up exactly (RULES.md: "the tranches of one grant add up exactly to what is paid").
"""

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction

from guichet.rules.money import CENT, ZERO, AmountError, apply_rate, exact_cents

# Digits for award × share: far more than an award (14 digits) times any sensible share, so the
# product is exact and only the final rounding to the cent happens.
EXACT_PRECISION = 60
# Open data publishes each member's share of the aid as a fraction with this many decimals.
FRACTION_PLACES = 6
FRACTION_UNITS = 10**FRACTION_PLACES


# --- tranches ----------------------------------------------------------------------------


def tranche_amounts(award: Decimal, shares: Sequence[Decimal | None]) -> list[Decimal]:
    """The scheduled amount of each tranche of `award`, in the order of `shares`.

    A fixed share pays award × share rounded half up to the cent; the last tranche (share None)
    takes what the others leave, so the tranches always add up exactly to the award, whatever
    the roundings. The balance is recomputed on the final report anyway (`balance_due`): this is
    the schedule of the agreement.

    Refused (ValueError): an award that is negative or not whole cents; a share outside (0, 1];
    no remainder tranche, several, or one that is not the last; fixed shares adding up to 1 or
    more (nothing left for the balance); an award so small that its fixed tranches, each rounded
    up, already exceed it (the balance would be negative).
    """
    award = _amount("award", award)
    _check_shares(shares)
    with localcontext() as context:
        context.prec = EXACT_PRECISION
        fixed = [apply_rate(award, share, "cent_half_up") for share in shares[:-1]]
    balance = award - sum(fixed, ZERO)
    if balance < 0:
        raise ValueError(f"award {award} is too small for these shares: the fixed tranches, "
                         f"rounded to the cent, add up to {sum(fixed, ZERO)}")
    return [*fixed, balance]


def _check_shares(shares: Sequence[Decimal | None]) -> None:
    """Same rules as a call definition's tranches, so a definition that loads always splits."""
    remainders = [index for index, share in enumerate(shares) if share is None]
    if remainders != [len(shares) - 1]:
        raise ValueError("exactly one tranche, the last, must take the remainder (share None); "
                         f"got remainder(s) at {remainders} of {len(shares)} tranche(s)")
    for index, share in enumerate(shares[:-1]):
        if not isinstance(share, Decimal):
            raise TypeError(f"share {index} must be a Decimal, not {type(share).__name__}")
        if not (share.is_finite() and 0 < share <= 1):
            raise ValueError(f"share {index} must be a rate in (0, 1] (got {share})")
    fixed_total = sum(shares[:-1], Decimal(0))
    if fixed_total >= 1:
        raise ValueError(f"fixed shares add up to {fixed_total}, leaving nothing for the balance")


# --- final balance -----------------------------------------------------------------------


def balance_due(award: Decimal, eligible_base: Decimal, accepted_expenses: Decimal,
                paid: Decimal) -> Decimal:
    """What the final tranche pays (positive) or what must be recovered (negative).

    The grant finally earned is min(award, rate × accepted actual eligible expenses), the rate
    being the agreement's award / eligible_base; already paid tranches are deducted. The earned
    part is award × accepted / base rounded once, half up to the cent: rounding the rate first
    (0.7 for 4 849 695 / 6 928 135) would move the result by euros on large expenses.
    """
    award = _amount("award", award)
    base = _amount("eligible_base", eligible_base)
    accepted = _amount("accepted_expenses", accepted_expenses)
    paid = _amount("paid", paid)
    if base <= 0:
        raise ValueError(f"eligible_base must be positive (got {base})")
    return min(award, _earned_on_expenses(award, base, accepted)) - paid


def _earned_on_expenses(award: Decimal, base: Decimal, accepted: Decimal) -> Decimal:
    """award × accepted / base, half up to the cent, in integers so that nothing else rounds."""
    if accepted >= base:
        return award  # the whole award is earned; also keeps the product within MAX_AMOUNT
    numerator = _to_cents(award) * _to_cents(accepted)  # cents² ...
    denominator = _to_cents(base)  # ... / cents = cents
    return _from_cents((2 * numerator + denominator) // (2 * denominator))


def recovery_amount(balance: Decimal) -> Decimal:
    """The recovery order (ordre de reversement) for a `balance_due` result: 0 when none."""
    return max(ZERO, -balance).quantize(CENT)


def payable_amount(balance: Decimal) -> Decimal:
    """The final tranche to pay for a `balance_due` result: 0 when money is to be recovered."""
    return max(ZERO, balance).quantize(CENT)


# --- wave budgets ------------------------------------------------------------------------


def wave_allowances(envelope: Decimal, waves: Sequence[tuple[Decimal | None, Decimal]],
                    carry_over: bool) -> list[Decimal]:
    """What can still be committed in each wave now; read the one of the wave being decided.

    `waves` are in order, each (budget, committed): budget None means "what remains of the
    programme envelope"; committed is what the wave has already awarded. The rules:

    - what remains of the envelope is envelope − committed in all waves; no allowance exceeds it;
    - a "what remains" wave may commit exactly that (so unspent budgets of earlier waves reach it
      without any carry-over setting; later fixed budgets are not reserved against it);
    - a fixed-budget wave without carry-over: budget − committed;
    - a fixed-budget wave with carry-over: the unspent budget of a wave carries over to the next
      fixed-budget wave, from wave to wave, until a "what remains" wave takes everything. Put
      exactly: within a run of consecutive fixed-budget waves, at each wave, what the run has
      committed up to it never exceeds the budgets up to it. Committing in a wave is thus
      limited by its own budget plus the carry received, less what later waves of the run have
      already drawn on that carry (so awarding late in a closed wave cannot overdraw a later one).

    Never negative (0 once the limit is reached or was overrun).

    Deffinum: a 300 M€ envelope, wave 1 with 100 M€, waves 2 and 3 with "what remains" (in M€
    here for brevity; the same on euros to the cent):

    >>> def deffinum(w1, w2, w3):
    ...     waves = [(Decimal(100), Decimal(w1)), (None, Decimal(w2)), (None, Decimal(w3))]
    ...     return [str(a) for a in wave_allowances(Decimal(300), waves, carry_over=True)]
    >>> deffinum(0, 0, 0)  # before any award: wave 1 its budget, the others the whole envelope
    ['100.00', '300.00', '300.00']
    >>> deffinum(80, 0, 0)  # the 20 wave 1 left unspent remain in what waves 2 and 3 may use
    ['20.00', '220.00', '220.00']
    >>> deffinum(80, 150, 0)  # wave 3 gets what waves 1 and 2 left
    ['20.00', '70.00', '70.00']
    >>> deffinum(100, 200, 0)  # the envelope is consumed: time for the early closure
    ['0.00', '0.00', '0.00']
    """
    envelope = _amount("envelope", envelope)
    waves = [(_budget(index, budget), _amount(f"waves[{index}] committed", committed))
             for index, (budget, committed) in enumerate(waves)]
    left = max(ZERO, envelope - sum((committed for _, committed in waves), ZERO))
    allowances = []
    for index, (budget, committed) in enumerate(waves):
        if budget is None:
            room = left
        elif carry_over:
            room = _room_with_carry_over(waves, index)
        else:
            room = budget - committed
        allowances.append(max(ZERO, min(room, left)))
    return allowances


def _room_with_carry_over(waves: list[tuple[Decimal | None, Decimal]], index: int) -> Decimal:
    """Smallest slack (budgets − committed, summed from the run's start) from `index` on."""
    start = index
    while start > 0 and waves[start - 1][0] is not None:
        start -= 1
    slack = sum((budget - committed for budget, committed in waves[start:index]), ZERO)
    room = None
    for budget, committed in waves[index:]:
        if budget is None:
            break
        slack += budget - committed
        room = slack if room is None else min(room, slack)
    return room


def _budget(index: int, budget: Decimal | None) -> Decimal | None:
    return None if budget is None else _amount(f"waves[{index}] budget", budget)


# --- open data ---------------------------------------------------------------------------


def member_shares(award: Decimal, weights: Sequence[Decimal]) -> tuple[list[Decimal],
                                                                        list[Decimal]]:
    """Split `award` between consortium members for open data (one SCDL row per member).

    Returns (amounts, fractions), in the order of `weights` (each member's eligible expenses):
    amounts to the cent in proportion to the weights, adding up exactly to the award; fractions
    amount / award with 6 decimals (`pourcentageSubvention`), adding up exactly to 1.000000, so
    that a reader summing the published rows finds the grant. Both use the largest-remainder
    method, which keeps every member within one unit (a cent, a millionth) of its exact part. A
    zero weight gets nothing. With an award of 0 the fractions follow the weights.

    Refused: a negative or non-finite weight, no positive weight, an award not in whole cents.
    """
    award = _amount("award", award)
    exact_weights = _member_weights(weights)
    cents = _largest_remainder(_to_cents(award), exact_weights)
    basis = [Fraction(amount) for amount in cents] if award else exact_weights
    millionths = _largest_remainder(FRACTION_UNITS, basis)
    fractions = [Decimal(units).scaleb(-FRACTION_PLACES) for units in millionths]
    return [_from_cents(amount) for amount in cents], fractions


def _member_weights(weights: Sequence[Decimal]) -> list[Fraction]:
    exact = []
    for index, weight in enumerate(weights):
        if not isinstance(weight, Decimal):
            raise TypeError(f"weight {index} must be a Decimal, not {type(weight).__name__}")
        if not (weight.is_finite() and weight >= 0):
            raise ValueError(f"weight {index} must be a non-negative number (got {weight})")
        exact.append(Fraction(weight))
    if not any(exact):
        raise ValueError("at least one member must have a positive weight to share the award")
    return exact


def _largest_remainder(total: int, weights: Sequence[Fraction]) -> list[int]:
    """`total` whole units in proportion to `weights`, adding up exactly to `total`.

    Each gets the whole part of its exact quota; the units left over (fewer than the members
    with a fractional part) go one each to the largest fractional parts, ties to the earlier
    member, so the result is reproducible and a zero weight never receives a unit.
    """
    weight_sum = sum(weights)
    quotas = [total * weight / weight_sum for weight in weights]
    units = [math.floor(quota) for quota in quotas]
    left_over = total - sum(units)
    by_remainder = sorted(range(len(quotas)), key=lambda i: units[i] - quotas[i])  # stable
    for index in by_remainder[:left_over]:
        units[index] += 1
    return units


# --- dates -------------------------------------------------------------------------------


def months_after(start: dt.date, months: int) -> dt.date:
    """The same day `months` later (earlier if negative), clamped to the end of a shorter month.

    Report due dates count in months from the start of the project: 31 January + 1 month is
    28 (or 29) February, never 3 March.
    """
    month_index = start.year * 12 + start.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def final_report_due(start: dt.date, duration_months: int, delay_months: int) -> dt.date:
    """When the final report is due: the end of the project plus the call's delay. The balance
    (the last tranche) is paid on it, so this is also the planned date of the last payment."""
    return months_after(start, duration_months + delay_months)


# --- cents -------------------------------------------------------------------------------


def _amount(name: str, value: Decimal) -> Decimal:
    """`value` as exact cents, or an error naming the amount; a float is refused, not rounded."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    try:
        return exact_cents(value)
    except AmountError as exc:
        raise AmountError(f"{name}: {exc} (got {value})") from None


def _to_cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def _from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)
