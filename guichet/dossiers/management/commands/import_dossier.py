from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.core.errors import ServiceError
from guichet.dossiers.services import import_dossier


class Command(BaseCommand):
    help = ("Create a draft dossier from a guichet.dossier/1 JSON file; prints its id. Nobody "
            "can open it unless --lead-email names the account of its lead.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--lead-email", default=None,
                            help="the confirmed account that leads the dossier (it takes part "
                                 "for the lead member and can invite the others)")

    def handle(self, *args, path, lead_email, **options):
        try:
            document = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None
        try:
            result = import_dossier(document, lead_email=lead_email)
        except ServiceError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        if result.receipt_ignored:
            self.stderr.write("note: the receipt instants (submitted_at, first_submitted_at) "
                              "were not imported; only a submission on this platform issues a "
                              "receipt")
        if lead_email is None:
            self.stderr.write("note: nobody can open this dossier yet; name its lead with "
                              "--lead-email, or later with `guichet designate-lead`")
        self.stdout.write(str(result.dossier.pk))
