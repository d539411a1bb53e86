"""Staff sign in with a second factor: before any back-office page, a person who serves a call
and has no authenticator app yet is sent to set one up (STAFF_MFA_REQUIRED)."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from guichet.review.permissions import opens_backoffice

BACKOFFICE = "/instruction/"


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.STAFF_MFA_REQUIRED and self._must_enrol(request):
            messages.warning(request, _(
                "Les pages d'instruction demandent une double authentification : configurez "
                "une application d'authentification pour continuer."))
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request) -> bool:
        user = request.user
        return (request.path.startswith(BACKOFFICE) and user.is_authenticated
                and opens_backoffice(user)
                and not is_mfa_enabled(user, [Authenticator.Type.TOTP]))
