from django.core.management.base import BaseCommand, CommandError

from guichet.calls.models import Call
from guichet.core.errors import ServiceError
from guichet.review.staff import STAFF_ROLES, grant_role, revoke_role


class Command(BaseCommand):
    help = ("Give a person a staff role on a call (instructor, committee, administrator), or "
            "take it back with --revoke. An address without an account gets one: its owner "
            "sets a password through the login page's password reset.")

    def add_arguments(self, parser):
        parser.add_argument("call", help="the call's code, e.g. deffinum")
        parser.add_argument("email")
        parser.add_argument("role", choices=[role.value for role in STAFF_ROLES])
        parser.add_argument("--revoke", action="store_true", help="take the role back")

    def handle(self, *args, call, email, role, revoke, **options):
        target = Call.objects.filter(code=call).first()
        if target is None:
            raise CommandError(f"no call {call}")
        try:
            if revoke:
                revoke_role(target, email, role)
                self.stdout.write(f"{email} is no longer {role} of {call}")
                return
            granted = grant_role(target, email, role)
        except ServiceError as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(f"{granted.user.email} is {role} of {call}")
        if granted.new_account:
            self.stdout.write("a new account: its owner sets a password through "
                              "/comptes/password/reset/")
