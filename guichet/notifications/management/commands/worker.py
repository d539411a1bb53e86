import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run a Celery worker for the outbox and the periodic jobs (`celery -A guichet.celery "
            "worker`); extra arguments go to Celery. Needs REDIS_URL (or CELERY_BROKER_URL).")
    celery_command = "worker"

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs="*", help="passed on to celery")

    def handle(self, *args, celery_args, **options):
        from django.conf import settings

        if not settings.CELERY_BROKER_URL:
            self.stderr.write("No broker: set REDIS_URL. Without it, background work runs "
                              "in-process and no worker is needed.")
            sys.exit(2)
        argv = [sys.executable, "-m", "celery", "-A", "guichet.celery", self.celery_command,
                *self.extra_arguments(), *celery_args]
        os.execv(sys.executable, argv)

    def extra_arguments(self) -> list[str]:
        return ["--loglevel", "INFO"]
