"""Organisations, consortia, participations and invitations: who acts for whom, who takes part.

Two different things, on purpose:
- an *affiliation*: a person acts for an organisation (declared by its SIRET). It says which
  organisation leads a new dossier or joins a consortium, and opens nothing by itself;
- a *participation*: a person takes part in a consortium for one of its members. Only it opens
  the consortium's dossiers, and it comes only from creating the dossier, from accepting the
  lead's invitation at the invited address, or from an operator naming the lead of an imported
  dossier. SIRETs are public: knowing one must open nothing.
"""

import datetime as dt
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call
from guichet.calls.services import open_wave
from guichet.core.clock import in_paris
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.text import require_single_line
from guichet.dossiers.company_search import (
    ACTIVITY_CODE,
    LEGAL_FORM,
    CompanySearchUnavailable,
    invalid_siret_message,
    lookup_company,
)
from guichet.dossiers.models import (
    Affiliation,
    Consortium,
    ConsortiumMember,
    Dossier,
    DossierAnswers,
    Invitation,
    Organisation,
    Participant,
)
from guichet.dossiers.permissions import EDITABLE_STATUSES, is_lead
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
from guichet.rules import dossier as fmt
from guichet.rules.siret import is_valid_siret, normalise_siret


class MembershipRefused(ServiceError):
    code = "membership_refused"


def validated_siret(text: str) -> str:
    siret = normalise_siret(text)
    if not is_valid_siret(siret):
        raise MembershipRefused(invalid_siret_message(siret), field="siret")
    return siret


@transaction.atomic
def register_organisation(user, siret: str, name: str, region: str = "", *,
                          address: str = "", legal_form: str = "",
                          activity_code: str = "") -> Organisation:
    """Create an organisation by SIRET and act for it, or claim one nobody acts for yet.

    Acting for an organisation opens none of the dossiers where it is a member (that takes a
    participation); an organisation someone already acts for is not claimed a second time.
    The address, legal category and activity code are optional (the company search fills
    them in when it answers).
    """
    siret = validated_siret(siret)
    require_single_line(name, field="name", label=_("Raison sociale"))
    require_single_line(address, field="address", label=_("Adresse"))
    _require_code(legal_form, LEGAL_FORM, "legal_form",
                  _("La catégorie juridique est un code INSEE de 4 chiffres (ex. 9220)."))
    _require_code(activity_code, ACTIVITY_CODE, "activity_code",
                  _("Le code d'activité est un code NAF (ex. 85.59A)."))
    organisation = Organisation.objects.select_for_update().filter(siret=siret).first()
    if organisation is None:
        organisation = Organisation.objects.create(
            siret=siret, name=name.strip(), region=region, address=address.strip(),
            legal_form=legal_form, activity_code=activity_code)
    elif organisation.affiliations.exclude(user=user).exists():
        raise MembershipRefused(
            _("Cet organisme a déjà des représentants : demandez-leur une invitation."),
            field="siret")
    Affiliation.objects.get_or_create(user=user, organisation=organisation)
    append_event(AuditAction.ORGANISATION_AFFILIATED, organisation, by=user)
    return organisation


@transaction.atomic
def affiliate_proven(user, siret: str) -> Organisation:
    """ProConnect vouched that the person acts for the organisation of `siret`: they act for
    it, even when others already do (that proof is what an invitation otherwise gives). An
    organisation new to the platform takes its name from the company search when it answers,
    else its SIRET, until someone completes it."""
    siret = validated_siret(siret)
    organisation = Organisation.objects.select_for_update().filter(siret=siret).first()
    if organisation is None:
        organisation = Organisation.objects.create(siret=siret, **_public_record(siret))
    _affiliation, created = Affiliation.objects.get_or_create(user=user,
                                                              organisation=organisation)
    if created:
        append_event(AuditAction.ORGANISATION_AFFILIATED, organisation, by=user,
                     details={"proof": "proconnect"})
    return organisation


def _public_record(siret: str) -> dict:
    try:
        record = lookup_company(siret)
    except CompanySearchUnavailable:
        record = None
    if record is None:
        return {"name": siret}
    return {"name": record.name, "address": record.address, "legal_form": record.legal_form,
            "activity_code": record.activity_code, "region": record.region}


def _require_code(value: str, pattern, field: str, message: str) -> None:
    if value and not pattern.match(value):
        raise MembershipRefused(message, field=field)


def organisations_of(user):
    return Organisation.objects.filter(affiliations__user=user).order_by("name")


def dossiers_of(user):
    """The dossiers a person takes part in (through a participation, never an affiliation)."""
    if user.pk is None:
        return Dossier.objects.none()
    return Dossier.objects.filter(consortium__members__participants__user_id=user.pk).distinct()


def _join(user, member: ConsortiumMember, how: str, now: dt.datetime) -> Participant:
    participant, _created = Participant.objects.get_or_create(
        user=user, member=member, defaults={"joined_at": now, "how": how})
    return participant


@transaction.atomic
def start_dossier(user, call: Call, organisation: Organisation, kind: str, title: str,
                  now=None) -> Dossier:
    """The lead starts a dossier for the open wave of a call, its organisation leading; the
    person who starts it takes part for the lead member."""
    now = now or server_now()
    if not Affiliation.objects.filter(user=user, organisation=organisation).exists():
        raise MembershipRefused(_("Vous n'agissez pas pour cet organisme."),
                                field="organisation")
    require_single_line(title, field="title", label=_("Titre du projet"))
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
    lead = ConsortiumMember.objects.create(consortium=consortium, organisation=organisation,
                                           name=organisation.name, kind=kind, is_lead=True,
                                           confirmed_at=now)
    _join(user, lead, Participant.How.CREATED, now)
    dossier = Dossier.objects.create(call=call, consortium=consortium, title=title)
    DossierAnswers.objects.create(dossier=dossier)
    append_event(AuditAction.DOSSIER_STARTED, dossier, by=user,
                 details={"lead": organisation.siret})
    return dossier


@transaction.atomic
def designate_lead(dossier: Dossier, email: str, *, by=None, now=None) -> Participant:
    """An operator names the account that leads a dossier nobody leads yet in Guichet (an
    imported one): it takes part for the lead member and acts for the lead organisation.
    The account must exist and have confirmed its address."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        raise MembershipRefused(_("Aucun compte actif n'a l'adresse %(email)s : la personne "
                                  "doit d'abord créer son compte.") % {"email": email},
                                field="lead_email")
    if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        raise MembershipRefused(_("Le compte %(email)s n'a pas encore confirmé son adresse "
                                  "électronique.") % {"email": email}, field="lead_email")
    lead = dossier.consortium.members.filter(is_lead=True).select_related("organisation").first()
    if lead is None:
        raise MembershipRefused(_("Ce dossier n'a pas de chef de file."), field="members")
    Affiliation.objects.get_or_create(user=user, organisation=lead.organisation)
    already = Participant.objects.filter(user=user, member=lead).first()
    if already is not None:
        return already
    participant = _join(user, lead, Participant.How.DESIGNATED, now or server_now())
    append_event(AuditAction.CONSORTIUM_LEAD_DESIGNATED, dossier, by=by, details={"email": email})
    return participant


# --- invitations -----------------------------------------------------------------------------

def invitable_members(dossier: Dossier):
    """The members a lead may invite a person for: every one but the lead (lead rights are not
    passed on by invitation)."""
    return dossier.consortium.members.filter(is_lead=False).select_related("organisation")


@transaction.atomic
def invite_member(dossier: Dossier, email: str, by, *, member: ConsortiumMember | None = None,
                  now=None) -> Invitation:
    """The lead invites a person by e-mail: for a new partner organisation, or for an existing
    non-lead member. Only while the dossier is editable (a draft, or during corrections)."""
    now = now or server_now()
    dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)  # serialised with submit
    if not by.has_perm("dossiers.invite_member", dossier):
        raise MembershipRefused(
            _("Le dossier est déposé : le consortium n'accepte plus d'invitation, sauf pendant "
              "une demande de corrections.") if is_lead(by, dossier)
            else _("Seul le chef de file invite des personnes dans le consortium."))
    email = _validated_email(email)
    if member is not None and (member.consortium_id != dossier.consortium_id or member.is_lead):
        raise MembershipRefused(_("Choisissez un membre du consortium autre que le chef de "
                                  "file."), field="member")
    if Participant.objects.filter(member__consortium_id=dossier.consortium_id,
                                  user__email__iexact=email).exists():
        raise MembershipRefused(_("Cette personne fait déjà partie du consortium."),
                                field="email")
    pending = _pending(Invitation.objects.filter(consortium_id=dossier.consortium_id,
                                                 email=email), now).first()
    if pending is not None:
        raise MembershipRefused(
            _("Une invitation à cette adresse est déjà en attente (valable jusqu'au %(date)s, "
              "heure de Paris) : retirez-la avant d'en envoyer une autre.")
            % {"date": f"{in_paris(pending.expires_at):%d/%m/%Y %H:%M}"}, field="email")
    invitation = Invitation.objects.create(
        consortium_id=dossier.consortium_id, email=email, token=secrets.token_urlsafe(32),
        invited_by=by, created_at=now, member=member,
        expires_at=now + dt.timedelta(days=settings.INVITATION_VALIDITY_DAYS))
    append_event(AuditAction.CONSORTIUM_INVITED, dossier, by=by, details={
        "email": email, "member": member.organisation.siret if member else None})
    notify(Kind.INVITATION, invitation=invitation.pk)
    return invitation


def _validated_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise MembershipRefused(_("Saisissez une adresse électronique valide."),
                                field="email") from None
    return email


@transaction.atomic
def revoke_invitation(dossier: Dossier, invitation: Invitation, by, now=None) -> None:
    """The lead withdraws an invitation that was not accepted: its link stops working."""
    if not by.has_perm("dossiers.revoke_invitation", dossier):
        raise MembershipRefused(_("Seul le chef de file retire une invitation."))
    locked = Invitation.objects.select_for_update().filter(
        pk=invitation.pk, consortium_id=dossier.consortium_id).first()
    if locked is None:
        raise MembershipRefused(_("Cette invitation ne concerne pas ce dossier."))
    if locked.accepted_at is not None:
        raise MembershipRefused(_("Cette invitation a déjà été acceptée : elle ne peut plus "
                                  "être retirée."))
    if locked.revoked_at is not None:
        return
    locked.revoked_at, locked.revoked_by = now or server_now(), by
    locked.save(update_fields=["revoked_at", "revoked_by"])
    append_event(AuditAction.CONSORTIUM_INVITATION_REVOKED, dossier, by=by,
                 details={"email": locked.email})


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation behind a link, whatever its state (the page explains a dead one)."""
    return Invitation.objects.select_related("consortium", "member").filter(token=token).first()


def invitation_dossier(invitation: Invitation) -> Dossier | None:
    return invitation.consortium.dossiers.select_related("call").first()


def check_invitation(invitation: Invitation, user, now: dt.datetime) -> None:
    """Refuse (MembershipRefused, with the reason) if `user` cannot accept `invitation` now."""
    if invitation.email != user.email.lower():
        raise MembershipRefused(_("Cette invitation a été adressée à une autre adresse "
                                  "électronique : connectez-vous avec celle-ci pour l'accepter."))
    if invitation.accepted_at is not None:
        raise MembershipRefused(_("Cette invitation a déjà été acceptée."))
    if invitation.revoked_at is not None:
        raise MembershipRefused(_("Cette invitation a été retirée par le chef de file du "
                                  "consortium."))
    if now >= invitation.expires_at:
        raise MembershipRefused(
            _("Cette invitation a expiré le %(date)s (heure de Paris) : demandez au chef de file "
              "de vous inviter à nouveau.")
            % {"date": f"{in_paris(invitation.expires_at):%d/%m/%Y %H:%M}"})
    dossier = invitation_dossier(invitation)
    if dossier is None or dossier.status not in EDITABLE_STATUSES:
        raise MembershipRefused(_("Le dossier a été déposé : le consortium n'accepte plus de "
                                  "nouvelle personne."))
    if Participant.objects.filter(member__consortium_id=invitation.consortium_id,
                                  user=user).exists():
        raise MembershipRefused(_("Vous faites déjà partie de ce consortium."))


@transaction.atomic
def accept_invitation(token: str, user, organisation: Organisation | None = None, kind: str = "",
                      now=None) -> ConsortiumMember:
    """The invited person, signed in with the invited address, takes part in the consortium:
    for the member the lead named, or for one of its own organisations as a new member."""
    now = now or server_now()
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None:
        raise MembershipRefused(_("Cette invitation n'existe pas."))
    # Locked like submit() locks it: a dossier submitted meanwhile takes no new person.
    Dossier.objects.select_for_update().filter(consortium_id=invitation.consortium_id).first()
    check_invitation(invitation, user, now)
    member = invitation.member or _new_member(invitation.consortium, user, organisation, kind,
                                              now)
    _join(user, member, Participant.How.INVITATION, now)
    invitation.accepted_at, invitation.member = now, member
    invitation.save(update_fields=["accepted_at", "member"])
    for dossier in invitation.consortium.dossiers.all():
        append_event(AuditAction.CONSORTIUM_JOINED, dossier, by=user,
                     details={"siret": member.organisation.siret})
    return member


def _new_member(consortium: Consortium, user, organisation: Organisation | None, kind: str,
                now) -> ConsortiumMember:
    if organisation is None or not Affiliation.objects.filter(
            user=user, organisation=organisation).exists():
        raise MembershipRefused(_("Vous n'agissez pas pour cet organisme."),
                                field="organisation")
    if kind not in fmt.MEMBER_KINDS:
        raise MembershipRefused(_("Catégorie de membre inconnue."), field="kind")
    if consortium.members.filter(organisation=organisation).exists():
        raise MembershipRefused(_("Cet organisme fait déjà partie du consortium : demandez au "
                                  "chef de file une invitation pour ce membre."),
                                field="organisation")
    return ConsortiumMember.objects.create(
        consortium=consortium, organisation=organisation, name=organisation.name, kind=kind,
        position=consortium.members.count(), confirmed_at=now)


def _pending(invitations, now):
    return invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                              expires_at__gt=now)


def pending_invitations(user, now=None):
    """Invitations waiting for this person (to its address), still valid."""
    return _pending(Invitation.objects.filter(email=user.email.lower()), now or server_now())\
        .select_related("consortium").order_by("created_at")


def pending_invitations_of(dossier: Dossier, now=None):
    """Invitations of the dossier's consortium still waiting for an answer."""
    return _pending(Invitation.objects.filter(consortium_id=dossier.consortium_id),
                    now or server_now()).select_related("member").order_by("created_at")
