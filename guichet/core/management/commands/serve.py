"""`guichet serve [gunicorn options]`: the production server (gunicorn, guichet/gunicorn_conf.py).

The process becomes gunicorn (exec), so that the signals of a supervisor (TERM: graceful stop,
HUP: reload, TTIN/TTOU: more or fewer workers) reach its master directly.
"""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Guichet with gunicorn (settings: guichet/gunicorn_conf.py and the environment)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="address:port (default GUNICORN_BIND or "
                            "127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, help="worker processes (default "
                            "WEB_CONCURRENCY or 2 × CPUs + 1)")

    def handle(self, *args, bind=None, workers=None, **options):
        command = [sys.executable, "-m", "gunicorn", "--config", "python:guichet.gunicorn_conf"]
        if bind:
            command += ["--bind", bind]
        if workers:
            command += ["--workers", str(workers)]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [*command, "guichet.wsgi:application"])
