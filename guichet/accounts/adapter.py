"""How django-allauth fits Guichet: where people land after logging in, and links to
`SITE_URL` in its mails, like every other mail of Guichet."""

from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.shortcuts import resolve_url

from guichet.core.clock import site_url


def _on_site(url: str) -> str:
    """The same page under SITE_URL (allauth builds links from the request's host, which behind
    a proxy or a changed port is not where people reach the site)."""
    parts = urlsplit(url)
    return site_url(parts.path + (f"?{parts.query}" if parts.query else ""))


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        """Staff (experts included) land in the back office, applicants in their space; an
        explicit `next` still wins (allauth reads it before asking here)."""
        if request.user.has_perm("review.open_backoffice"):
            return resolve_url("backoffice:home")
        return super().get_login_redirect_url(request)

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return _on_site(super().get_email_confirmation_url(request, emailconfirmation))

    def get_reset_password_from_key_url(self, key: str) -> str:
        return _on_site(super().get_reset_password_from_key_url(key))
