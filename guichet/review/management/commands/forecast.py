import json

from django.core.management.base import BaseCommand

from guichet.calls.commands import call_from_argument
from guichet.core.clock import in_paris, now
from guichet.review.forecast import wave_forecast


def instant(value):
    """An instant in Paris time (ISO 8601 with its offset), or None."""
    return in_paris(value).isoformat() if value else None


class Command(BaseCommand):
    help = ("Print as JSON when the open wave's envelope is projected to run out, with its "
            "90 % interval, from the pipeline and the rates of the call's earlier waves.")

    def add_arguments(self, parser):
        parser.add_argument("call", help="the call's code, e.g. deffinum")

    def handle(self, *args, call, **options):
        found = wave_forecast(call_from_argument(call), now())
        if found is None:
            self.stdout.write(json.dumps({"call": call, "wave": None}))
            return
        wave, result = found
        self.stdout.write(json.dumps({
            "call": call, "wave": wave.code, "closes_at": instant(result.closes_at),
            "budget": str(result.budget), "expected_now": str(result.expected_now),
            "per_day": str(result.per_day), "exhausted_at": instant(result.exhausted_at),
            "interval_90": [instant(result.earliest), instant(result.latest)],
            "before_deadline": result.before_deadline,
            "rates": {"observed": result.rates.observed, "submitted": str(result.rates.submitted),
                      "eligible": str(result.rates.eligible),
                      "selected": str(result.rates.selected)},
        }, ensure_ascii=False, indent=2))
