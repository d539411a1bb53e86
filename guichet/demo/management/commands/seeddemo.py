from django.core.management.base import BaseCommand
from django.test import override_settings

from guichet.calls.models import Call
from guichet.demo.dossiers import (
    DEMO_LEAD_EMAIL,
    DEMO_PASSWORD,
    REGIONAL_EXAMPLE,
    REGIONAL_LEAD_EMAILS,
    seed_demo,
    seed_regional_demo,
)
from guichet.demo.grants import REGIONAL_STAFF, STAFF, seed_decided_wave, seed_staff


class Command(BaseCommand):
    help = ("Create the demo accounts and dossiers (once; run `loadcall --demo` first), and "
            "those of the regional example call when it is loaded.")

    def handle(self, *args, **options):
        # The demo's receipts are not mailed to its made-up addresses.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            created = seed_demo()
            grants = seed_decided_wave(Call.objects.get(code="deffinum"))
            regional = Call.objects.filter(code=REGIONAL_EXAMPLE).first()
            if regional:
                seed_staff(regional, REGIONAL_STAFF)
                created += seed_regional_demo()
        self.stdout.write(f"{len(created)} demo dossiers created" if created
                          else "demo dossiers already present")
        if grants:
            self.stdout.write(f"{len(grants)} demo grants signed, first tranches paid")
        self.stdout.write(f"demo accounts (password {DEMO_PASSWORD}): {DEMO_LEAD_EMAIL}, "
                          f"{', '.join(STAFF.values())}")
        if regional:
            accounts = REGIONAL_LEAD_EMAILS + list(REGIONAL_STAFF.values())
            self.stdout.write(f"{regional.name}: {', '.join(accounts)}")
