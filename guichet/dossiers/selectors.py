"""Reads about dossiers shared by several apps."""

from guichet.accounts.models import User
from guichet.dossiers.models import Dossier, Participant


def participants(dossier: Dossier) -> list[str]:
    """E-mail addresses of everyone taking part in the consortium (participations only: acting
    for a member organisation is not enough)."""
    return participants_of([dossier.consortium_id]).get(dossier.consortium_id, [])


def participants_of(consortium_ids) -> dict[int, list[str]]:
    """`participants` of several consortia in one query, by consortium."""
    found: dict[int, set[str]] = {}
    for consortium, email in User.objects.filter(
            participations__member__consortium_id__in=list(consortium_ids),
            is_active=True).values_list("participations__member__consortium_id", "email"):
        found.setdefault(consortium, set()).add(email)
    return {consortium: sorted(emails) for consortium, emails in found.items()}


def person_label(user) -> str:
    """How a document names a person: full name and address, or the address alone."""
    if user is None:
        return ""
    name = user.get_full_name().strip()
    return f"{name} ({user.email})" if name else user.email


def lead_addressee(dossier: Dossier) -> tuple[str, str]:
    """Whom a letter about the dossier is addressed to: the lead organisation and the person
    who represents it on the platform (the first to take part for it), or "" when none does."""
    lead = dossier.consortium.members.select_related("organisation").filter(is_lead=True).first()
    if lead is None:
        return "", ""
    first = (Participant.objects.filter(member=lead).select_related("user")
             .order_by("joined_at", "pk").first())
    return lead.organisation.name, person_label(first.user) if first else ""
