"""Every event a person must act on or know about: one mail to the right people and one in-app
notification each, written by the same outbox task; the daily digest; the notifications page."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.services import submit
from guichet.grants.agreement import sign_agreement
from guichet.grants.models import Grant, ReportKind, Tranche
from guichet.grants.payments import record_payment
from guichet.grants.reports import review_report, submit_report
from guichet.notifications.digest import send_digests
from guichet.notifications.kinds import Kind
from guichet.notifications.models import Notification
from guichet.notifications.services import set_mail_digest
from guichet.review.experts import add_assignment, assign_experts
from guichet.review.instruction import record_instruction, request_correction
from guichet.review.models import Assignment, ExpertProfile, Role
from guichet.review.reminders import remind_reviews
from tests.factories import decided_dossier, lead_and_member, make_dossier, staff

PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


def notified(kind: Kind) -> list[str]:
    """Who has an in-app notification of `kind`."""
    return sorted(Notification.objects.filter(kind=kind)
                  .values_list("recipient__email", flat=True))


def submitted(example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_1)
    dossier.refresh_from_db()
    return dossier


def expert_of(call, email: str) -> ExpertProfile:
    user = staff(call, email, Role.EXPERT)
    return ExpertProfile.objects.create(user=user, call=call, sectors=["btp"])


@pytest.fixture
def instructed(deffinum, example_document):
    dossier = submitted(example_document)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    dossier.refresh_from_db()
    return dossier, instructor


@pytest.fixture
def signed(deffinum, example_document, django_capture_on_commit_callbacks):
    """A committed grant whose lead signed the agreement (its mails left)."""
    dossier = decided_dossier(deffinum, example_document)
    lead, member = lead_and_member(dossier)
    grant = Grant.objects.get(dossier=dossier)
    with django_capture_on_commit_callbacks(execute=True):
        sign_agreement(grant, lead, SimpleUploadedFile("convention.pdf", blank_pdf(),
                                                       content_type="application/pdf"))
    grant.refresh_from_db()
    return grant, lead, member


def handed_in(grant, lead):
    members = grant.dossier.consortium.members.order_by("-is_lead", "pk")
    report = grant.reports.get(kind=ReportKind.INTERMEDIATE)
    return submit_report(report, lead, narrative="Trois parcours hybridés.",
                         indicators={"learners_reached": 10},
                         expenses=[(members[0].pk, "staff", Decimal("1000.00"))])


def test_record_instruction_mails_and_notifies_each_participant_once(
        deffinum, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = submitted(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):
        record_instruction(dossier, instructor, admissible=True, eligible=True)
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    assert dossier.receipt_number in mail.subject
    assert notified(Kind.INSTRUCTION_DONE) == sorted([lead.email, member.email])


def test_request_correction_notifies_participants_in_app(
        deffinum, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = submitted(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):
        request_correction(dossier, instructor, "Le budget.",
                           dt.datetime(2030, 1, 1, tzinfo=PARIS))
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    assert notified(Kind.CORRECTION_REQUESTED) == sorted([lead.email, member.email])
    row = Notification.objects.get(recipient=lead)
    assert row.link == f"/dossiers/{dossier.pk}/etape/depot/"
    assert dossier.receipt_number in row.about


def test_add_assignment_mails_and_notifies_the_expert_with_due_date(
        deffinum, instructed, django_capture_on_commit_callbacks, mailoutbox):
    dossier, instructor = instructed
    expert = expert_of(deffinum, "experte@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        assignment = add_assignment(dossier, expert, instructor)
    [mail] = mailoutbox
    assert mail.to == ["experte@example.fr"]
    assert assignment.due_on is not None
    assert f"{assignment.due_on:%d/%m/%Y}" in mail.body
    assert f"/instruction/expertises/{assignment.pk}/" in mail.body
    assert notified(Kind.EXPERT_ASSIGNED) == ["experte@example.fr"]


def test_assign_experts_mails_each_expert_once_with_all_their_dossiers(
        deffinum, example_document, instructed, django_capture_on_commit_callbacks,
        mailoutbox):
    first, instructor = instructed
    second = submitted(example_document)
    record_instruction(second, instructor, admissible=True, eligible=True)
    for n in range(3):
        expert_of(deffinum, f"expert{n}@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        assign_experts(first.wave, instructor)
    assert sorted(mail.to[0] for mail in mailoutbox) == [
        "expert0@example.fr", "expert1@example.fr", "expert2@example.fr"]
    for mail in mailoutbox:
        assert len(mail.to) == 1
        for dossier in (first, second):
            assignment = Assignment.objects.get(dossier__receipt_number=dossier.receipt_number,
                                                expert__user__email=mail.to[0])
            assert f"/instruction/expertises/{assignment.pk}/" in mail.body
    assert notified(Kind.EXPERT_ASSIGNED) == [
        "expert0@example.fr", "expert1@example.fr", "expert2@example.fr"]
    assert "— 2 dossiers" in Notification.objects.first().about


def test_remind_reviews_sends_due_then_overdue_once_each(
        deffinum, instructed, django_capture_on_commit_callbacks, mailoutbox):
    dossier, instructor = instructed
    assignment = add_assignment(dossier, expert_of(deffinum, "experte@example.fr"), instructor)
    due = assignment.due_on
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_reviews(due - dt.timedelta(days=30)) == 0  # too early
        assert remind_reviews(due - dt.timedelta(days=1)) == 1
        assert remind_reviews(due) == 0  # reminded already
    [reminder] = mailoutbox
    assert reminder.to == ["experte@example.fr"]
    assert f"{due:%d/%m/%Y}" in reminder.subject
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_reviews(due + dt.timedelta(days=1)) == 1
        assert remind_reviews(due + dt.timedelta(days=2)) == 0
    assert len(mailoutbox) == 2
    assert notified(Kind.REVIEW_DUE) == notified(Kind.REVIEW_OVERDUE) == ["experte@example.fr"]


def test_sign_agreement_requests_reports_with_their_due_dates(signed, mailoutbox):
    grant, lead, member = signed
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    for report in grant.reports.all():
        assert f"{report.due_on:%d/%m/%Y}" in mail.body
    assert notified(Kind.REPORT_REQUESTED) == sorted([lead.email, member.email])


@pytest.mark.parametrize(("approve", "kind"), [(True, Kind.REPORT_APPROVED),
                                               (False, Kind.REPORT_CHANGES_REQUESTED)])
def test_review_report_mails_participants_the_outcome(
        signed, django_capture_on_commit_callbacks, mailoutbox, approve, kind):
    grant, lead, member = signed
    report = handed_in(grant, lead)
    instructor = grant.dossier.call.roles.get(role=Role.INSTRUCTOR).user
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_report(report, instructor, approve=approve, comment="Joindre les factures.")
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    assert ("Joindre les factures." in mail.body) is not approve
    assert notified(kind) == sorted([lead.email, member.email])


def test_record_payment_mails_participants_amount_and_reference(
        signed, django_capture_on_commit_callbacks, mailoutbox):
    grant, lead, member = signed
    tranche = Tranche.objects.get(grant=grant, number=1)
    instructor = grant.dossier.call.roles.get(role=Role.INSTRUCTOR).user
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        record_payment(tranche, instructor, paid_on=dt.date(2022, 2, 1), reference="VIR-0001")
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted([lead.email, member.email])
    assert "VIR-0001" in mail.body
    assert "01/02/2022" in mail.body
    assert notified(Kind.PAYMENT_MADE) == sorted([lead.email, member.email])


# --- the daily digest -----------------------------------------------------------------------

def test_digest_person_gets_no_immediate_mail_but_one_digest_a_day(
        deffinum, instructed, django_capture_on_commit_callbacks, mailoutbox):
    dossier, instructor = instructed
    expert = expert_of(deffinum, "experte@example.fr")
    set_mail_digest(expert.user, True)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = add_assignment(dossier, expert, instructor)
        remind_reviews(assignment.due_on - dt.timedelta(days=1))
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=expert.user, awaits_digest=True).count() == 2
    day = assignment.due_on
    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests(day) == 1
        assert send_digests(day) == 0
    [digest] = mailoutbox
    assert digest.to == ["experte@example.fr"]
    assert "Dossiers à expertiser" in digest.body
    assert "Rappel d'expertise à rendre" in digest.body
    assert not Notification.objects.filter(awaits_digest=True).exists()
    assert Notification.objects.filter(kind=Kind.DAILY_DIGEST).count() == 0


def test_digest_of_a_day_asked_twice_is_written_once(deffinum, instructed,
                                                     django_capture_on_commit_callbacks,
                                                     mailoutbox):
    dossier, instructor = instructed
    expert = expert_of(deffinum, "experte@example.fr")
    set_mail_digest(expert.user, True)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = add_assignment(dossier, expert, instructor)
    with django_capture_on_commit_callbacks(execute=True):
        send_digests(assignment.due_on)
    # Another notification of the same day, then the job runs again for that day: the
    # digest of the day is already sent, so the mail is not sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        remind_reviews(assignment.due_on - dt.timedelta(days=1))
        send_digests(assignment.due_on)
    assert len(mailoutbox) == 1


# --- the page -------------------------------------------------------------------------------

def test_notifications_page_lists_only_own_and_marks_read(
        client, deffinum, example_document, django_capture_on_commit_callbacks):
    dossier = submitted(example_document)
    lead, member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):
        record_instruction(dossier, instructor, admissible=True, eligible=True)
    client.force_login(lead)
    page = client.get("/notifications/").content.decode()
    assert "Instruction terminée" in page
    assert 'data-testid="unread-count">1<' in page
    others = Notification.objects.get(recipient=member)
    client.post("/notifications/lues/", {"notification": others.pk})
    others.refresh_from_db()
    assert others.read_at is None  # another person's notification is never touched
    client.post("/notifications/lues/", {"notification": "x"})
    client.post("/notifications/lues/")
    assert Notification.objects.get(recipient=lead).read_at is not None
    assert 'data-testid="unread-count"' not in client.get("/notifications/").content.decode()
    client.force_login(instructor)
    assert "Instruction terminée" not in client.get("/notifications/").content.decode()


def test_mail_preference_only_for_staff(client, deffinum, example_document):
    dossier = submitted(example_document)
    lead, _member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    client.force_login(lead)
    client.post("/notifications/preference/", {"digest": "1"})
    lead.refresh_from_db()
    assert lead.mail_digest is False
    client.force_login(instructor)
    assert "Un résumé quotidien" in client.get("/notifications/").content.decode()
    client.post("/notifications/preference/", {"digest": "1"})
    instructor.refresh_from_db()
    assert instructor.mail_digest is True
