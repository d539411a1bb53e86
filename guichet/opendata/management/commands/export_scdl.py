from django.core.management.base import BaseCommand

from guichet.calls.commands import call_from_argument
from guichet.opendata.scdl import write_scdl


class Command(BaseCommand):
    help = ("Print the open-data file of a call's signed grants (SCDL « subventions » 2.1.1, "
            "UTF-8 CSV, one row per consortium member).")

    def add_arguments(self, parser):
        parser.add_argument("call", help="the call's code, e.g. deffinum")

    def handle(self, *args, call, **options):
        write_scdl(call_from_argument(call), self.stdout)
