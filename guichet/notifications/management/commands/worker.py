import contextlib
import os
import sys
from pathlib import Path

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
            lower_cpu_priority(settings.WORKER_NICENESS)
        os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "guichet.celery",
                                  self.celery_command, *self.default_arguments(), *arguments])

    def default_arguments(self) -> list[str]:
        return ["--loglevel", "INFO"]


AUTOGROUP = Path("/proc/self/autogroup")


def lower_cpu_priority(niceness: int) -> None:
    """Let the web processes come first. With Linux's autogroups (sched_autogroup_enabled),
    each session competes as one group and a process's own nice value only counts inside its
    group: a worker started in its own session (a supervisor's setsid) took as much CPU as the
    web server's whole group. The group's nice is lowered too, but only when this process
    leads its session, so that a shell or a process manager sharing the session with the web
    server is not slowed down with it."""
    os.nice(niceness)
    if os.getsid(0) == os.getpid() and AUTOGROUP.exists():
        with contextlib.suppress(OSError):  # not permitted: the process's own nice stays
            AUTOGROUP.write_text(str(niceness))
