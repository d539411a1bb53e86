"""The permission check every service starts with, shared by all apps.

It lives here, below the apps, so that an app checking a permission declared by another
(grants checking `review.instruct`, say) does not have to import that app's services.
"""

from django.utils.translation import gettext as _

from guichet.core.errors import ServiceError


class PermissionRefused(ServiceError):
    """The user may not perform this action on this object (a django-rules predicate said no)."""

    code = "permission_refused"


def require_perm(user, permission: str, target) -> None:
    """Refuse, before anything is written, a user who lacks `permission` on `target`."""
    if not user.has_perm(permission, target):
        raise PermissionRefused(_("Vous n'avez pas le droit de faire cette action."))
