"""Applicants read the dossier's history hoping to learn what the review keeps internal:
who the experts are, declared conflicts, private notes, decisions still in preparation."""

import datetime as dt

import pytest
from django.utils import translation

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.dossiers.services import submit
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Outcome
from guichet.portal.selectors import APPLICANT_EVENTS, timeline
from guichet.review.experts import add_assignment, declare_conflict
from guichet.review.instruction import post_message, record_instruction
from guichet.review.models import Role
from guichet.review.scoring import save_scores
from tests.factories import lead_and_member, make_dossier, make_expert, staff

pytestmark = pytest.mark.django_db

EXPERTS = ("expert1@example.fr", "expert2@example.fr")
INTERNAL = sorted(set(AuditAction) - APPLICANT_EVENTS)


@pytest.fixture
def submitted(open_call, example_document):
    """A dossier submitted in the first wave, its lead and member, and the call's staff."""
    dossier = make_dossier(example_document)
    people = lead_and_member(dossier)
    first_wave = open_call.waves.order_by("position").first()
    submit(dossier, by=people[0], now=first_wave.closes_at - dt.timedelta(days=1))
    dossier.refresh_from_db()
    team = {role: staff(open_call, f"{role}@example.fr", role)
            for role in (Role.INSTRUCTOR, Role.COMMITTEE)}
    return dossier, people, team


def _applicant_pages(client, dossier, people) -> list[str]:
    pages = []
    for person in people:
        client.force_login(person)
        for url in (f"/dossiers/{dossier.pk}/etape/depot/", f"/dossiers/{dossier.pk}/accuse/"):
            response = client.get(url)
            assert response.status_code == 200
            pages.append(response.content.decode())
    return pages


def test_every_internal_event_type_stays_out_of_the_applicant_timeline(client, submitted):
    dossier, people, _team = submitted
    expert = staff(dossier.call, EXPERTS[0], Role.EXPERT)
    for action in AuditAction:  # the worst case: each one recorded on the dossier itself
        append_event(action, dossier, by=expert)
    entries = timeline(dossier)
    assert {entry.label for entry in entries} <= {str(action.label) for action in
                                                  APPLICANT_EVENTS}
    assert len(entries) == len(APPLICANT_EVENTS) + 2  # + the import and the submission
    assert {entry.actor for entry in entries} == {"", people[0].email, "L'équipe d'instruction"}
    for page in _applicant_pages(client, dossier, people):
        for action in INTERNAL:
            assert action not in page, action
        assert EXPERTS[0] not in page
        assert "L&#x27;équipe d&#x27;instruction" in page


def test_every_applicant_event_has_a_label_in_french_and_english():
    assert all(isinstance(action, AuditAction) for action in APPLICANT_EVENTS)
    for action in APPLICANT_EVENTS:
        with translation.override("fr"):
            french = str(action.label)
        with translation.override("en"):
            english = str(action.label)
        assert action.value not in french
        assert english != french, action
    assert {AuditAction.REVIEW_SCORES_SUBMITTED, AuditAction.REVIEW_CONFLICT_DECLARED,
            AuditAction.DOSSIER_NOTE_WRITTEN, AuditAction.DECISION_PREPARED,
            AuditAction.REVIEW_EXPERT_ADDED} <= set(INTERNAL)


def test_expert_review_never_reaches_the_applicants_timeline(client, submitted):
    dossier, people, team = submitted
    record_instruction(dossier, team[Role.INSTRUCTOR], admissible=True, eligible=True)
    dossier.refresh_from_db()
    profiles = [make_expert(dossier.call, email) for email in EXPERTS]
    assignment = add_assignment(dossier, profiles[0], team[Role.INSTRUCTOR])
    save_scores(assignment, profiles[0].user,
                {criterion.id: (3, "") for criterion in dossier.call.rules().selection.criteria},
                submit=True)
    declare_conflict(profiles[1], dossier, "Ancien salarié du chef de file.")
    post_message(dossier, team[Role.INSTRUCTOR], "Note : budget à vérifier.", private=True)
    post_message(dossier, team[Role.INSTRUCTOR], "Pouvez-vous préciser le calendrier ?")
    prepare_decision(dossier, team[Role.COMMITTEE], Outcome.SELECTED,
                     awarded_aid=dossier.requested_aid)
    for page in _applicant_pages(client, dossier, people):
        for leak in (*EXPERTS, "instructor@example.fr", "committee@example.fr",
                     "review.", "note_written", "decision.prepared", "Décision publiée"):
            assert leak not in page, leak
        assert "Instruction du dossier terminée (L&#x27;équipe d&#x27;instruction)" in page
        assert "Message échangé avec l&#x27;équipe d&#x27;instruction" in page
    labels = [entry.label for entry in timeline(dossier)]
    assert labels[-3:] == ["Dossier déposé, accusé de réception délivré",
                           "Instruction du dossier terminée",
                           "Message échangé avec l'équipe d'instruction"]
