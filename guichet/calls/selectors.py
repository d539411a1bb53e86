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


@dataclass(frozen=True)
class CallPage:
    """What the public page of a call says, from its definition: the rules in plain French."""

    summary: CallSummary
    rules: object  # the CallDefinition
    minimum_base: str
    aid_rate: str  # "70 %"
    cofinancing_rate: str  # the complement of the aid rate
    in_kind_rate: str
    accepting: bool  # a wave is open and the call not closed: dossiers may be started


def call_page(code: str, at: dt.datetime, language: str = "fr") -> CallPage | None:
    summary = next((entry for entry in published_calls(at, language) if entry.call.code == code),
                   None)
    if summary is None:
        return None
    rules = summary.call.rules()
    money = format_eur_en if language == "en" else format_eur_fr
    eligibility = rules.eligibility
    accepting = not summary.call.is_closed and any(row.state == "open" for row in summary.waves)
    return CallPage(summary, rules, money(eligibility.minimum_base),
                    _percent(eligibility.aid_cap_rate),
                    _percent(1 - eligibility.aid_cap_rate),
                    _percent(eligibility.in_kind_cap_rate), accepting)


def _percent(rate: Decimal) -> str:
    """0.7 -> "70 %" (no trailing zeros; a decimal comma in French)."""
    text = format((rate * 100).normalize(), "f")
    return f"{text.replace('.', ',')} %"


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


def closure_preview(call: Call, at: dt.datetime) -> dict:
    """Exactly what closing the call at `at` does (calls.services.close_call): the open wave
    closes now, the waves not yet open are cancelled, everyone with an account is told."""
    waves = list(call.waves.order_by("position"))
    return {"closing": [w for w in waves if wave_state(w, at) == "open"],
            "cancelled": [w for w in waves if wave_state(w, at) == "upcoming"],
            "recipients": account_holders(call)}
