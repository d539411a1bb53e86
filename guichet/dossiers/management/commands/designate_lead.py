from django.core.management.base import BaseCommand, CommandError

from guichet.core.errors import ServiceError
from guichet.dossiers.membership import designate_lead
from guichet.dossiers.models import Dossier


class Command(BaseCommand):
    help = ("Name the account that leads a dossier (an imported one, which nobody can open "
            "otherwise): it takes part for the lead member. The account must exist and have "
            "confirmed its address.")

    def add_arguments(self, parser):
        parser.add_argument("dossier", type=int, help="the dossier's id")
        parser.add_argument("email", help="the lead's account")

    def handle(self, *args, dossier, email, **options):
        target = Dossier.objects.filter(pk=dossier).first()
        if target is None:
            raise CommandError(f"no dossier {dossier}")
        try:
            designate_lead(target, email)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{email.strip().lower()} leads dossier {dossier}")
