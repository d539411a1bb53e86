"""How django-allauth fits Guichet: where people land after logging in."""

from allauth.account.adapter import DefaultAccountAdapter
from django.shortcuts import resolve_url


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        """Staff (experts included) land in the back office, applicants in their space; an
        explicit `next` still wins (allauth reads it before asking here)."""
        if request.user.has_perm("review.open_backoffice"):
            return resolve_url("backoffice:home")
        return super().get_login_redirect_url(request)
