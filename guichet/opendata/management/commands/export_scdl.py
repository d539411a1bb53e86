from django.core.management.base import BaseCommand, CommandError

from guichet.calls.models import Call
from guichet.opendata.scdl import write_scdl


class Command(BaseCommand):
    help = ("Print the open-data file of a call's signed grants (SCDL « subventions » 2.1.1, "
            "UTF-8 CSV, one row per consortium member).")

    def add_arguments(self, parser):
        parser.add_argument("call", help="the call's code, e.g. deffinum")

    def handle(self, *args, call, **options):
        found = Call.objects.filter(code=call).first()
        if found is None:
            known = ", ".join(Call.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"no call with code {call!r} (known calls: {known or 'none'})")
        write_scdl(found, self.stdout)
