"""Who serves a call: the operator gives and takes back the staff roles (instruction,
committee, administration). Experts join through their own invitation (`experts.invite_expert`),
which also records their sectors and load."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.editor import Published, publish_draft
from guichet.calls.models import Call, CallDraft
from guichet.core.errors import ServiceError
from guichet.review.models import CallRole, Role

STAFF_ROLES = (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)


class RoleRefused(ServiceError):
    code = "role_refused"


@dataclass(frozen=True)
class Granted:
    user: User
    new_account: bool  # the person must set a password ("Mot de passe oublié ?")


@transaction.atomic
def grant_role(call: Call, email: str, role: str, *, by=None) -> Granted:
    """Give `role` on `call` to the account of `email`; an address without an account gets
    one, confirmed and without a password, which its owner sets through the password reset
    page. Giving a role held already changes nothing."""
    email = _checked(email, role)
    user = User.objects.filter(email=email).first()
    new_account = user is None
    if new_account:
        user = User.objects.create_user(email, password=None)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    _grant, created = CallRole.objects.get_or_create(user=user, call=call, role=role)
    if created:
        append_event(AuditAction.CALL_ROLE_GRANTED, call, by=by,
                     details={"email": email, "role": role})
    return Granted(user, new_account)


@transaction.atomic
def revoke_role(call: Call, email: str, role: str, *, by=None) -> None:
    email = _checked(email, role)
    removed, _detail = CallRole.objects.filter(call=call, role=role,
                                               user__email=email).delete()
    if not removed:
        raise RoleRefused(_("Cette personne n'a pas ce rôle sur cet appel."), field="email")
    append_event(AuditAction.CALL_ROLE_REVOKED, call, by=by,
                 details={"email": email, "role": role})


@transaction.atomic
def publish_call_draft(draft: CallDraft, by, rules_version: str, *, version: int) -> Published:
    """Publish a draft of the call editor (`calls.editor.publish_draft`). A copy published for
    the first time is a new call that nobody serves yet: the administrators of the call it was
    copied from, and the person publishing, become its administrators (the same funder's)."""
    published = publish_draft(draft, by, rules_version, version=version)
    if published.created:
        emails = set(User.objects.filter(call_roles__call=draft.based_on,
                                         call_roles__role=Role.ADMINISTRATOR)
                     .values_list("email", flat=True)) | {by.email}
        for email in sorted(emails):
            grant_role(published.call, email, Role.ADMINISTRATOR, by=by)
    return published


def _checked(email: str, role: str) -> str:
    if role not in STAFF_ROLES:
        raise RoleRefused(_("Rôle inconnu : choisissez instructeur, comité ou administrateur "
                            "(les experts sont invités depuis la page des experts)."),
                          field="role")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise RoleRefused(_("Adresse électronique invalide."), field="email") from None
    return email
