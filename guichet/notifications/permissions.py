"""Who may see and retry failed background work: administrators of a call (the rows span
calls, and show only the kind of work and its error, no mail content)."""

import rules

from guichet.review.models import CallRole, Role


@rules.predicate
def administers_a_call(user) -> bool:
    return user.is_authenticated and CallRole.objects.filter(
        user=user, role=Role.ADMINISTRATOR).exists()


rules.add_perm("notifications.manage_outbox", rules.is_superuser | administers_a_call)
