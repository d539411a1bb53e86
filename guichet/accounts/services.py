"""What a person changes about their own account."""

from django.conf import settings
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.core.errors import ServiceError


class PreferenceRefused(ServiceError):
    pass


def set_language(user, language: str) -> None:
    """The language of the person's pages and mails (one of settings.LANGUAGES). Only the
    person changes it, on their own account: there is nobody else's permission to check."""
    if language not in dict(settings.LANGUAGES):
        raise PreferenceRefused(_("Choisissez une langue de la liste."), field="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def language_of(emails: list[str]) -> dict[str, str]:
    """The language of each address that belongs to an account (others are not listed)."""
    return dict(User.objects.filter(email__in=[email.lower() for email in emails])
                .values_list("email", "language"))
