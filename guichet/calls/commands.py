"""What the management commands that take a call share."""

from django.core.management.base import CommandError

from guichet.calls.models import Call


def call_from_argument(code: str) -> Call:
    """The call named on the command line, or an error that lists the known codes."""
    found = Call.objects.filter(code=code).first()
    if found is None:
        known = ", ".join(Call.objects.order_by("code").values_list("code", flat=True))
        raise CommandError(f"no call with code {code!r} (known calls: {known or 'none'})")
    return found
