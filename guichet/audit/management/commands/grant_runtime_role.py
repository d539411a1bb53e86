from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from guichet.audit.database import RoleRefused, grant_runtime_role


class Command(BaseCommand):
    help = ("PostgreSQL: grant ROLE what the running application needs (read and write the "
            "business tables, only read and append to the audit log). Run it as the owner "
            "of the tables, after every `migrate`.")

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the web and worker processes log in as")

    def handle(self, *args, role, **options):
        try:
            with transaction.atomic():
                statements = grant_runtime_role(role)
        except RoleRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write("\n".join(f"{statement};" for statement in statements))
        self.stdout.write(f"role {role} may now run the application.", self.style.SUCCESS)
