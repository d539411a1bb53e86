"""Who calls the API: a personal token in `Authorization: Bearer`, acting as its owner."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from guichet.accounts.models import TokenScope
from guichet.accounts.tokens import token_for_secret
from guichet.api.problems import Problem


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = token_for_secret(token)
        if found is None:
            return None
        # The same predicates as the pages then judge `request.user`.
        request.user = found.owner
        translation.activate(found.owner.language)
        request.LANGUAGE_CODE = found.owner.language
        return found


class TokenThrottle(AuthRateThrottle):
    """Requests per token (per address before a token is known), counted in the shared cache
    so that every app server counts together."""

    def __init__(self):
        super().__init__(settings.API_THROTTLE_RATE)

    def allow_request(self, request) -> bool:
        # The rate is read at each request, so that a changed setting applies at once.
        self.num_requests, self.duration = self.parse_rate(settings.API_THROTTLE_RATE)
        return super().allow_request(request)


def require_write(request) -> None:
    """A read-only token may not change anything."""
    if request.auth.scope != TokenScope.WRITE:
        raise Problem(403, _("Ce jeton est en lecture seule : créez un jeton en lecture et "
                             "écriture pour modifier."), code="insufficient_scope")
