from django.core.management.base import BaseCommand, CommandError

from guichet.dossiers.format import dossier_queryset, export_dossier


class Command(BaseCommand):
    help = "Print a dossier in the interchange format (guichet.dossier/1), canonical JSON."

    def add_arguments(self, parser):
        parser.add_argument("dossier_id", type=int)

    def handle(self, *args, dossier_id, **options):
        dossier = dossier_queryset().filter(pk=dossier_id).first()
        if dossier is None:
            raise CommandError(f"no dossier with id {dossier_id}")
        self.stdout.write(export_dossier(dossier).decode())
