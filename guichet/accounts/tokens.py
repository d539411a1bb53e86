"""Personal API tokens: a person makes and revokes their own; the API finds the token of a
secret.

The secret is random (256 bits), so a plain SHA-256 of it is enough to store: a slow password
hash would only slow every API request. A revoked token is kept, with the instant it was
revoked, so that its use can still be traced.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.accounts.models import ApiToken, TokenScope, User
from guichet.core.clock import now
from guichet.core.errors import ServiceError
from guichet.core.text import require_single_line

SECRET_PREFIX = "gch_"
PREFIX_LENGTH = len(SECRET_PREFIX) + 8
MAX_ACTIVE_TOKENS = 20
# The last-use instant is written at most this often, not on every request.
LAST_USE_PRECISION = dt.timedelta(minutes=1)


class TokenRefused(ServiceError):
    code = "token_refused"


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def active_tokens(owner):
    return ApiToken.objects.filter(owner=owner, revoked_at__isnull=True)


@transaction.atomic
def create_token(owner, name: str, scope: str) -> NewToken:
    """A new token of `owner`, named for them to recognise it, with its secret."""
    name = (name or "").strip()
    if not name:
        raise TokenRefused(_("Donnez un nom au jeton, pour le reconnaître."), field="name")
    require_single_line(name, field="name", label=_("Nom du jeton"))
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise TokenRefused(_("Le nom du jeton tient en 80 caractères au plus."), field="name")
    if scope not in TokenScope.values:
        raise TokenRefused(_("Choisissez la portée du jeton dans la liste."), field="scope")
    # Locks the person's row: two requests at once cannot both pass the limit.
    User.objects.select_for_update().filter(pk=owner.pk).first()
    if active_tokens(owner).count() >= MAX_ACTIVE_TOKENS:
        raise TokenRefused(_("Vous avez déjà %(count)d jetons actifs : révoquez-en un "
                             "d'abord.") % {"count": MAX_ACTIVE_TOKENS}, field="name")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(owner=owner, name=name, scope=scope,
                                    prefix=secret[:PREFIX_LENGTH], digest=digest_of(secret))
    return NewToken(token, secret)


def revoke_token(owner, token_id: int) -> None:
    """Revoke one of the person's own tokens (someone else's is refused as unknown)."""
    revoked = active_tokens(owner).filter(pk=token_id).update(revoked_at=now())
    if not revoked:
        raise TokenRefused(_("Ce jeton n'existe pas ou est déjà révoqué."), field="token")


def token_for_secret(secret: str) -> ApiToken | None:
    """The active token of a secret, with its owner, if the owner may still sign in."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.select_related("owner").filter(
        digest=digest_of(secret), revoked_at__isnull=True, owner__is_active=True).first()
    if token is not None:
        _note_use(token)
    return token


def _note_use(token: ApiToken) -> None:
    instant = now()
    if token.last_used_at is None or instant - token.last_used_at >= LAST_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=instant)
        token.last_used_at = instant
