from django.core.management.base import BaseCommand
from django.test import override_settings

from guichet.dossiers.demo import DEMO_LEAD_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo accounts and dossiers (once; run `loadcall --demo` first)."

    def handle(self, *args, **options):
        # The demo's receipts are not mailed to its made-up addresses.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            created = seed_demo()
        self.stdout.write(f"{len(created)} demo dossiers created" if created
                          else "demo dossiers already present")
        self.stdout.write(f"demo lead account: {DEMO_LEAD_EMAIL} / {DEMO_PASSWORD}")
