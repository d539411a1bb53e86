"""Review services: instruction, corrections, messages, experts, assignment and scoring."""

import datetime as dt
import io
import json
import statistics
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.core.permissions import PermissionRefused
from guichet.dossiers.editing import update_project
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier, DossierStatus, Organisation, Submission
from guichet.dossiers.services import SubmissionRefused, submit
from guichet.review.experts import (
    ExpertRefused,
    NoExpert,
    add_assignment,
    affinity,
    assign_experts,
    declare_conflict,
    invite_expert,
    refresh_automatic_conflicts,
)
from guichet.review.instruction import (
    InstructionRefused,
    post_message,
    record_instruction,
    request_correction,
    thread,
)
from guichet.review.models import (
    Assignment,
    CallRole,
    Conflict,
    ExpertProfile,
    Instruction,
    Role,
    Score,
)
from guichet.review.scoring import ScoringRefused, aggregates, save_scores
from guichet.rules.definition import shipped_definition
from guichet.rules.dossier import parse_dossier
from guichet.rules.eligibility import evaluate
from guichet.rules.siret import make_siret
from tests.factories import (
    NOT_ALLOWED,
    OrganisationFactory,
    lead_and_member,
    make_dossier,
    make_expert,
    make_user,
    staff,
)

PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)
IN_WAVE_2 = dt.datetime(2021, 10, 15, 10, 0, tzinfo=PARIS)
AFTER_WAVE_1 = dt.datetime(2021, 9, 10, 9, 0, tzinfo=PARIS)  # between waves 1 and 2
CRITERIA = ["coverage", "spread", "transformation", "innovation", "hybridisation"]

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------

def submitted_dossier_in(example_document, now=IN_WAVE_1) -> Dossier:
    dossier = make_dossier(example_document)
    submit(dossier, now=now)
    dossier.refresh_from_db()
    return dossier


def instructed(dossier: Dossier, instructor, *, sector="btp", keywords="bim, chantier"):
    Dossier.objects.filter(pk=dossier.pk).update(sector=sector, keywords=keywords)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    dossier.refresh_from_db()
    return dossier


def expert(call, email: str, *, sectors=("btp",), keywords="", max_load=8,
           organisation=None) -> ExpertProfile:
    """An expert of the call's pool, stored directly (no automatic conflict refresh)."""
    return make_expert(call, email, sectors=sectors, keywords=keywords, max_load=max_load,
                       organisation=organisation)


def sibling_organisation(dossier: Dossier) -> Organisation:
    """Another establishment (same SIREN) of the dossier's non-lead member."""
    member = dossier.consortium.members.select_related("organisation").get(is_lead=False)
    siret = member.organisation.siret
    establishment = "0099" if siret[9:13] != "0099" else "0098"
    sibling = make_siret(siret[:8], establishment)
    assert sibling[:9] == siret[:9]
    assert sibling != siret
    return OrganisationFactory(siret=sibling, name="Filiale du membre")


def grid(*values: int, comment: str = "Justification écrite.") -> dict:
    """Scores for the five criteria, in the call's order, commented when required."""
    return {criterion: (value, comment if value < 2 else "")
            for criterion, value in zip(CRITERIA, values, strict=True)}


def events(action: str, dossier: Dossier) -> list[dict]:
    return [json.loads(e.details) for e in AuditEvent.objects.filter(
        action=action, object_id=str(dossier.pk)).order_by("sequence")]


# --- instruction ----------------------------------------------------------------------------

def test_record_instruction_confirms_automatic_verdict_without_motivation(
        deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    instruction = record_instruction(dossier, instructor, admissible=True, eligible=True)
    assert (instruction.admissible, instruction.eligible) == (True, True)
    assert instruction.overridden is False
    assert instruction.motivation == ""
    assert instruction.instructed_by == instructor
    assert instruction.instructed_at is not None
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.INSTRUCTED


def test_record_instruction_override_without_motivation_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    before = AuditEvent.objects.count()
    with pytest.raises(InstructionRefused) as refused:
        record_instruction(dossier, instructor, admissible=True, eligible=False,
                           motivation="   ")
    assert refused.value.field == "motivation"
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert not Instruction.objects.filter(dossier=dossier).exists()
    assert AuditEvent.objects.count() == before


def test_record_instruction_override_with_motivation_stored_and_logged(
        deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    reason = "Les lettres d'engagement ne sont pas signées par le membre."
    instruction = record_instruction(dossier, instructor, admissible=True, eligible=False,
                                     motivation=f"  {reason}  ")
    instruction.refresh_from_db()
    assert (instruction.eligible, instruction.overridden) == (False, True)
    assert instruction.motivation == reason
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.INSTRUCTED
    [logged] = events("dossier.instructed", dossier)
    assert logged["motivation"] == reason
    assert logged["overridden"] is True
    assert (logged["automatic"], logged["eligible"]) == (True, False)


def test_record_instruction_by_non_instructor_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    lead, _member = lead_and_member(dossier)
    an_expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    for user in (lead, an_expert):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            record_instruction(dossier, user, admissible=True, eligible=True)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert not Instruction.objects.exists()


# --- corrections ----------------------------------------------------------------------------

POINTS = "1. Joindre la lettre d'engagement signée d'EdTech Immersia.\n2. Préciser le jalon M12."


def test_request_correction_sends_dossier_back_and_mails_points(
        deffinum, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    deadline = AFTER_WAVE_1 + dt.timedelta(days=14)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_correction(dossier, instructor, POINTS, deadline, now=AFTER_WAVE_1)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.CORRECTION_REQUESTED
    assert (request.deadline, request.answered_at) == (deadline, None)
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    assert dossier.receipt_number in mail.subject
    assert "Joindre la lettre d'engagement signée d'EdTech Immersia." in mail.body
    assert "2. Préciser le jalon M12." in mail.body
    assert events("dossier.correction_requested", dossier) == [
        {"deadline": deadline.isoformat()}]


def test_resubmission_after_correction_keeps_receipt_and_first_instant(
        deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    first = dossier.submissions.get()
    receipt = dossier.receipt_number
    lead, _member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    request = request_correction(dossier, instructor, POINTS,
                                 AFTER_WAVE_1 + dt.timedelta(days=14), now=AFTER_WAVE_1)
    dossier.refresh_from_db()
    update_project(dossier, lead, dossier.version, {"title": "Campus hybride du bâtiment (v2)"})
    later = AFTER_WAVE_1 + dt.timedelta(days=3)  # wave 1 closed, correction deadline ahead
    second = submit(dossier, by=lead, now=later)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.receipt_number == receipt
    assert dossier.wave.code == "w1"
    assert (second.version, second.received_at, second.wave.code) == (2, later, "w1")
    assert second.sha256 != first.sha256
    frozen = submitted_dossier(second.snapshot)
    assert frozen.title == "Campus hybride du bâtiment (v2)"
    assert (frozen.submitted_at, frozen.first_submitted_at) == (later, IN_WAVE_1)
    assert second.eligible  # judged on the first receipt: wave 1 had closed by `later`
    request.refresh_from_db()
    assert request.answered_at == later
    assert list(Submission.objects.filter(dossier=dossier).values_list("version", flat=True)) \
        == [1, 2]


def resubmitted(deffinum, example_document):
    """A dossier received in wave 1, sent back for corrections, re-submitted three days after
    wave 1 closed with a new title."""
    dossier = submitted_dossier_in(example_document)
    lead, _member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    request_correction(dossier, instructor, POINTS, AFTER_WAVE_1 + dt.timedelta(days=14),
                       now=AFTER_WAVE_1)
    dossier.refresh_from_db()
    update_project(dossier, lead, dossier.version, {"title": "Campus hybride du bâtiment (v2)"})
    submit(dossier, by=lead, now=AFTER_WAVE_1 + dt.timedelta(days=3))
    return dossier


def test_export_dossier_of_resubmitted_dossier_gives_latest_version_and_both_instants(
        deffinum, example_document):
    dossier = resubmitted(deffinum, example_document)
    stdout = io.StringIO()
    call_command("export_dossier", str(dossier.pk), stdout=stdout)

    exported = json.loads(stdout.getvalue())
    assert exported["title"] == "Campus hybride du bâtiment (v2)"
    assert exported["submitted_at"] == "2021-09-13T09:00:00+02:00"  # the latest receipt
    assert exported["first_submitted_at"] == "2021-08-31T11:00:00+02:00"  # the first receipt
    verdict = evaluate(parse_dossier(stdout.getvalue()), shipped_definition("deffinum"))
    assert (verdict.wave, verdict.result("deadline").ok) == ("w1", True)


def test_export_dossier_submitted_once_has_no_first_instant(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    stdout = io.StringIO()
    call_command("export_dossier", str(dossier.pk), stdout=stdout)
    exported = json.loads(stdout.getvalue())
    assert exported["submitted_at"] == "2021-08-31T11:00:00+02:00"
    assert "first_submitted_at" not in exported or exported["first_submitted_at"] is None


def test_resubmission_after_correction_deadline_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    deadline = AFTER_WAVE_1 + dt.timedelta(days=14)
    request = request_correction(dossier, instructor, POINTS, deadline, now=AFTER_WAVE_1)
    with pytest.raises(SubmissionRefused, match="délai de correction"):
        submit(dossier, now=deadline + dt.timedelta(seconds=1))
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.CORRECTION_REQUESTED
    assert dossier.submissions.count() == 1
    request.refresh_from_db()
    assert request.answered_at is None


def test_request_correction_with_past_deadline_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with pytest.raises(InstructionRefused) as refused:
        request_correction(dossier, instructor, POINTS, AFTER_WAVE_1 - dt.timedelta(hours=1),
                           now=AFTER_WAVE_1)
    assert refused.value.field == "deadline"
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert not dossier.correction_requests.exists()


# --- messages -------------------------------------------------------------------------------

def test_post_message_private_note_never_in_applicant_thread(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    question = post_message(dossier, lead, "Faut-il renvoyer l'annexe financière ?")
    note = post_message(dossier, instructor, "Budget à vérifier avec le comité.", private=True)
    answer = post_message(dossier, instructor, "Non, elle est complète.")
    assert list(thread(dossier, instructor)) == [question, note, answer]
    assert list(thread(dossier, lead)) == [question, answer]
    assert list(thread(dossier, member)) == [question, answer]
    assert note.private is True
    assert question.private is False


def test_post_message_private_note_by_applicant_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    lead, _member = lead_and_member(dossier)
    with pytest.raises(
            InstructionRefused, match="Seule l'équipe d'instruction écrit des notes privées"):
        post_message(dossier, lead, "Note interne", private=True)
    assert not dossier.messages.exists()


def test_post_message_by_outsider_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    outsider = make_user("curieux@example.fr")
    with pytest.raises(InstructionRefused, match="Vous n'avez pas accès à ce dossier"):
        post_message(dossier, outsider, "Bonjour")
    assert not dossier.messages.exists()


def test_post_message_mails_participants_except_author_and_instructors_of_answers(
        deffinum, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):
        post_message(dossier, lead, "Une question sur le calendrier.")
    notice, to_instructor = mailoutbox
    assert notice.to == [member.email]
    assert dossier.receipt_number in notice.subject
    assert to_instructor.to == [instructor.email]
    assert f"/instruction/dossiers/{dossier.pk}/" in to_instructor.body
    with django_capture_on_commit_callbacks(execute=True):
        post_message(dossier, instructor, "Réponse de l'instruction.")
    assert sorted(mailoutbox[2].to) == sorted([lead.email, member.email])
    with django_capture_on_commit_callbacks(execute=True):
        post_message(dossier, instructor, "Note privée.", private=True)
    assert len(mailoutbox) == 3


# --- experts and conflicts ------------------------------------------------------------------

def test_invite_expert_creates_account_role_and_profile(deffinum, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves after commit
        profile = invite_expert(deffinum, "  Experte.BTP@Example.fr ", instructor,
                                sectors=["btp", "industrie", "btp"], keywords="bim", max_load=5)
    profile.refresh_from_db()
    assert profile.user.email == "experte.btp@example.fr"
    assert profile.sectors == ["btp", "industrie"]
    assert (profile.keywords, profile.max_load) == ("bim", 5)
    assert CallRole.objects.filter(user=profile.user, call=deffinum, role=Role.EXPERT).exists()
    assert not profile.user.has_usable_password()
    [invitation] = mailoutbox
    assert invitation.to == ["experte.btp@example.fr"]


def test_invite_expert_unknown_sector_refused(deffinum):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with pytest.raises(ExpertRefused) as refused:
        invite_expert(deffinum, "x@example.fr", instructor, sectors=["btp", "aeronautique"])
    assert refused.value.field == "sectors"
    assert "aeronautique" in refused.value.message
    assert not ExpertProfile.objects.exists()


def test_invite_expert_by_non_instructor_refused(deffinum):
    committee = staff(deffinum, "comite@example.fr", Role.COMMITTEE)
    with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
        invite_expert(deffinum, "x@example.fr", committee, sectors=["btp"])
    assert not ExpertProfile.objects.exists()


def test_invite_expert_same_siren_as_member_creates_automatic_conflict(
        deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    other = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    profile = invite_expert(deffinum, "expert@example.fr", instructor, sectors=["btp"],
                            organisation=sibling_organisation(dossier))
    [conflict] = Conflict.objects.filter(expert=profile)
    assert conflict.dossier == dossier
    assert conflict.source == Conflict.Source.AUTOMATIC
    assert dossier.consortium.members.get(is_lead=False).organisation.siren in conflict.reason
    assert not Conflict.objects.filter(dossier=other).exists()


def test_declare_conflict_removes_unsubmitted_assignment(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    instructed(dossier, instructor)
    profile = expert(deffinum, "expert@example.fr")
    add_assignment(dossier, profile, instructor)
    conflict = declare_conflict(profile, dossier, "J'ai conseillé le chef de file en 2020.")
    assert conflict.source == Conflict.Source.DECLARED
    assert not Assignment.objects.filter(expert=profile, dossier=dossier).exists()
    assert not profile.user.has_perm("review.view_dossier", dossier)
    assert events("review.conflict_declared", dossier) == [{"expert": profile.pk}]


def test_declare_conflict_without_reason_refused(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    profile = expert(deffinum, "expert@example.fr")
    with pytest.raises(ExpertRefused) as refused:
        declare_conflict(profile, dossier, "  ")
    assert refused.value.field == "reason"
    assert not Conflict.objects.exists()


def test_add_assignment_refuses_declared_conflict(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    profile = expert(deffinum, "expert@example.fr")
    declare_conflict(profile, dossier, "Ancien salarié du chef de file.")
    with pytest.raises(ExpertRefused, match="conflit"):
        add_assignment(dossier, profile, instructor)
    assert not Assignment.objects.exists()


def test_add_assignment_refuses_same_siren_expert(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    profile = expert(deffinum, "expert@example.fr", organisation=sibling_organisation(dossier))
    assert not Conflict.objects.exists()  # not stored yet: the SIREN alone refuses
    with pytest.raises(ExpertRefused, match="conflit"):
        add_assignment(dossier, profile, instructor)
    assert not Assignment.objects.exists()


def test_add_assignment_refuses_expert_at_max_load(deffinum, example_document):
    first = submitted_dossier_in(example_document)
    second = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    profile = expert(deffinum, "expert@example.fr", max_load=1)
    assignment = add_assignment(first, profile, instructor)
    assert assignment.manual is True
    with pytest.raises(ExpertRefused, match="charge maximale"):
        add_assignment(second, profile, instructor)
    assert list(Assignment.objects.values_list("dossier_id", flat=True)) == [first.pk]


def test_view_dossier_permission_false_for_conflicted_assigned_expert(
        deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    free = expert(deffinum, "libre@example.fr")
    conflicted = expert(deffinum, "lie@example.fr")
    add_assignment(dossier, free, instructor)
    add_assignment(dossier, conflicted, instructor)
    # The expert's organisation becomes known after the assignment: the refresh finds it.
    conflicted.organisation = sibling_organisation(dossier)
    conflicted.save()
    assert refresh_automatic_conflicts(deffinum) == 1
    assert Assignment.objects.filter(expert=conflicted, dossier=dossier).exists()
    assert free.user.has_perm("review.view_dossier", dossier) is True
    assert conflicted.user.has_perm("review.view_dossier", dossier) is False
    assert conflicted.user.has_perm("review.score", dossier) is False
    unassigned = expert(deffinum, "autre@example.fr")
    assert unassigned.user.has_perm("review.view_dossier", dossier) is False


def test_view_scores_permission_only_after_own_review_submitted(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    instructed(dossier, instructor)
    first, second = expert(deffinum, "a@example.fr"), expert(deffinum, "b@example.fr")
    first_assignment = add_assignment(dossier, first, instructor)
    second_assignment = add_assignment(dossier, second, instructor)
    save_scores(first_assignment, first.user, grid(4, 4, 3, 5, 4), submit=True)
    save_scores(second_assignment, second.user, grid(3, 3, 3, 3, 3))  # a draft only
    assert second.user.has_perm("review.view_scores", dossier) is False
    assert first.user.has_perm("review.view_scores", dossier) is True
    save_scores(second_assignment, second.user, grid(3, 3, 3, 3, 3), submit=True)
    assert second.user.has_perm("review.view_scores", dossier) is True
    assert instructor.has_perm("review.view_scores", dossier) is True


# --- optimal assignment ---------------------------------------------------------------------

def _experts_pool(call):
    return [
        expert(call, "e1@example.fr", sectors=["btp"], keywords="bim, chantier", max_load=2),
        expert(call, "e2@example.fr", sectors=["btp", "industrie"], keywords="bim", max_load=2),
        expert(call, "e3@example.fr", sectors=["industrie"], keywords="chantier", max_load=2),
        expert(call, "e4@example.fr", sectors=["numerique"], keywords="", max_load=1),
        expert(call, "e5@example.fr", sectors=["btp"], keywords="", max_load=2),
    ]


def test_assign_experts_gives_each_dossier_three_distinct_experts_within_loads(
        deffinum, example_document):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossiers = [instructed(submitted_dossier_in(example_document), instructor)
                for _ in range(2)]
    pool = _experts_pool(deffinum)
    # The best-matching expert works for a sibling of the first dossier's member.
    pool[0].organisation = sibling_organisation(dossiers[0])
    pool[0].save()
    not_reviewable = submitted_dossier_in(example_document)  # submitted, not instructed
    wave = dossiers[0].wave
    result = assign_experts(wave, instructor)
    assert result.optimal is True
    assert Conflict.objects.filter(expert=pool[0], dossier=dossiers[0]).exists()
    for dossier in dossiers:
        experts_of = list(Assignment.objects.filter(dossier=dossier)
                          .values_list("expert_id", flat=True))
        assert len(experts_of) == 3 == len(set(experts_of))
    assert not Assignment.objects.filter(dossier=not_reviewable).exists()
    assert not Assignment.objects.filter(expert=pool[0], dossier=dossiers[0]).exists()
    for profile in pool:
        assert Assignment.objects.filter(expert=profile).count() <= profile.max_load
    for conflict in Conflict.objects.all():
        assert not Assignment.objects.filter(expert=conflict.expert,
                                             dossier=conflict.dossier).exists()
    assert result.pairs == Assignment.objects.count() == 3 * len(dossiers)
    assert result.kept == 0
    assert result.objective == pytest.approx(result.upper_bound)


def test_assign_experts_rerun_keeps_assignments_with_scores(deffinum, example_document):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossiers = [instructed(submitted_dossier_in(example_document), instructor)
                for _ in range(2)]
    _experts_pool(deffinum)
    wave = dossiers[0].wave
    assign_experts(wave, instructor)
    started = Assignment.objects.filter(dossier=dossiers[0]).order_by("pk").first()
    save_scores(started, started.expert.user, {"coverage": (4, "")})
    assign_experts(wave, instructor)
    kept = Assignment.objects.get(pk=started.pk)
    assert kept.scores.get().value == 4
    for dossier in dossiers:
        assert Assignment.objects.filter(dossier=dossier).count() == 3


def test_assign_experts_rerun_after_pool_change_keeps_three_experts_per_dossier(
        deffinum, example_document):
    """An expert with a started review keeps it; the dossier still has exactly three experts
    after a better-matching expert joins the pool and the assignment is run again."""
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossier = instructed(submitted_dossier_in(example_document), instructor)
    weak = expert(deffinum, "faible@example.fr", sectors=["industrie"], keywords="bim")
    expert(deffinum, "b@example.fr", sectors=["btp"], keywords="bim")
    expert(deffinum, "c@example.fr", sectors=["btp"], keywords="bim")
    assign_experts(dossier.wave, instructor)
    started = Assignment.objects.get(dossier=dossier, expert=weak)
    save_scores(started, weak.user, {"coverage": (3, "")})
    expert(deffinum, "ideal@example.fr", sectors=["btp"], keywords="bim, chantier")
    assign_experts(dossier.wave, instructor)
    assert Assignment.objects.filter(pk=started.pk).exists()
    assert Assignment.objects.filter(dossier=dossier).count() == 3


def test_assign_experts_counts_load_already_taken_in_earlier_wave(deffinum, example_document):
    """max_load is the expert's load on the whole call (as add_assignment counts it)."""
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    first = instructed(submitted_dossier_in(example_document), instructor)
    pool = [expert(deffinum, f"e{i}@example.fr", max_load=1) for i in range(4)]
    assign_experts(first.wave, instructor)
    second = instructed(submitted_dossier_in(example_document, now=IN_WAVE_2), instructor)
    assert second.wave.code == "w2"
    # Three reviews a dossier, and only one expert has room left on the call: the run says
    # so for that dossier instead of assigning it fewer experts than it needs.
    summary = assign_experts(second.wave, instructor)
    assert [(u.dossier, u.receipt_number, u.reason, u.free_experts)
            for u in summary.unassigned] == [
        (second.pk, second.receipt_number, NoExpert.LOADS_EXHAUSTED, 1)]
    assert summary.pairs == 0
    assert not Assignment.objects.filter(dossier=second).exists()
    for profile in pool:
        assert Assignment.objects.filter(expert=profile).count() <= profile.max_load


def test_assign_experts_by_non_instructor_refused(deffinum):
    committee = staff(deffinum, "comite@example.fr", Role.COMMITTEE)
    with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
        assign_experts(Wave.objects.get(call=deffinum, code="w1"), committee)


# --- scoring --------------------------------------------------------------------------------

@pytest.fixture
def assignment(deffinum, example_document):
    dossier = submitted_dossier_in(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    instructed(dossier, instructor)
    return add_assignment(dossier, expert(deffinum, "expert@example.fr"), instructor)


def stored_scores(assignment) -> dict:
    return {s.criterion: (s.value, s.comment) for s in Score.objects.filter(assignment=assignment)}


def test_save_scores_draft_then_submit(assignment):
    by = assignment.expert.user
    save_scores(assignment, by, {"coverage": (4, ""), "spread": (1, " Trop peu diffusé. ")})
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    assert stored_scores(assignment) == {"coverage": (4, ""), "spread": (1, "Trop peu diffusé.")}
    save_scores(assignment, by, grid(5, 3, 4, 4, 3), submit=True)
    assignment.refresh_from_db()
    assert assignment.submitted_at is not None
    assert stored_scores(assignment) == grid(5, 3, 4, 4, 3)
    assert events("review.scores_submitted", assignment.dossier) == [
        {"assignment": assignment.pk}]


@pytest.mark.parametrize("value", [-1, 6])
def test_save_scores_outside_scale_refused(assignment, value):
    with pytest.raises(ScoringRefused) as refused:
        save_scores(assignment, assignment.expert.user, {"innovation": (value, "Commentaire")})
    assert refused.value.field == "innovation"
    assert not Score.objects.exists()


def test_save_scores_low_score_without_comment_refused_naming_criterion(assignment):
    values = grid(4, 4, 4, 4, 4)
    values["transformation"] = (1, "  ")
    with pytest.raises(ScoringRefused) as refused:
        save_scores(assignment, assignment.expert.user, values, submit=True)
    assert refused.value.field == "transformation"
    assert "commentaire" in refused.value.message.lower()
    assert not Score.objects.exists()
    assignment.refresh_from_db()
    assert assignment.submitted_at is None


def test_save_scores_score_at_threshold_needs_no_comment(assignment):
    save_scores(assignment, assignment.expert.user, grid(2, 2, 2, 2, 2), submit=True)
    assert stored_scores(assignment) == grid(2, 2, 2, 2, 2)


def test_save_scores_submit_requires_every_criterion(assignment):
    values = grid(4, 4, 4, 4, 4)
    del values["hybridisation"]
    with pytest.raises(ScoringRefused) as refused:
        save_scores(assignment, assignment.expert.user, values, submit=True)
    assert refused.value.field == "hybridisation"
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    assert not Score.objects.exists()


def test_save_scores_unknown_criterion_refused(assignment):
    with pytest.raises(ScoringRefused) as refused:
        save_scores(assignment, assignment.expert.user, {"budget": (3, "")})
    assert refused.value.field == "budget"


def test_save_scores_after_submission_refused(assignment):
    save_scores(assignment, assignment.expert.user, grid(4, 4, 4, 4, 4), submit=True)
    with pytest.raises(ScoringRefused, match="déjà rendue"):
        save_scores(assignment, assignment.expert.user, grid(5, 5, 5, 5, 5))
    assert stored_scores(assignment) == grid(4, 4, 4, 4, 4)


def test_save_scores_by_someone_else_refused(deffinum, assignment):
    instructor = CallRole.objects.get(role=Role.INSTRUCTOR).user
    colleague = expert(deffinum, "collegue@example.fr")
    add_assignment(assignment.dossier, colleague, instructor)  # on the same dossier
    for user in (colleague.user, instructor):
        with pytest.raises(ScoringRefused, match="Cette expertise ne vous est pas confiée"):
            save_scores(assignment, user, grid(4, 4, 4, 4, 4))
    assert not Score.objects.exists()


def test_aggregates_weighted_means_spread_and_disagreement(deffinum, example_document):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossier = instructed(submitted_dossier_in(example_document), instructor)
    calm = instructed(submitted_dossier_in(example_document), instructor)
    experts_ = [expert(deffinum, f"e{i}@example.fr") for i in range(3)]
    sheets = {dossier.pk: [grid(1, 1, 0, 2, 1), grid(3, 4, 4, 5, 2), grid(4, 5, 4, 4, 4)],
              calm.pk: [grid(3, 3, 3, 3, 3), grid(4, 3, 4, 3, 4), grid(3, 4, 3, 4, 3)]}
    for target in (dossier, calm):
        for profile, values in zip(experts_, sheets[target.pk], strict=True):
            save_scores(add_assignment(target, profile, instructor), profile.user, values,
                        submit=True)
    unscored = instructed(submitted_dossier_in(example_document), instructor)
    result = aggregates(deffinum, [dossier.pk, calm.pk, unscored.pk])
    split = result[dossier.pk]
    assert split.expert_means == {experts_[0].pk: Decimal("1.00"),
                                  experts_[1].pk: Decimal("3.60"),
                                  experts_[2].pk: Decimal("4.20")}
    assert split.mean == Decimal("2.93")  # 8.80 / 3
    assert split.median == Decimal("3.60")
    assert split.spread == Decimal("3.20")
    assert split.disagreement is True
    assert split.normalised is not None
    agreed = result[calm.pk]
    assert agreed.expert_means == {experts_[0].pk: Decimal("3.00"),
                                   experts_[1].pk: Decimal("3.60"),
                                   experts_[2].pk: Decimal("3.40")}
    assert (agreed.mean, agreed.median, agreed.spread) == (
        Decimal("3.33"), Decimal("3.40"), Decimal("0.60"))
    assert agreed.disagreement is False
    assert agreed.normalised is not None
    empty = result[unscored.pk]
    assert (empty.mean, empty.median, empty.spread, empty.normalised) == (None, None, None, None)
    assert empty.disagreement is False


def test_aggregates_ignore_draft_scores(deffinum, assignment):
    save_scores(assignment, assignment.expert.user, grid(4, 4, 4, 4, 4))
    assert aggregates(deffinum, [assignment.dossier_id])[assignment.dossier_id].mean is None


def test_aggregates_spread_equal_to_threshold_is_no_disagreement(deffinum, assignment):
    instructor = CallRole.objects.get(role=Role.INSTRUCTOR).user
    other = add_assignment(assignment.dossier, expert(deffinum, "b@example.fr"), instructor)
    save_scores(assignment, assignment.expert.user, grid(2, 2, 2, 2, 2), submit=True)
    save_scores(other, other.expert.user, grid(4, 4, 4, 4, 4), submit=True)
    result = aggregates(deffinum, [assignment.dossier_id])[assignment.dossier_id]
    assert (result.mean, result.median, result.spread) == (
        Decimal("3.00"), Decimal("3.00"), Decimal("2.00"))
    assert result.disagreement is False  # flagged only above selection.disagreement_spread


def test_affinity_uses_the_call_weights(deffinum):
    selection = deffinum.rules().selection
    expert = ExpertProfile(sectors=["btp"], keywords="BIM, chantier, numérique")
    dossier = Dossier(sector="btp", keywords="bim, chantier")
    # sector 0.6 + keywords 0.4 × |{bim, chantier}| / |{bim, chantier, numérique}|
    assert affinity(expert, dossier, selection) == 0.8667
    assert affinity(expert, Dossier(sector="sante", keywords=""), selection) == 0.0


def _normalised_in_python(means: dict[int, dict[int, Decimal]], dossier_id: int) -> Decimal:
    """The z-score view computed the way it was before the database did it: every review of
    the call loaded, statistics in Decimal (the reference the SQL figures must match)."""
    by_expert: dict[int, list[Decimal]] = {}
    for per_expert in means.values():
        for expert_id, mean in per_expert.items():
            by_expert.setdefault(expert_id, []).append(mean)
    everything = [v for values in by_expert.values() for v in values]
    pool_mean = Decimal(statistics.mean(everything))
    pool_sd = Decimal(statistics.pstdev(everything)) or Decimal(1)
    values = []
    for expert_id, value in means[dossier_id].items():
        own = by_expert[expert_id]
        mean, sd = Decimal(statistics.mean(own)), Decimal(statistics.pstdev(own))
        values.append(value - mean + pool_mean if len(own) < 2 or not sd
                      else pool_mean + (value - mean) / sd * pool_sd)
    return (sum(values) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_aggregates_normalised_matches_the_decimal_reference(deffinum, example_document):
    """Harsh, lenient and one-review experts; reviews of dossiers not asked for still shape
    the experts' and the pool's statistics."""
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossiers = [instructed(submitted_dossier_in(example_document), instructor)
                for _ in range(4)]
    experts_ = [expert(deffinum, f"e{i}@example.fr") for i in range(4)]
    sheets = [[grid(1, 2, 1, 2, 2), grid(4, 5, 4, 4, 5), grid(3, 3, 4, 3, 3)],
              [grid(2, 2, 3, 2, 2), grid(5, 5, 5, 4, 5), grid(2, 3, 2, 3, 2)],
              [grid(2, 1, 1, 2, 1), grid(4, 4, 4, 4, 4), grid(4, 3, 4, 3, 4)],
              [grid(3, 3, 3, 3, 4)]]
    for dossier, reviews in zip(dossiers, sheets, strict=True):
        reviewers = experts_[3:] if len(reviews) == 1 else experts_[:3]  # e3: one review
        for profile, values in zip(reviewers, reviews, strict=True):
            save_scores(add_assignment(dossier, profile, instructor), profile.user, values,
                        submit=True)
    every = aggregates(deffinum, [d.pk for d in dossiers])
    means = {pk: aggregate.expert_means for pk, aggregate in every.items()}
    asked = aggregates(deffinum, [dossiers[0].pk, dossiers[3].pk])
    for dossier in (dossiers[0], dossiers[3]):
        assert asked[dossier.pk] == every[dossier.pk]
        assert asked[dossier.pk].normalised == _normalised_in_python(means, dossier.pk)
    assert every[dossiers[1].pk].normalised == _normalised_in_python(means, dossiers[1].pk)
