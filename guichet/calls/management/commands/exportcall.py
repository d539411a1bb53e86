from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.calls.commands import call_from_argument
from guichet.calls.editor import export_toml


class Command(BaseCommand):
    help = ("Write the definition a call runs now as a TOML file that `guichet loadcall` and "
            "`guichet check --call` read.")

    def add_arguments(self, parser):
        parser.add_argument("code", help="the call's code, e.g. deffinum")
        parser.add_argument("-o", "--output", help="the file to write (default: stdout)")

    def handle(self, *args, code, output, **options):
        text = export_toml(call_from_argument(code))
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        self.stderr.write(f"call {code} written to {output}")
