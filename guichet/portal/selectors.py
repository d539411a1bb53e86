"""What the applicant's pages show, gathered in a bounded number of queries."""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.calls.services import open_wave
from guichet.dossiers.format import dossier_queryset, to_format
from guichet.dossiers.membership import dossiers_of
from guichet.dossiers.models import (
    ConsortiumMember,
    Document,
    Dossier,
    DossierAnswers,
    Participant,
)
from guichet.dossiers.permissions import EDITABLE_STATUSES
from guichet.dossiers.services import missing_items
from guichet.rules.eligibility import Verdict, evaluate

STEP_SECTIONS = {
    "projet": ("title", "summary", "scope", "pooling_commitment", "start_date",
               "duration_months"),
    "consortium": ("members",), "calendrier": ("milestones",), "budget": ("expenses",),
    "financement": ("financing.aid",), "documents": ("documents.",),
}



def dossier_for(user, pk: int) -> Dossier:
    """A dossier the user takes part in, with its content; anyone else gets a 404."""
    return get_object_or_404(dossier_queryset().filter(pk__in=dossiers_of(user).values("pk")),
                             pk=pk)


def dossier_row_for(user, pk: int) -> Dossier:
    """`dossier_for` without the content: for an action that reads the dossier itself (the
    submission locks and reads it again)."""
    return get_object_or_404(dossiers_of(user).filter(pk=pk))


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
    answers: DossierAnswers

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
        answers=_answers(dossier),
    )


def step_completion(space: Workspace) -> dict[str, bool]:
    """Whether each step of the dossier's form is complete: nothing it fills in is missing (a
    section of the call's questions: none of its required questions, and some answer given);
    the deposit, once the dossier is submitted."""
    done = {step: not any(code.startswith(section) for code in space.missing
                          for section in sections)
            for step, sections in STEP_SECTIONS.items()}
    values = space.answers.values
    for section in space.dossier.call.rules().sections:
        codes = {f"answers.{question.id}" for question in section.questions}
        done[section.id] = not codes & set(space.missing) and any(
            question.id in values for question in section.questions)
    done["depot"] = not space.editable
    return done


def _answers(dossier: Dossier) -> DossierAnswers:
    """The dossier's answers (read with it), or blank ones not saved (made on the first save)."""
    try:
        return dossier.answers
    except DossierAnswers.DoesNotExist:
        return DossierAnswers(dossier=dossier)


# The applicant timeline is an allow-list: what applicants may see of the audit log, under each
# action's label. Everything else (experts, conflicts, private notes, decisions in preparation,
# commitments, any action added later) stays internal. See guichet.audit.actions.
APPLICANT_EVENTS = frozenset({
    AuditAction.DOSSIER_IMPORTED, AuditAction.DOSSIER_STARTED,
    AuditAction.CONSORTIUM_LEAD_DESIGNATED, AuditAction.DOSSIER_PROJECT_UPDATED,
    AuditAction.DOSSIER_HYBRID_PROFILE_UPDATED, AuditAction.DOSSIER_EXPENSE_ADDED,
    AuditAction.DOSSIER_EXPENSE_UPDATED, AuditAction.DOSSIER_FINANCING_ADDED,
    AuditAction.DOSSIER_FINANCING_UPDATED, AuditAction.DOSSIER_MILESTONE_ADDED,
    AuditAction.DOSSIER_LINE_DELETED, AuditAction.DOSSIER_ANNEX_IMPORTED,
    AuditAction.DOSSIER_DOCUMENT_ADDED, AuditAction.DOSSIER_DOCUMENT_REMOVED,
    AuditAction.CONSORTIUM_INVITED, AuditAction.CONSORTIUM_JOINED,
    AuditAction.CONSORTIUM_INVITATION_REVOKED, AuditAction.DOSSIER_REMINDED,
    AuditAction.DOSSIER_SUBMITTED, AuditAction.DOSSIER_INSTRUCTED,
    AuditAction.DOSSIER_CORRECTION_REQUESTED, AuditAction.DOSSIER_MESSAGE_POSTED,
    AuditAction.DECISION_PUBLISHED, AuditAction.DECISION_REVERTED, AuditAction.GRANT_SIGNED,
    AuditAction.GRANT_TRANCHE_PAID, AuditAction.GRANT_PAYMENT_REVERSED,
    AuditAction.GRANT_REPORT_SUBMITTED, AuditAction.GRANT_REPORT_REVIEWED,
    AuditAction.GRANT_REPORT_REMINDED, AuditAction.GRANT_BALANCE_COMPUTED,
    AuditAction.GRANT_AMENDED,
})
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
    applicants = dict(Participant.objects.filter(member__consortium_id=dossier.consortium_id)
                      .values_list("user_id", "user__email"))
    return [TimelineEntry(event.at, str(AuditAction(event.action).label),
                          _timeline_actor(event, applicants)) for event in events]


def _timeline_actor(event: AuditEvent, applicants: dict[int, str]) -> str:
    """The address of the applicant who acted, the team for staff, nothing for the system."""
    if event.actor_id is None:
        return ""
    return applicants.get(event.actor_id, str(STAFF_ACTOR))
