from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.core.backups import BackupRefused, restore_backup


class Command(BaseCommand):
    help = ("Restore the backup in DIR into this instance, which must be empty (a new "
            "database, an empty file storage). Every SHA-256 of the manifest is checked "
            "first: a backup that differs from it is refused, and nothing is restored.")

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory, **options):
        try:
            restored = restore_backup(directory)
        except BackupRefused as refused:
            raise CommandError(f"restore refused: {refused}") from refused
        self.stdout.write(f"restored from {directory}: the database and {restored.files} "
                          f"files; {restored.next_step}", self.style.SUCCESS)
