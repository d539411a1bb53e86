"""When will a wave's envelope run out? A projection from the pipeline, with its uncertainty.

Every dossier in the pipeline (a draft, submitted, found eligible, scored) asks for some aid;
it will be funded with the probability of the stages it has still to pass, as observed in the
call's earlier waves (`Rates`; without history, every stage is passed: the cautious reading,
which warns early). What the pipeline holds today is expected to consume

    C = Σ aid_i × p_i,   with a variance V0 = Σ aid_i² × p_i × (1 − p_i),

and new dossiers keep arriving as they did since the wave opened: λ per day, each worth as
much as the dossiers seen so far (mean m, mean square s of aid × p). By τ days from now the
expected consumption is C + λ m τ, with variance V0 + λ s τ (a compound Poisson process)
+ λ s τ² / T, the error of a pace estimated over the T days the wave has been open. The
envelope B is projected to run out when the expectation reaches B; the interval is where the
band expectation ± z σ (z = 1.645: 90 %) crosses B. Amounts are exact decimals; the dates are
an estimate, computed in floating point on purpose and rounded to the minute.
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Stage = Literal["draft", "submitted", "eligible", "scored"]
STAGES: tuple[Stage, ...] = ("draft", "submitted", "eligible", "scored")
Z_90 = 1.645
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Rates:
    """Shares observed in earlier waves: drafts that were submitted, submitted dossiers found
    eligible, eligible (or scored) dossiers selected."""

    submitted: Decimal = Decimal(1)
    eligible: Decimal = Decimal(1)
    selected: Decimal = Decimal(1)
    observed: bool = False  # False: no earlier wave, every rate is 1

    def funded(self, stage: Stage) -> Decimal:
        """The probability that a dossier at `stage` is funded."""
        remaining = {"draft": (self.submitted, self.eligible, self.selected),
                     "submitted": (self.eligible, self.selected),
                     "eligible": (self.selected,), "scored": (self.selected,)}[stage]
        return math.prod(remaining, start=Decimal(1))


@dataclass(frozen=True)
class Entry:
    stage: Stage
    aid: Decimal
    entered_at: dt.datetime  # when it entered the pipeline (the draft was created)


@dataclass(frozen=True)
class Forecast:
    budget: Decimal
    expected_now: Decimal  # C: the aid the pipeline is expected to consume
    per_day: Decimal  # λ m: the expected aid that arrives per day
    exhausted_at: dt.datetime | None  # None: not before the horizon at this pace
    earliest: dt.datetime | None
    latest: dt.datetime | None
    closes_at: dt.datetime
    rates: Rates

    @property
    def before_deadline(self) -> bool:
        return self.exhausted_at is not None and self.exhausted_at < self.closes_at


def forecast(entries: list[Entry], budget: Decimal, rates: Rates, *, opens_at: dt.datetime,
             closes_at: dt.datetime, now: dt.datetime, horizon_days: int = 730) -> Forecast:
    """The projection for one wave at `now` (see the module's docstring)."""
    values = [(entry.aid, rates.funded(entry.stage)) for entry in entries]
    expected = sum((aid * p for aid, p in values), Decimal(0))
    variance = sum(float(aid) ** 2 * float(p) * (1 - float(p)) for aid, p in values)
    arrived = [float(aid * p) for entry, (aid, p) in zip(entries, values, strict=True)
               if opens_at <= entry.entered_at <= now]
    elapsed = max((now - opens_at) / DAY, 0.0)
    per_day = len(arrived) / elapsed if elapsed > 0 else 0.0
    mean = sum(arrived) / len(arrived) if arrived else 0.0
    square = sum(value ** 2 for value in arrived) / len(arrived) if arrived else 0.0

    def crossing(z: float) -> dt.datetime | None:
        """The first instant when C + λ m τ + z σ(τ) reaches the budget."""
        def level(tau: float) -> float:
            spread = per_day * square * (tau + tau * tau / elapsed) if elapsed else 0.0
            sigma = math.sqrt(max(variance + spread, 0.0))
            return float(expected) + per_day * mean * tau + z * sigma - float(budget)
        if level(0.0) >= 0:
            return now
        if level(horizon_days) < 0:
            return None
        low, high = 0.0, float(horizon_days)
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (low, middle) if level(middle) >= 0 else (middle, high)
        return (now + dt.timedelta(days=high)).replace(second=0, microsecond=0)

    return Forecast(budget=budget, expected_now=expected.quantize(Decimal("0.01")),
                    per_day=Decimal(str(round(per_day * mean, 2))),
                    exhausted_at=crossing(0.0), earliest=crossing(Z_90),
                    latest=crossing(-Z_90), closes_at=closes_at, rates=rates)


def observed_rates(drafts: int, submitted: int, eligible: int, selected: int) -> Rates:
    """The rates of earlier waves from their counts: `drafts` abandoned drafts, `submitted`
    dossiers, of which `eligible` found eligible, of which `selected` selected."""
    if submitted == 0:
        return Rates()
    return Rates(submitted=_share(submitted, drafts + submitted),
                 eligible=_share(eligible, submitted),
                 selected=_share(selected, eligible) if eligible else Decimal(0),
                 observed=True)


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))
