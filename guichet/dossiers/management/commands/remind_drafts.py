from django.conf import settings
from django.core.management.base import BaseCommand

from guichet.core.clock import now
from guichet.dossiers.reminders import remind_drafts


class Command(BaseCommand):
    help = ("E-mail the holders of draft dossiers whose wave closes within --days "
            "(run daily by a scheduler; each dossier is reminded once per wave).")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.DEADLINE_REMINDER_DAYS)

    def handle(self, *args, days, **options):
        sent = remind_drafts(now(), days)
        self.stdout.write(f"{sent} reminders sent")
