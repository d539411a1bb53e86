import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from guichet.calls.services import load_call
from guichet.core.clock import in_paris, now
from guichet.core.errors import ServiceError
from guichet.rules.definition import DefinitionError


class Command(BaseCommand):
    help = "Create or update a call (programme, call, waves) from its definition file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="call definition file, e.g. calls/deffinum.toml")
        parser.add_argument("--demo", action="store_true",
                            help="move the waves around today so that one is open (demo only)")
        parser.add_argument("--today", type=dt.date.fromisoformat,
                            help="the day --demo moves the waves around (default: today)")

    def handle(self, *args, path, demo, today, **options):
        demo_today = (today or in_paris(now()).date()) if demo else None
        try:
            result = load_call(path, demo_today=demo_today)
        except (DefinitionError, ServiceError) as exc:
            raise CommandError(str(exc)) from None
        call = result.call
        state = "created" if result.created else "updated"
        self.stdout.write(f"call {call.code} {state} (rules {call.rules_version}, "
                          f"{call.waves.count()} waves{', re-dated for the demo' if demo else ''})")
