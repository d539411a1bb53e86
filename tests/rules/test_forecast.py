"""The envelope forecast on generated pipelines whose exhaustion date is known."""

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from guichet.rules.forecast import Entry, Rates, forecast, observed_rates

PARIS = ZoneInfo("Europe/Paris")
OPENS = dt.datetime(2026, 3, 2, 0, 0, tzinfo=PARIS)
CLOSES = dt.datetime(2026, 6, 30, 12, 0, tzinfo=PARIS)
NOW = OPENS + dt.timedelta(days=20)


def steady(count: int, aid: str, stage="submitted", days: int = 20) -> list[Entry]:
    """`count` dossiers of `aid` each, arrived at a steady pace over the `days` before NOW."""
    step = dt.timedelta(days=days) / count
    return [Entry(stage, Decimal(aid), NOW - step * index) for index in range(count)]


def test_forecast_steady_pipeline_runs_out_on_the_known_day():
    # 20 dossiers of 50 000 € in 20 days: 1 M€ expected now, 50 000 € a day; 2 M€ of budget.
    result = forecast(steady(20, "50000.00"), Decimal("2000000.00"), Rates(),
                      opens_at=OPENS, closes_at=CLOSES, now=NOW)
    assert result.expected_now == Decimal("1000000.00")
    assert result.per_day == Decimal("50000.00")
    assert result.exhausted_at == NOW + dt.timedelta(days=20)
    assert result.earliest < result.exhausted_at < result.latest
    assert result.before_deadline is True


def test_forecast_rates_of_earlier_waves_slow_the_consumption():
    rates = Rates(submitted=Decimal("1"), eligible=Decimal("0.5"), selected=Decimal("1"))
    result = forecast(steady(20, "50000.00"), Decimal("2000000.00"), rates,
                      opens_at=OPENS, closes_at=CLOSES, now=NOW)
    # Half as much expected now (500 000 €) and per day (25 000 €): 60 days to go.
    assert result.expected_now == Decimal("500000.00")
    assert result.exhausted_at == NOW + dt.timedelta(days=60)


def test_forecast_drafts_weigh_by_every_stage_left():
    rates = Rates(submitted=Decimal("0.5"), eligible=Decimal("0.8"), selected=Decimal("0.5"))
    assert rates.funded("draft") == Decimal("0.2")
    assert rates.funded("submitted") == Decimal("0.4")
    assert rates.funded("scored") == Decimal("0.5")
    result = forecast([Entry("draft", Decimal("100000.00"), NOW)], Decimal("1000000.00"),
                      rates, opens_at=OPENS, closes_at=CLOSES, now=NOW)
    assert result.expected_now == Decimal("20000.00")


def test_forecast_pipeline_already_above_budget_is_exhausted_now():
    result = forecast(steady(10, "300000.00"), Decimal("2000000.00"), Rates(),
                      opens_at=OPENS, closes_at=CLOSES, now=NOW)
    assert (result.exhausted_at, result.earliest) == (NOW, NOW)


def test_forecast_no_arrival_never_runs_out():
    result = forecast([], Decimal("2000000.00"), Rates(), opens_at=OPENS, closes_at=CLOSES,
                      now=NOW)
    assert (result.exhausted_at, result.earliest, result.latest) == (None, None, None)
    assert result.before_deadline is False


def test_forecast_after_the_deadline_is_not_a_warning():
    # 5 000 € a day against 2 M€: 400 days, well after the close of the wave.
    result = forecast(steady(20, "5000.00"), Decimal("2000000.00"), Rates(),
                      opens_at=OPENS, closes_at=CLOSES, now=NOW)
    assert result.exhausted_at == NOW + dt.timedelta(days=380)
    assert result.before_deadline is False


def _simulated_wave(seed: int) -> tuple[list[Entry], dt.datetime]:
    """Dossiers arriving as a Poisson process of 2 a day, each asking 100 000 to 400 000 €,
    and the instant their running total really reached BUDGET."""
    generator = random.Random(seed)
    arrivals, instant, total = [], OPENS, Decimal(0)
    while True:
        instant += dt.timedelta(days=generator.expovariate(2.0))
        arrivals.append(Entry("submitted", Decimal(generator.randrange(100_000, 400_000)),
                              instant))
        total += arrivals[-1].aid
        if total >= BUDGET:
            return arrivals, instant


BUDGET = Decimal("12000000.00")


def test_forecast_interval_holds_the_true_date_of_nine_simulated_waves_in_ten():
    """200 simulated waves, each forecast on day 15: the 90 % interval holds the day the
    simulated consumption really reached the budget in at least 85 % of them, and the point
    forecast is off by less than 3 days in half of them."""
    now = OPENS + dt.timedelta(days=15)
    held, errors = 0, []
    for seed in range(200):
        arrivals, truth = _simulated_wave(seed)
        seen = [entry for entry in arrivals if entry.entered_at <= now]
        result = forecast(seen, BUDGET, Rates(), opens_at=OPENS, closes_at=CLOSES, now=now)
        held += result.earliest <= truth <= result.latest
        errors.append(abs((result.exhausted_at - truth) / dt.timedelta(days=1)))
    assert held >= 170, held
    assert sorted(errors)[100] < 3, sorted(errors)[100]


def test_observed_rates_from_counts_of_earlier_waves():
    rates = observed_rates(drafts=30, submitted=70, eligible=56, selected=28)
    assert (rates.submitted, rates.eligible, rates.selected) == (
        Decimal("0.7"), Decimal("0.8"), Decimal("0.5"))
    assert rates.observed is True
    assert observed_rates(drafts=5, submitted=0, eligible=0, selected=0) == Rates()
