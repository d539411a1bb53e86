"""A person signed in through ProConnect acts for the organisation whose SIRET it vouches
for (its `siret` claim), without an invitation."""

import logging

from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from guichet.core.errors import ServiceError
from guichet.dossiers.membership import affiliate_proven

PROVIDER = "proconnect"
logger = logging.getLogger(__name__)


def vouched_siret(sociallogin) -> str:
    """The SIRET ProConnect vouched for, from its userinfo (else its ID token)."""
    data = sociallogin.account.extra_data or {}
    claims = data.get("userinfo") or data.get("id_token") or data
    return str(claims.get("siret") or "")


@receiver(user_logged_in)
def affiliate_on_proconnect_login(sender, request, user, sociallogin=None, **kwargs):
    if sociallogin is None or sociallogin.account.provider != PROVIDER:
        return
    siret = vouched_siret(sociallogin)
    if not siret:
        return
    try:
        affiliate_proven(user, siret)
    except ServiceError as refused:  # a malformed claim: the sign-in stands, nothing is joined
        logger.warning("ProConnect SIRET refused for user %s: %s", user.pk, refused.message)
