"""Reads about dossiers shared by several apps."""

from guichet.accounts.models import User
from guichet.dossiers.models import Dossier


def participants(dossier: Dossier) -> list[str]:
    """E-mail addresses of everyone taking part in the consortium (participations only: acting
    for a member organisation is not enough)."""
    return sorted(set(User.objects.filter(
        participations__member__consortium_id=dossier.consortium_id,
        is_active=True).values_list("email", flat=True)))
