from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.core.backups import BackupRefused, create_backup


class Command(BaseCommand):
    help = ("Write a backup into DIR (new or empty): the database (pg_dump custom format, or "
            "SQLite's online backup), every stored file, and manifest.json with the SHA-256 "
            "of each, the version, the applied migrations and the time (UTC).")

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory, **options):
        try:
            manifest = create_backup(directory)
        except BackupRefused as refused:
            raise CommandError(f"backup refused: {refused}") from refused
        self.stdout.write(f"backup written to {directory}: {manifest['database']['path']} "
                          f"({manifest['database']['size']} bytes) and "
                          f"{len(manifest['files'])} files, at {manifest['created_at']}",
                          self.style.SUCCESS)
