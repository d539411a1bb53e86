from django.core.management.base import BaseCommand

from guichet.core.clock import in_paris, now
from guichet.grants.reports import remind_reports


class Command(BaseCommand):
    help = ("E-mail grant holders whose report falls due within the call's reminder delay "
            "(run daily by a scheduler; each report is reminded once).")

    def handle(self, *args, **options):
        self.stdout.write(f"{remind_reports(in_paris(now()).date())} reminders sent")
