"""Where the money stands: envelopes, commitments, payments, the funnel, late reports."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guichet.calls.models import Call, Programme
from guichet.calls.selectors import wave_label
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.models import (
    Grant,
    GrantStatus,
    Payment,
    Report,
    ReportStatus,
    TrancheStatus,
)
from guichet.grants.selectors import allowances
from guichet.rules.money import ZERO
from guichet.rules.regions import REGIONS


@dataclass(frozen=True)
class MoneyLine:
    label: str
    envelope: Decimal | None  # None: a wave funded by what remains of the programme
    committed: Decimal
    paid: Decimal
    remaining: Decimal | None  # what can still be committed there (None for a whole call)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int
    percent: int  # of the largest bar, for drawing only


def _sum(queryset, field: str) -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


def money_lines(programme: Programme, calls=None) -> list[MoneyLine]:
    """Each of `calls` (by default every call of the programme) and its waves, after the
    programme's own line when `calls` are all of its calls: staff of one call never read the
    totals of another, not even summed into the programme's."""
    all_calls = list(programme.calls.prefetch_related("waves").order_by("code"))
    shown = all_calls if calls is None else [c for c in all_calls if c in set(calls)]
    grants = Grant.objects.filter(wave__call__in=shown)
    payments = Payment.objects.filter(tranche__grant__wave__call__in=shown)
    lines = []
    if len(shown) == len(all_calls):
        committed = _sum(grants, "award")
        lines.append(MoneyLine(programme.name, programme.envelope, committed,
                               _sum(payments, "amount"), programme.envelope - committed))
    committed_by_wave = dict(grants.values_list("wave").annotate(total=Sum("award")))
    paid_by_wave = dict(payments.values_list("tranche__grant__wave").annotate(
        total=Sum("amount")))
    for call in shown:
        waves = list(call.waves.order_by("position"))
        available = allowances(call)
        lines.append(MoneyLine(call.name, None,
                               sum((committed_by_wave.get(w.pk, ZERO) for w in waves), ZERO),
                               sum((paid_by_wave.get(w.pk, ZERO) for w in waves), ZERO), None))
        lines += [MoneyLine(f"{call.name} — {wave_label(wave, get_language())}", wave.budget,
                            committed_by_wave.get(wave.pk, ZERO), paid_by_wave.get(wave.pk, ZERO),
                            available[wave.pk])
                  for wave in waves]
    return lines


def funnel(call: Call) -> list[Bar]:
    dossiers = Dossier.objects.filter(call=call)
    counts = dossiers.aggregate(
        # distinct everywhere: the payment filter joins each grant's tranches.
        drafts=Count("pk", filter=Q(status=DossierStatus.DRAFT), distinct=True),
        submitted=Count("pk", filter=~Q(status=DossierStatus.DRAFT), distinct=True),
        eligible=Count("pk", filter=Q(instruction__eligible=True)
                       | Q(instruction__isnull=True, eligible_at_receipt=True), distinct=True),
        selected=Count("pk", filter=Q(status=DossierStatus.SELECTED), distinct=True),
        signed=Count("grant", filter=Q(grant__status__in=[GrantStatus.SIGNED,
                                                          GrantStatus.CLOSED]), distinct=True),
        paid=Count("grant", filter=Q(grant__tranches__status=TrancheStatus.PAID), distinct=True))
    labels = [("drafts", _("Brouillons")), ("submitted", _("Déposés")),
              ("eligible", _("Éligibles")), ("selected", _("Retenus")),
              ("signed", _("Conventions signées")), ("paid", _("Au moins un versement"))]
    return _bars([(label, counts[key]) for key, label in labels])


def committed_by_region(call: Call) -> list[Bar]:
    rows = Grant.objects.filter(wave__call=call, dossier__consortium__members__is_lead=True)\
        .values_list("dossier__consortium__members__organisation__region")\
        .annotate(total=Sum("award")).order_by("-total")
    return _bars([(REGIONS.get(region, "—"), total) for region, total in rows])


def committed_by_sector(call: Call) -> list[Bar]:
    labels = {sector.id: sector.label for sector in call.rules().sectors}
    rows = Grant.objects.filter(wave__call=call).values_list("dossier__sector")\
        .annotate(total=Sum("award")).order_by("-total")
    return _bars([(labels.get(sector, "—"), total) for sector, total in rows])


def late_reports(call: Call, today: dt.date):
    return Report.objects.filter(grant__wave__call=call, due_on__lt=today).exclude(
        status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED]).select_related(
        "grant__dossier").order_by("due_on")


def _bars(rows) -> list[Bar]:
    largest = max((value for _label, value in rows), default=0) or 1
    return [Bar(label, value, int(value * 100 / largest)) for label, value in rows]
