"""Read-only questions about calls, shaped for pages."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.calls.models import Call, Wave
from guichet.core.clock import in_paris
from guichet.rules.money import format_eur_en, format_eur_fr


@dataclass(frozen=True)
class WaveRow:
    wave: Wave
    state: str  # see wave_state
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


def wave_state(wave: Wave, at: dt.datetime) -> str:
    """"cancelled" (the call closed before it opened), "closed", "upcoming" or "open"."""
    if wave.is_cancelled:
        return "cancelled"
    if wave.call.is_closed or at >= wave.closes_at:
        return "closed"
    return "upcoming" if at < wave.opens_at else "open"


def wave_label(wave: Wave, language: str = "fr") -> str:
    """The wave's name, saying so when it was cancelled."""
    name = wave.name_en if language == "en" else wave.name
    return _("%(wave)s (annulée)") % {"wave": name} if wave.is_cancelled else name


def _wave_row(wave: Wave, call: Call, at: dt.datetime, money) -> WaveRow:
    budget = money(wave.budget) if isinstance(wave.budget, Decimal) else ""
    return WaveRow(wave, wave_state(wave, at), in_paris(wave.opens_at),
                   in_paris(wave.closes_at), budget)


def account_holders(call: Call) -> list[str]:
    """Everyone with an account on the call: the participants of its dossiers and its staff."""
    applicants = User.objects.filter(participations__member__consortium__dossiers__call=call)
    staff = User.objects.filter(call_roles__call=call)
    return sorted(set(applicants.values_list("email", flat=True))
                  | set(staff.values_list("email", flat=True)))
