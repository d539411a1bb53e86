from django.core.management.base import BaseCommand

from guichet.notifications.outbox import sweep


class Command(BaseCommand):
    help = ("Hand over again the outbox rows left pending (a crash after commit, a lost broker "
            "message, a retry due): what `guichet scheduler` runs every minute, for a cron "
            "without Celery.")

    def handle(self, *args, **options):
        self.stdout.write(f"{sweep()} outbox rows handed over")
