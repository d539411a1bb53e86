import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Run a Celery worker for the outbox and the periodic jobs (`celery -A guichet.celery "
            "worker`); every argument goes to Celery (e.g. --concurrency 4). Needs REDIS_URL "
            "(or CELERY_BROKER_URL).")
    celery_command = "worker"

    def run_from_argv(self, argv):
        """Hand the whole command line over to Celery, which has its own options."""
        self.exec_celery(argv[2:])

    def handle(self, *args, **options):
        self.exec_celery([])

    def exec_celery(self, arguments: list[str]) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError("No broker: set REDIS_URL. Without it, background work runs "
                               "in-process after each commit and no worker is needed.")
        if settings.WORKER_NICENESS > 0:  # inherited by exec and by Celery's pool processes
            os.nice(settings.WORKER_NICENESS)
        os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "guichet.celery",
                                  self.celery_command, *self.default_arguments(), *arguments])

    def default_arguments(self) -> list[str]:
        return ["--loglevel", "INFO"]
