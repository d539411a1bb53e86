from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.core.errors import ServiceError
from guichet.dossiers.services import import_dossier


class Command(BaseCommand):
    help = "Create a draft dossier from a guichet.dossier/1 JSON file; prints its id."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            document = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None
        try:
            result = import_dossier(document)
        except ServiceError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        if result.receipt_ignored:
            self.stderr.write("note: the receipt instants (submitted_at, first_submitted_at) "
                              "were not imported; only a submission on this platform issues a "
                              "receipt")
        self.stdout.write(str(result.dossier.pk))
