from django.core.management.base import BaseCommand

from guichet.dossiers.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo dossiers (once; run `loadcall --demo` first)."

    def handle(self, *args, **options):
        created = seed_demo()
        self.stdout.write(f"{len(created)} demo dossiers created" if created
                          else "demo dossiers already present")
