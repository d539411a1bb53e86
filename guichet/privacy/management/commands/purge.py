import datetime as dt

from django.core.management.base import BaseCommand

from guichet.privacy.purge import purge


class Command(BaseCommand):
    help = ("Erase the personal data whose retention has ended: dossiers past the durations "
            "their call declares ([personal_data]), then applicant accounts left without a "
            "dossier and unused for ACCOUNT_RETENTION_YEARS. Amounts, SIRETs, decisions and "
            "the audit chain stay.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="say what would be erased, change nothing (accounts are "
                                 "counted as they stand: those the erased dossiers would "
                                 "leave without a dossier are not)")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="count the durations up to this day (YYYY-MM-DD; default: "
                                 "today in Paris)")

    def handle(self, *args, dry_run, today, **options):
        report = purge(today, dry_run=dry_run)
        verb = "would erase" if dry_run else "erased"
        self.stdout.write(f"{verb}: {len(report.dossiers)} dossier(s), {report.accounts} "
                          f"account(s)")
        for name in report.dossiers:
            self.stdout.write(f"  {name}")
        if not dry_run:
            self.stdout.write(f"files deleted: {report.files}; personal parts of audit events "
                              f"erased: {report.audit_parts}")
