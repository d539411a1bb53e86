"""Reads of the review app that other layers need."""

from guichet.review.models import CallRole


def call_staff(call, role: str) -> list[str]:
    """The e-mail addresses of the people holding `role` on `call`, in a stable order."""
    return list(CallRole.objects.filter(call=call, role=role).order_by("user__email")
                .values_list("user__email", flat=True))
