"""Organisations, consortia and invitations: who acts for whom."""

import secrets

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from guichet.audit.services import append_event
from guichet.calls.models import Call
from guichet.calls.services import open_wave
from guichet.core.clock import now as server_now
from guichet.core.clock import site_url
from guichet.core.errors import ServiceError
from guichet.dossiers.models import (
    Affiliation,
    Consortium,
    ConsortiumMember,
    Dossier,
    HybridProfile,
    Invitation,
    Organisation,
)
from guichet.rules import dossier as fmt
from guichet.rules.siret import is_valid_siret


class MembershipRefused(ServiceError):
    code = "membership_refused"


def normalise_siret(text: str) -> str:
    return "".join(text.split())


def validated_siret(text: str) -> str:
    siret = normalise_siret(text)
    if not is_valid_siret(siret):
        raise MembershipRefused(
            _("Le SIRET %(siret)s n'est pas valide : 14 chiffres avec une clé de contrôle "
              "correcte.") % {"siret": siret}, field="siret")
    return siret


@transaction.atomic
def register_organisation(user, siret: str, name: str, region: str = "") -> Organisation:
    """Create an organisation by SIRET and act for it, or claim one nobody acts for yet.

    An organisation someone already acts for is joined only through a consortium invitation,
    so that nobody can speak for an organisation by merely knowing its SIRET.
    """
    siret = validated_siret(siret)
    organisation = Organisation.objects.select_for_update().filter(siret=siret).first()
    if organisation is None:
        organisation = Organisation.objects.create(siret=siret, name=name.strip(), region=region)
    elif organisation.affiliations.exclude(user=user).exists():
        raise MembershipRefused(
            _("Cet organisme a déjà des représentants : demandez-leur une invitation."),
            field="siret")
    Affiliation.objects.get_or_create(user=user, organisation=organisation)
    append_event("organisation.affiliated", organisation, by=user)
    return organisation


def organisations_of(user):
    return Organisation.objects.filter(affiliations__user=user).order_by("name")


def dossiers_of(user):
    """The dossiers a person takes part in (through a confirmed membership)."""
    return Dossier.objects.filter(
        consortium__members__organisation__affiliations__user=user,
        consortium__members__confirmed_at__isnull=False).distinct()


@transaction.atomic
def start_dossier(user, call: Call, organisation: Organisation, kind: str, title: str,
                  now=None) -> Dossier:
    """The lead starts a dossier for the open wave of a call, its organisation leading."""
    now = now or server_now()
    if not Affiliation.objects.filter(user=user, organisation=organisation).exists():
        raise MembershipRefused(_("Vous n'agissez pas pour cet organisme."),
                                field="organisation")
    if call.is_closed or open_wave(call, now) is None:
        raise MembershipRefused(call.closed_message or
                                _("Aucune vague de cet appel n'est ouverte."), field="call")
    if kind not in call.rules().eligibility.member_kinds:
        raise MembershipRefused(_("Catégorie de membre non admise par l'appel."), field="kind")
    if Dossier.objects.filter(call=call, consortium__members__organisation=organisation,
                              consortium__members__is_lead=True).exists():
        raise MembershipRefused(
            _("Cet organisme est déjà chef de file d'un dossier sur cet appel."),
            field="organisation")
    consortium = Consortium.objects.create(name=title)
    ConsortiumMember.objects.create(consortium=consortium, organisation=organisation,
                                    name=organisation.name, kind=kind, is_lead=True,
                                    confirmed_at=now)
    dossier = Dossier.objects.create(call=call, consortium=consortium, title=title)
    HybridProfile.objects.create(dossier=dossier)
    append_event("dossier.started", dossier, by=user, details={"lead": organisation.siret})
    return dossier


@transaction.atomic
def invite_member(dossier: Dossier, email: str, by, now=None) -> Invitation:
    email = email.strip().lower()
    already = ConsortiumMember.objects.filter(
        consortium=dossier.consortium, organisation__affiliations__user__email=email)
    if already.exists():
        raise MembershipRefused(_("Cette personne fait déjà partie du consortium."),
                                field="email")
    invitation = Invitation.objects.create(
        consortium=dossier.consortium, email=email, token=secrets.token_urlsafe(32),
        invited_by=by, created_at=now or server_now())
    link = site_url(reverse("portal:invitation", args=[invitation.token]))
    send_mail(
        _("Invitation à rejoindre le consortium « %(title)s »") % {"title": dossier.title},
        _("%(inviter)s vous invite à rejoindre le consortium du projet « %(title)s » "
          "(appel %(call)s).\n\nPour confirmer votre participation, suivez ce lien :\n%(link)s")
        % {"inviter": by.email, "title": dossier.title, "call": dossier.call.name, "link": link},
        None, [email])
    append_event("consortium.invited", dossier, by=by, details={"email": email})
    return invitation


def open_invitation(token: str) -> Invitation | None:
    return Invitation.objects.select_related("consortium").filter(
        token=token, accepted_at__isnull=True).first()


@transaction.atomic
def accept_invitation(token: str, user, organisation: Organisation, kind: str,
                      now=None) -> ConsortiumMember:
    """The invited person confirms participation for one of its organisations."""
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None or invitation.accepted_at is not None:
        raise MembershipRefused(_("Cette invitation n'est plus valable."))
    if invitation.email != user.email.lower():
        raise MembershipRefused(_("Cette invitation a été adressée à une autre adresse."))
    if not Affiliation.objects.filter(user=user, organisation=organisation).exists():
        raise MembershipRefused(_("Vous n'agissez pas pour cet organisme."),
                                field="organisation")
    if kind not in fmt.MEMBER_KINDS:
        raise MembershipRefused(_("Catégorie de membre inconnue."), field="kind")
    consortium = invitation.consortium
    if consortium.members.filter(organisation=organisation).exists():
        raise MembershipRefused(_("Cet organisme fait déjà partie du consortium."),
                                field="organisation")
    now = now or server_now()
    position = consortium.members.count()
    member = ConsortiumMember.objects.create(
        consortium=consortium, organisation=organisation, name=organisation.name, kind=kind,
        position=position, confirmed_at=now)
    invitation.accepted_at, invitation.member = now, member
    invitation.save(update_fields=["accepted_at", "member"])
    for dossier in consortium.dossiers.all():
        append_event("consortium.joined", dossier, by=user,
                     details={"siret": organisation.siret})
    return member


def can_act_for(user, siret: str) -> bool:
    return Affiliation.objects.filter(Q(user=user) & Q(organisation__siret=siret)).exists()


def pending_invitations(user):
    return Invitation.objects.filter(email=user.email.lower(), accepted_at__isnull=True)\
        .select_related("consortium")
