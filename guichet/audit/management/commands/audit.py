from django.core.management.base import BaseCommand, CommandError

from guichet.audit.services import verify_chain


class Command(BaseCommand):
    help = "Audit log tools: `verify` recomputes the hash chain and names the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at event #{report.broken_at}: {report.reason} "
                f"({report.events} events before it are intact)")
        self.stdout.write(f"audit chain intact: {report.events} events")
