"""Read-only questions about grants and money: what the envelopes can still commit, what was
paid, the accepted expenses of a report, a grant's budget as last amended."""

from decimal import Decimal

from django.db.models import Sum

from guichet.calls.models import Call, Programme
from guichet.dossiers.format import submitted_dossier
from guichet.grants.models import Grant, Payment, Report
from guichet.rules import dossier as fmt
from guichet.rules.grants import wave_allowances
from guichet.rules.money import CENT, ZERO


def committed_by_wave(call: Call) -> dict[int, Decimal]:
    rows = Grant.objects.filter(wave__call=call).values("wave").annotate(total=Sum("award"))
    return {row["wave"]: row["total"] for row in rows}


def allowances(call: Call) -> dict[int, Decimal]:
    """What each wave of the call can still commit (rules.grants.wave_allowances)."""
    waves = list(call.waves.order_by("position"))
    committed = committed_by_wave(call)
    envelope = call.programme.envelope - _committed_outside(call)
    available = wave_allowances(envelope, [(w.budget, committed.get(w.pk, ZERO)) for w in waves],
                                call.rules().funding.carry_over)
    return {wave.pk: amount for wave, amount in zip(waves, available, strict=True)}


def _committed_outside(call: Call) -> Decimal:
    """Aid the same programme committed through its other calls."""
    return Grant.objects.filter(wave__call__programme=call.programme).exclude(
        wave__call=call).aggregate(total=Sum("award"))["total"] or ZERO


def programme_remaining(programme: Programme) -> Decimal:
    committed = Grant.objects.filter(wave__call__programme=programme).aggregate(
        total=Sum("award"))["total"] or ZERO
    return programme.envelope - committed


def paid_total(grant: Grant) -> Decimal:
    """What was paid, net of reversals."""
    return Payment.objects.filter(tranche__grant=grant).aggregate(
        total=Sum("amount"))["total"] or ZERO


def accepted_expenses(report: Report) -> Decimal:
    total = report.expenses.filter(eligible=True).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(CENT)


def current_document(grant: Grant) -> fmt.Dossier:
    """The grant's dossier as last amended (the submitted one before any amendment)."""
    latest = grant.amendments.order_by("-version").first()
    if latest is not None:
        return fmt.dossier_from_builtins(latest.document)
    return submitted_dossier(grant.dossier.submissions.order_by("-version").first().snapshot)


def current_budget(grant: Grant) -> list[fmt.Expense]:
    """The grant's expense lines as last amended."""
    return list(current_document(grant).expenses)
