"""The envelope forecast of a call's open wave, read from the database (rules.forecast).

The pipeline is what may still take money from the wave: the call's drafts, the wave's dossiers
submitted or waiting for a correction, those instructed eligible (scored once an expert has
handed in a review). Dossiers found ineligible, decided, or of other waves are out. The budget
is what the wave can still commit (grants.selectors.allowances); the rates come from the call's
earlier waves.
"""

from django.db.models import Exists, OuterRef, Q, Sum

from guichet.calls.models import Call, Wave
from guichet.calls.services import open_wave
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.selectors import allowances
from guichet.review.models import Assignment
from guichet.rules.forecast import Entry, Forecast, forecast, observed_rates
from guichet.rules.money import ZERO

WAITING = (DossierStatus.SUBMITTED, DossierStatus.CORRECTION_REQUESTED)


def wave_forecast(call: Call, now) -> tuple[Wave, Forecast] | None:
    """The forecast of the wave open at `now`, or None when no wave is open."""
    wave = open_wave(call, now)
    if wave is None:
        return None
    return wave, forecast(_pipeline(call, wave), allowances(call)[wave.pk],
                          _rates(call, wave), opens_at=wave.opens_at,
                          closes_at=wave.closes_at, now=now)


def _pipeline(call: Call, wave: Wave) -> list[Entry]:
    drafts = (Dossier.objects.filter(call=call, status=DossierStatus.DRAFT)
              .annotate(aid=Sum("financing__amount", filter=Q(financing__source="aid")))
              .values_list("aid", "created_at"))
    reviewed = Assignment.objects.filter(dossier=OuterRef("pk"), submitted_at__isnull=False)
    judged = (Dossier.objects.filter(wave=wave)
              .filter(Q(status__in=WAITING) | Q(status=DossierStatus.INSTRUCTED,
                                                 instruction__eligible=True))
              .annotate(scored=Exists(reviewed))
              .values_list("status", "scored", "requested_aid", "created_at"))
    entries = [Entry("draft", aid or ZERO, created) for aid, created in drafts]
    for status, scored, aid, created in judged:
        stage = ("submitted" if status in WAITING else "scored" if scored else "eligible")
        entries.append(Entry(stage, aid or ZERO, created))
    return entries


def _rates(call: Call, wave: Wave):
    earlier = call.waves.filter(position__lt=wave.position)
    last_close = earlier.order_by("-position").values_list("closes_at", flat=True).first()
    if last_close is None:
        return observed_rates(0, 0, 0, 0)
    decided = Dossier.objects.filter(wave__in=earlier)
    return observed_rates(
        drafts=Dossier.objects.filter(call=call, status=DossierStatus.DRAFT,
                                      created_at__lt=last_close).count(),
        submitted=decided.count(),
        eligible=decided.filter(instruction__eligible=True).count(),
        selected=decided.filter(status=DossierStatus.SELECTED).count())
