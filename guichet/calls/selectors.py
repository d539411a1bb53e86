"""Read-only questions about calls, shaped for pages."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from guichet.calls.models import Call, Wave
from guichet.core.clock import in_paris
from guichet.rules.money import format_eur_en, format_eur_fr


@dataclass(frozen=True)
class WaveRow:
    wave: Wave
    state: str  # "open", "upcoming" or "closed"
    opens_at: dt.datetime
    closes_at: dt.datetime
    budget: str


@dataclass(frozen=True)
class CallSummary:
    call: Call
    envelope: str
    waves: list[WaveRow]


def published_calls(at: dt.datetime, language: str = "fr") -> list[CallSummary]:
    calls = Call.objects.select_related("programme").prefetch_related(
        Prefetch("waves", queryset=Wave.objects.order_by("position"))).order_by("code")
    money = format_eur_en if language == "en" else format_eur_fr
    return [CallSummary(call, money(call.programme.envelope),
                        [_wave_row(wave, call, at, money) for wave in call.waves.all()])
            for call in calls]


def _wave_row(wave: Wave, call: Call, at: dt.datetime, money) -> WaveRow:
    if call.is_closed or at >= wave.closes_at:
        state = "closed"
    elif at < wave.opens_at:
        state = "upcoming"
    else:
        state = "open"
    budget = money(wave.budget) if isinstance(wave.budget, Decimal) else ""
    return WaveRow(wave, state, in_paris(wave.opens_at), in_paris(wave.closes_at), budget)
