"""What the applicant's pages show, gathered in a bounded number of queries."""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.calls.services import open_wave
from guichet.dossiers.format import dossier_queryset, to_format
from guichet.dossiers.membership import dossiers_of
from guichet.dossiers.models import (
    ConsortiumMember,
    Document,
    Dossier,
    HybridProfile,
    Participant,
)
from guichet.dossiers.permissions import EDITABLE_STATUSES
from guichet.dossiers.services import missing_items
from guichet.rules.eligibility import Verdict, evaluate

STEPS = [
    ("projet", _("Projet")), ("consortium", _("Consortium")), ("calendrier", _("Calendrier")),
    ("budget", _("Budget")), ("financement", _("Plan de financement")),
    ("hybridation", _("Hybridation")), ("documents", _("Pièces")), ("depot", _("Dépôt")),
]
STEP_IDS = [step for step, _label in STEPS]


def dossier_for(user, pk: int) -> Dossier:
    """A dossier the user takes part in, with its content; anyone else gets a 404."""
    return get_object_or_404(dossier_queryset().filter(pk__in=dossiers_of(user).values("pk")),
                             pk=pk)


@dataclass
class Workspace:
    dossier: Dossier
    verdict: Verdict
    missing: list[str]
    is_lead: bool
    own_members: list[ConsortiumMember]
    wave: Wave | None
    time_left: dt.timedelta | None
    documents: list[Document]
    profile: HybridProfile

    @property
    def editable(self) -> bool:
        """The applicants may still change the dossier (a draft, or sent back for corrections)."""
        return self.dossier.status in EDITABLE_STATUSES

    @cached_property
    def members(self) -> list[ConsortiumMember]:
        return list(self.dossier.consortium.members.all())

    @cached_property
    def editable_members(self) -> list[ConsortiumMember]:
        return self.members if self.is_lead else self.own_members

    @cached_property
    def editable_member_ids(self) -> set[int]:
        return {member.pk for member in self.editable_members}


def workspace(dossier: Dossier, user, now: dt.datetime) -> Workspace:
    """Everything the dossier's pages show to `user`; reads only (a GET never writes)."""
    taken_part = set(Participant.objects.filter(
        user_id=user.pk, member__consortium_id=dossier.consortium_id
    ).values_list("member_id", flat=True))
    own = [m for m in dossier.consortium.members.all() if m.pk in taken_part]
    document = to_format(dossier)
    wave = open_wave(dossier.call, now)
    documents = list(Document.objects.filter(dossier=dossier))
    for attached in documents:
        attached.dossier = dossier  # permission checks per document read it without a query
    # Completeness as the applicant sees it includes the call's required attachments.
    return Workspace(
        dossier=dossier, verdict=evaluate(document, dossier.call.rules(),
                                          documents={d.kind for d in documents}),
        missing=missing_items(dossier, document, documents),
        is_lead=any(m.is_lead for m in own),
        own_members=own, wave=wave, time_left=(wave.closes_at - now) if wave else None,
        documents=documents,
        profile=_hybrid_profile(dossier),
    )


def _hybrid_profile(dossier: Dossier) -> HybridProfile:
    """The dossier's profile, or a blank one not saved (created on the first save)."""
    return HybridProfile.objects.filter(dossier=dossier).first() or HybridProfile(dossier=dossier)


# The applicant timeline is an allow-list: what applicants may see of the audit log, each with
# its label. Everything else (experts, conflicts, private notes, decisions in preparation,
# commitments, any action added later) stays internal. See guichet.audit.actions.
APPLICANT_EVENTS = {
    "dossier.imported": _("Dossier importé"), "dossier.started": _("Dossier créé"),
    "consortium.lead_designated": _("Chef de file désigné"),
    "dossier.project_updated": _("Projet modifié"),
    "dossier.hybrid_profile_updated": _("Profil d'hybridation modifié"),
    "dossier.expense_added": _("Dépense ajoutée"), "dossier.expense_updated": _("Dépense modifiée"),
    "dossier.financing_added": _("Financement ajouté"),
    "dossier.financing_updated": _("Financement modifié"),
    "dossier.milestone_added": _("Jalon ajouté"), "dossier.line_deleted": _("Ligne supprimée"),
    "dossier.annex_imported": _("Annexe financière importée"),
    "dossier.document_added": _("Pièce ajoutée"), "dossier.document_removed": _("Pièce retirée"),
    "consortium.invited": _("Membre invité"), "consortium.joined": _("Membre confirmé"),
    "consortium.invitation_revoked": _("Invitation retirée"),
    "dossier.reminded": _("Rappel d'échéance envoyé"),
    "dossier.submitted": _("Dossier déposé, accusé de réception délivré"),
    "dossier.instructed": _("Instruction du dossier terminée"),
    "dossier.correction_requested": _("Corrections demandées"),
    "dossier.message_posted": _("Message échangé avec l'équipe d'instruction"),
    "decision.published": _("Décision publiée"), "decision.reverted": _("Décision annulée"),
    "grant.signed": _("Convention signée"), "grant.tranche_paid": _("Tranche versée"),
    "grant.payment_reversed": _("Versement annulé"),
    "grant.report_submitted": _("Rapport remis"), "grant.report_reviewed": _("Rapport examiné"),
    "grant.report_reminded": _("Rappel de rapport envoyé"),
    "grant.balance_computed": _("Solde calculé"), "grant.amended": _("Avenant à la convention"),
}
STAFF_ACTOR = _("L'équipe d'instruction")


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    actor: str


def timeline(dossier: Dossier) -> list[TimelineEntry]:
    """What applicants see of the dossier's history: allowed events only, and the name of a
    person only if that person takes part in the consortium (staff appear as the team)."""
    events = AuditEvent.objects.filter(
        object_type="dossiers.dossier", object_id=str(dossier.pk),
        action__in=APPLICANT_EVENTS).order_by("sequence")
    applicants = set(Participant.objects.filter(member__consortium_id=dossier.consortium_id)
                     .values_list("user_id", flat=True))
    return [TimelineEntry(event.at, str(APPLICANT_EVENTS[event.action]),
                          _timeline_actor(event, applicants)) for event in events]


def _timeline_actor(event: AuditEvent, applicants: set[int]) -> str:
    if event.actor_id is None:
        return ""
    return event.actor_label if event.actor_id in applicants else str(STAFF_ACTOR)
