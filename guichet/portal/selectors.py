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
from guichet.dossiers.models import ConsortiumMember, Document, Dossier, HybridProfile
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
    own = [m for m in dossier.consortium.members.all()
           if m.confirmed_at and m.organisation_id in _organisation_ids(user)]
    document = to_format(dossier)
    wave = open_wave(dossier.call, now)
    documents = list(Document.objects.filter(dossier=dossier))
    # Completeness as the applicant sees it includes the call's required attachments.
    return Workspace(
        dossier=dossier, verdict=evaluate(document, dossier.call.rules(),
                                          documents={d.kind for d in documents}),
        missing=missing_items(dossier, document, documents),
        is_lead=any(m.is_lead for m in own),
        own_members=own, wave=wave, time_left=(wave.closes_at - now) if wave else None,
        documents=documents,
        profile=HybridProfile.objects.get_or_create(dossier=dossier)[0],
    )


def _organisation_ids(user) -> set[int]:
    cached = getattr(user, "_guichet_organisation_ids", None)
    if cached is None:
        cached = set(user.affiliations.values_list("organisation_id", flat=True))
        user._guichet_organisation_ids = cached
    return cached


TIMELINE_LABELS = {
    "dossier.imported": _("Dossier importé"), "dossier.started": _("Dossier créé"),
    "dossier.project_updated": _("Projet modifié"),
    "dossier.hybrid_profile_updated": _("Profil d'hybridation modifié"),
    "dossier.expense_added": _("Dépense ajoutée"), "dossier.expense_updated": _("Dépense modifiée"),
    "dossier.financing_added": _("Financement ajouté"),
    "dossier.financing_updated": _("Financement modifié"),
    "dossier.milestone_added": _("Jalon ajouté"), "dossier.line_deleted": _("Ligne supprimée"),
    "dossier.annex_imported": _("Annexe financière importée"),
    "dossier.document_added": _("Pièce ajoutée"), "dossier.document_removed": _("Pièce retirée"),
    "consortium.invited": _("Membre invité"), "consortium.joined": _("Membre confirmé"),
    "dossier.reminded": _("Rappel d'échéance envoyé"),
    "dossier.submitted": _("Dossier déposé, accusé de réception délivré"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    actor: str


def timeline(dossier: Dossier) -> list[TimelineEntry]:
    events = AuditEvent.objects.filter(object_type="dossiers.dossier",
                                       object_id=str(dossier.pk)).order_by("sequence")
    return [TimelineEntry(event.at, TIMELINE_LABELS.get(event.action, event.action),
                          "" if event.actor_label == "system" else event.actor_label)
            for event in events]
