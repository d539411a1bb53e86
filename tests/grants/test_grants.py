"""Grants: commitment against the envelopes, early closure, agreement, payments, reports,
amendments and the money dashboard."""

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from guichet.accounts.models import User
from guichet.audit.models import AuditEvent
from guichet.audit.services import verify_chain
from guichet.calls.models import Call, CallStatus, Programme, Wave
from guichet.calls.services import CallRefused, close_call
from guichet.core.permissions import PermissionRefused
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.dossiers.services import SubmissionRefused, submit
from guichet.grants import dashboard
from guichet.grants.agreement import sign_agreement
from guichet.grants.amendments import amend_grant, move_budget
from guichet.grants.decisions import prepare_decision, publish_decisions, revert_decision
from guichet.grants.documents import agreement_pdf, recovery_order_pdf
from guichet.grants.errors import GrantRefused
from guichet.grants.models import (
    Amendment,
    Decision,
    DecisionStatus,
    Grant,
    GrantStatus,
    Outcome,
    Payment,
    RecoveryOrder,
    Report,
    ReportExpense,
    ReportKind,
    ReportStatus,
    Tranche,
    TrancheStatus,
)
from guichet.grants.payments import record_payment, reverse_payment
from guichet.grants.reports import remind_reports, review_report, submit_report
from guichet.grants.selectors import (
    accepted_expenses,
    allowances,
    current_budget,
    paid_total,
    programme_remaining,
)
from guichet.opendata import exports
from guichet.review.instruction import record_instruction
from guichet.rules import dossier as fmt
from guichet.rules.grants import balance_due, months_after, tranche_amounts, wave_allowances
from guichet.rules.money import format_eur_fr
from tests.factories import NOT_ALLOWED, lead_and_member, make_applicant, make_dossier

PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)
IN_WAVE_2 = dt.datetime(2021, 10, 15, 10, 0, tzinfo=PARIS)
SIGNED_AT = dt.datetime(2022, 1, 10, 15, 30, tzinfo=PARIS)
START = dt.date(2022, 1, 1)  # the example dossier's start date
REQUESTED = Decimal("560000.00")  # the example dossier's aid: 70 % of its 800 000 € base
BASE = Decimal("800000.00")
SHARES = [Decimal("0.50"), Decimal("0.30"), None]
T1, T2, T3 = Decimal("280000.00"), Decimal("168000.00"), Decimal("112000.00")
THRESHOLD = Decimal("350000.00")

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------

def instructed_dossier(document: dict, instructor, *, now=IN_WAVE_1) -> Dossier:
    """A dossier submitted at `now`, instructed admissible and eligible."""
    dossier = make_dossier(document)
    submit(dossier, now=now)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    dossier.refresh_from_db()
    return dossier


def select(team, dossier: Dossier, aid: Decimal = REQUESTED) -> Decision:
    motivation = "" if aid == REQUESTED else "Dépenses d'équipement réduites."
    return prepare_decision(dossier, team["committee"], Outcome.SELECTED, awarded_aid=aid,
                            motivation=motivation)


def wave(call, code: str) -> Wave:
    return Wave.objects.get(call=call, code=code)


def set_envelope(call, amount: Decimal) -> None:
    Programme.objects.filter(pk=call.programme_id).update(envelope=amount)


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    return plain(text)


def plain(text: str) -> str:
    """Spaces of any width as plain spaces (PDF text extraction loses the narrow ones)."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def pdf_upload(content: bytes | None = None, name: str = "convention-signee.pdf"):
    return SimpleUploadedFile(name, blank_pdf() if content is None else content,
                              content_type="application/pdf")


def events(action: str, dossier: Dossier) -> list[dict]:
    return [json.loads(e.details) for e in AuditEvent.objects.filter(
        action=action, object_id=str(dossier.pk)).order_by("sequence")]


def grant_actions(dossier: Dossier) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(dossier.pk),
                                          action__startswith="grant.")
                .order_by("sequence").values_list("action", flat=True))


def tranche(grant: Grant, number: int) -> Tranche:
    return Tranche.objects.get(grant=grant, number=number)


def report(grant: Grant, kind: str) -> Report:
    return Report.objects.get(grant=grant, kind=kind)


@dataclass
class Granted:
    grant: Grant
    dossier: Dossier
    lead: User
    member: User


@pytest.fixture
def granted(team, example_document) -> Granted:
    """The example dossier selected for its full aid, published, hence committed."""
    dossier = instructed_dossier(example_document, team["instructor"])
    lead, member = lead_and_member(dossier)
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    return Granted(Grant.objects.get(dossier=dossier), dossier, lead, member)


@pytest.fixture
def signed(granted) -> Granted:
    sign_agreement(granted.grant, granted.lead, pdf_upload(), now=SIGNED_AT)
    granted.grant.refresh_from_db()
    return granted


def statement(dossier: Dossier, lead_amount: str, member_amount: str) -> list:
    """A statement of actual expenses: staff for the lead, subcontracting for the member."""
    lead = dossier.consortium.members.get(is_lead=True)
    other = dossier.consortium.members.get(is_lead=False)
    return [(lead.pk, "staff", Decimal(lead_amount)),
            (other.pk, "subcontracting", Decimal(member_amount))]


def hand_in(granted: Granted, kind: str, lead_amount: str = "450000.00",
            member_amount: str = "350000.00") -> Report:
    return submit_report(
        report(granted.grant, kind), granted.lead,
        narrative="Trois parcours hybridés, 1 200 apprenants touchés.",
        indicators={"learners_reached": 1200, "courses_hybridised": 3},
        expenses=statement(granted.dossier, lead_amount, member_amount))


def pay(granted: Granted, number: int, team, reference: str | None = None) -> Payment:
    return record_payment(tranche(granted.grant, number), team["instructor"],
                                   paid_on=dt.date(2022, 2, number),
                                   reference=reference or f"VIR-2022-{number:04d}")


@pytest.fixture
def intermediate_paid(signed, team) -> Granted:
    """Tranches 1 and 2 paid, after the intermediate report was approved."""
    pay(signed, 1, team)
    hand_in(signed, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    review_report(report(signed.grant, ReportKind.INTERMEDIATE), team["instructor"],
                           approve=True)
    pay(signed, 2, team)
    return signed


# --- commitment -----------------------------------------------------------------------------

def test_publish_selected_decision_commits_grant_with_schedule_and_reports(
        team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    award = Decimal("333333.33")  # tranches that do not split evenly
    decision = select(team, dossier, award)
    publish_decisions(dossier.wave, team["admin"])
    decision.refresh_from_db()
    grant = Grant.objects.get(dossier=dossier)
    assert (grant.decision, grant.wave, grant.award) == (decision, dossier.wave, award)
    assert grant.eligible_base == BASE  # from the frozen submission
    assert (grant.duration_months, grant.start_date) == (36, START)
    assert (grant.status, grant.version) == (GrantStatus.COMMITTED, 1)
    assert grant.committed_at == decision.published_at
    tranches = list(grant.tranches.order_by("number"))
    assert [(t.number, t.trigger, t.scheduled_amount, t.status, t.amount) for t in tranches] == [
        (1, "agreement_signed", Decimal("166666.67"), TrancheStatus.SCHEDULED, None),
        (2, "intermediate_report_approved", Decimal("100000.00"), TrancheStatus.SCHEDULED, None),
        (3, "final_report_approved", Decimal("66666.66"), TrancheStatus.SCHEDULED, None)]
    assert [t.scheduled_amount for t in tranches] == tranche_amounts(award, SHARES)
    assert sum(t.scheduled_amount for t in tranches) == award
    reports = list(grant.reports.order_by("due_on"))
    assert [(r.kind, r.due_on, r.status) for r in reports] == [
        (ReportKind.INTERMEDIATE, dt.date(2023, 1, 1), ReportStatus.DRAFT),
        (ReportKind.FINAL, dt.date(2025, 4, 1), ReportStatus.DRAFT)]
    assert reports[0].due_on == months_after(START, 12)
    assert reports[1].due_on == months_after(START, 36 + 3)
    assert events("grant.committed", dossier) == [{"award": "333333.33", "wave": "w1"}]
    assert verify_chain().intact


def test_publish_selected_decision_full_aid_schedules_50_30_remainder(granted):
    assert granted.grant.award == REQUESTED
    assert [t.scheduled_amount for t in granted.grant.tranches.order_by("number")] == [
        T1, T2, T3]


def test_publish_rejected_decision_commits_nothing(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    prepare_decision(dossier, team["committee"], Outcome.REJECTED,
                     motivation="Note sous le seuil de financement.")
    publish_decisions(dossier.wave, team["admin"])
    assert Decision.objects.get().status == DecisionStatus.PUBLISHED
    assert not Grant.objects.exists()
    assert not Tranche.objects.exists()
    assert not Report.objects.exists()
    assert events("grant.committed", dossier) == []


def test_publish_decisions_beyond_wave_budget_refused_with_remaining_amount(
        deffinum, team, example_document):
    chosen = instructed_dossier(example_document, team["instructor"])
    refused = instructed_dossier(example_document, team["instructor"])
    Wave.objects.filter(pk=chosen.wave_id).update(budget=Decimal("1000.00"))
    select(team, chosen)
    prepare_decision(refused, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    with pytest.raises(GrantRefused) as refusal:
        publish_decisions(chosen.wave, team["admin"])
    assert format_eur_fr(Decimal("1000.00")) == "1\u202f000,00\xa0€"
    assert "(1\u202f000,00\xa0€)" in refusal.value.message
    assert chosen.receipt_number in refusal.value.message
    assert format_eur_fr(REQUESTED) in refusal.value.message
    # All or nothing: the rejection is not published either.
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PENDING}
    assert set(Dossier.objects.values_list("status", flat=True)) == {DossierStatus.INSTRUCTED}
    assert not Grant.objects.exists()
    assert not Tranche.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["decision.published",
                                                     "grant.committed"]).exists()
    assert verify_chain().intact


def test_publish_decisions_beyond_programme_envelope_refused_all_or_nothing(
        deffinum, team, example_document):
    first = instructed_dossier(example_document, team["instructor"])
    second = instructed_dossier(example_document, team["instructor"])
    set_envelope(deffinum, Decimal("1000000.00"))  # one 560 000 € aid fits, not two
    select(team, first)
    select(team, second)
    with pytest.raises(GrantRefused) as refusal:
        publish_decisions(first.wave, team["admin"])
    assert f"({format_eur_fr(Decimal('440000.00'))})" in refusal.value.message
    assert "440\u202f000,00\xa0€" in refusal.value.message
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PENDING}
    assert not Grant.objects.exists()
    assert not Tranche.objects.exists()
    assert not Report.objects.exists()
    assert Call.objects.get(pk=deffinum.pk).status == CallStatus.OPEN
    assert verify_chain().intact


def test_publish_decisions_exactly_filling_wave_budget_commits(
        deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    Wave.objects.filter(pk=dossier.wave_id).update(budget=REQUESTED)
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    assert Grant.objects.get().award == REQUESTED
    assert allowances(deffinum)[dossier.wave_id] == Decimal("0.00")


def test_publish_after_revert_commits_corrected_award_only(deffinum, team, granted):
    """A reverted selection no longer holds money: the corrected decision commits its own
    award, and the envelope counts it once."""
    revert_decision(granted.grant.decision, team["admin"], "Erreur matérielle sur le montant.")
    envelope = deffinum.programme.envelope
    assert programme_remaining(deffinum.programme) == envelope
    dossier = Dossier.objects.get(pk=granted.dossier.pk)
    corrected = select(team, dossier, Decimal("500000.00"))
    publish_decisions(dossier.wave, team["admin"])
    grant = Grant.objects.get(decision=corrected)
    assert grant.award == Decimal("500000.00")
    assert programme_remaining(deffinum.programme) == envelope - grant.award
    assert verify_chain().intact


# --- carry-over -----------------------------------------------------------------------------

def test_allowances_carry_unspent_wave_1_budget_over_to_wave_2(
        deffinum, team, example_document):
    w1, w2, w3 = (wave(deffinum, code) for code in ("w1", "w2", "w3"))
    Wave.objects.filter(pk=w1.pk).update(budget=Decimal("1000000.00"))
    Wave.objects.filter(pk=w2.pk).update(budget=Decimal("500000.00"))
    envelope = deffinum.programme.envelope
    assert allowances(deffinum) == {
        w1.pk: Decimal("1000000.00"), w2.pk: Decimal("1500000.00"), w3.pk: envelope}

    early = instructed_dossier(example_document, team["instructor"])
    select(team, early)
    publish_decisions(w1, team["admin"])
    after_w1 = allowances(deffinum)
    assert after_w1 == {w1.pk: Decimal("440000.00"), w2.pk: Decimal("940000.00"),
                        w3.pk: envelope - REQUESTED}
    assert list(after_w1.values()) == wave_allowances(
        envelope, [(Decimal("1000000.00"), REQUESTED), (Decimal("500000.00"), Decimal(0)),
                   (None, Decimal(0))], carry_over=True)
    # Without the carry-over, wave 2 could not award 560 000 € on its 500 000 € budget.
    assert wave_allowances(envelope, [(Decimal("1000000.00"), REQUESTED),
                                      (Decimal("500000.00"), Decimal(0)), (None, Decimal(0))],
                           carry_over=False)[1] == Decimal("500000.00")

    late = instructed_dossier(example_document, team["instructor"], now=IN_WAVE_2)
    assert late.wave == w2
    select(team, late)
    publish_decisions(w2, team["admin"])
    assert Grant.objects.get(dossier=late).award == REQUESTED
    assert allowances(deffinum) == {
        w1.pk: Decimal("380000.00"), w2.pk: Decimal("380000.00"),
        w3.pk: envelope - 2 * REQUESTED}
    assert verify_chain().intact


# --- early closure --------------------------------------------------------------------------

def test_commitment_below_threshold_closes_call_and_mails_every_account_holder(
        deffinum, team, example_document, django_capture_on_commit_callbacks, mailoutbox):
    set_envelope(deffinum, Decimal("800000.00"))  # 240 000 € left after a 560 000 € aid
    w1, w3 = wave(deffinum, "w1"), wave(deffinum, "w3")
    far = dt.datetime(2031, 5, 2, 12, 0, tzinfo=PARIS)
    Wave.objects.filter(pk=w3.pk).update(closes_at=far)  # still open today
    dossier = instructed_dossier(example_document, team["instructor"])
    applicants = lead_and_member(dossier)
    draft = make_dossier(example_document)
    draft_lead = make_applicant("candidat@example.fr",
                                draft.consortium.members.get(is_lead=True))
    select(team, dossier)
    before = dt.datetime.now(dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        publish_decisions(w1, team["admin"])
    after = dt.datetime.now(dt.UTC)

    call = Call.objects.get(pk=deffinum.pk)
    assert call.status == CallStatus.CLOSED
    assert "enveloppe" in call.closed_message
    assert format_eur_fr(Decimal("240000.00")) in call.closed_message
    assert before <= call.closed_at <= after
    assert wave(deffinum, "w3").closes_at == call.closed_at  # the open wave closes now
    assert wave(deffinum, "w1").closes_at == w1.closes_at  # a past wave keeps its date
    closure_mails = [m for m in mailoutbox if m.subject.startswith("Clôture")]
    expected = {user.email for user in (*applicants, draft_lead, *team.values())}
    assert sorted(email for m in closure_mails for email in m.to) == sorted(expected)
    assert {m.body for m in closure_mails} == {call.closed_message}
    [closed] = AuditEvent.objects.filter(action="call.closed")
    assert (closed.object_id, closed.actor_id) == (str(call.pk), None)
    assert json.loads(closed.details) == {"message": call.closed_message}

    with pytest.raises(SubmissionRefused) as refusal:
        submit(draft)
    assert refusal.value.message == call.closed_message
    assert Dossier.objects.get(pk=draft.pk).status == DossierStatus.DRAFT
    assert verify_chain().intact


def test_commitment_leaving_exactly_threshold_keeps_call_open(
        deffinum, team, example_document, django_capture_on_commit_callbacks, mailoutbox):
    set_envelope(deffinum, REQUESTED + THRESHOLD)
    dossier = instructed_dossier(example_document, team["instructor"])
    select(team, dossier)
    with django_capture_on_commit_callbacks(execute=True):
        publish_decisions(dossier.wave, team["admin"])
    assert programme_remaining(
        Programme.objects.get(pk=deffinum.programme_id)) == THRESHOLD
    call = Call.objects.get(pk=deffinum.pk)
    assert (call.status, call.closed_message, call.closed_at) == (CallStatus.OPEN, "", None)
    assert not [m for m in mailoutbox if m.subject.startswith("Clôture")]


def test_close_call_by_administrator_closes_waves_and_mails_everyone(
        deffinum, team, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = make_dossier(example_document)
    applicants = lead_and_member(dossier)
    message = "L'appel est clos par anticipation : le programme est réorienté."
    planned = {w.code: w.closes_at for w in deffinum.waves.all()}
    with django_capture_on_commit_callbacks(execute=True):
        close_call(deffinum, team["admin"], message, now=IN_WAVE_1)
    call = Call.objects.get(pk=deffinum.pk)
    assert (call.status, call.closed_message, call.closed_at) == (
        CallStatus.CLOSED, message, IN_WAVE_1)
    # The open wave closes at that instant; the future ones are cancelled with their dates.
    assert {w.code: w.closes_at for w in Wave.objects.filter(call=call)} == {
        "w1": IN_WAVE_1, "w2": planned["w2"], "w3": planned["w3"]}
    expected = {user.email for user in (*applicants, *team.values())}
    assert sorted(email for m in mailoutbox for email in m.to) == sorted(expected)
    assert {m.body for m in mailoutbox} == {message}
    assert all(call.name in m.subject for m in mailoutbox)
    [closed] = AuditEvent.objects.filter(action="call.closed")
    assert closed.actor_id == team["admin"].pk
    with pytest.raises(SubmissionRefused) as refusal:
        submit(dossier, now=IN_WAVE_1 - dt.timedelta(hours=1))
    assert refusal.value.message == message
    assert verify_chain().intact


def test_close_call_by_non_administrator_refused(deffinum, team, example_document):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    for user in (team["instructor"], team["committee"], lead):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            close_call(deffinum, user, "Clôture anticipée.", now=IN_WAVE_1)
    call = Call.objects.get(pk=deffinum.pk)
    assert (call.status, call.closed_message) == (CallStatus.OPEN, "")
    assert wave(deffinum, "w1").closes_at > IN_WAVE_1
    assert not AuditEvent.objects.filter(action="call.closed").exists()


def test_close_call_with_empty_message_refused(deffinum, team):
    with pytest.raises(CallRefused) as refusal:
        close_call(deffinum, team["admin"], "  \n ", now=IN_WAVE_1)
    assert refusal.value.field == "message"
    call = Call.objects.get(pk=deffinum.pk)
    assert call.status == CallStatus.OPEN
    assert wave(deffinum, "w1").closes_at > IN_WAVE_1
    assert not AuditEvent.objects.filter(action="call.closed").exists()


# --- agreement ------------------------------------------------------------------------------

def test_agreement_pdf_shows_award_rate_and_tranche_schedule(granted):
    content = agreement_pdf(granted.grant)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert granted.dossier.receipt_number in text
    assert plain(format_eur_fr(REQUESTED)) in text  # the award
    assert plain(format_eur_fr(BASE)) in text  # the eligible base
    assert "70,00 %" in text  # the rate
    for number, amount in enumerate((T1, T2, T3), start=1):
        label = tranche(granted.grant, number).label
        assert label in text
        assert plain(format_eur_fr(amount)) in text
    schedule = text[text.index("Versements"):]
    assert schedule.index(plain(format_eur_fr(T1))) < schedule.index(
        plain(format_eur_fr(T2))) < schedule.index(plain(format_eur_fr(T3)))
    assert "01/01/2023" in text  # intermediate report due
    assert "01/04/2025" in text  # final report due


def test_sign_agreement_by_lead_records_hash_and_makes_tranche_1_due(granted):
    content = blank_pdf()
    returned = sign_agreement(granted.grant, granted.lead, pdf_upload(content),
                                       now=SIGNED_AT)
    grant = Grant.objects.get(pk=granted.grant.pk)
    assert returned.pk == grant.pk
    assert grant.status == GrantStatus.SIGNED
    assert grant.signed_sha256 == hashlib.sha256(content).hexdigest()
    assert grant.signed_at == SIGNED_AT
    with grant.signed_file.open("rb") as stored:
        assert stored.read() == content
    first = tranche(grant, 1)
    assert (first.status, first.amount, first.due_at) == (TrancheStatus.DUE, T1, SIGNED_AT)
    assert [t.status for t in grant.tranches.filter(number__gt=1)] == [
        TrancheStatus.SCHEDULED, TrancheStatus.SCHEDULED]
    assert events("grant.signed", granted.dossier) == [
        {"sha256": hashlib.sha256(content).hexdigest()}]
    assert verify_chain().intact


def test_sign_agreement_with_non_pdf_refused(granted):
    upload = pdf_upload(b"\x89PNG\r\n\x1a\n not a pdf at all", name="convention.pdf")
    with pytest.raises(GrantRefused) as refusal:
        sign_agreement(granted.grant, granted.lead, upload, now=SIGNED_AT)
    assert refusal.value.field == "file"
    assert "PDF" in refusal.value.message
    grant = Grant.objects.get(pk=granted.grant.pk)
    assert (grant.status, grant.signed_sha256, grant.signed_at) == (
        GrantStatus.COMMITTED, "", None)
    assert tranche(grant, 1).status == TrancheStatus.SCHEDULED
    assert events("grant.signed", granted.dossier) == []


def test_sign_agreement_by_member_not_lead_refused(team, granted):
    for user in (granted.member, team["admin"]):
        with pytest.raises(GrantRefused, match="Seul le chef de file signe la convention"):
            sign_agreement(granted.grant, user, pdf_upload(), now=SIGNED_AT)
    grant = Grant.objects.get(pk=granted.grant.pk)
    assert (grant.status, grant.signed_sha256) == (GrantStatus.COMMITTED, "")
    assert tranche(grant, 1).status == TrancheStatus.SCHEDULED


def test_sign_agreement_twice_refused(signed):
    first_hash = signed.grant.signed_sha256
    other = blank_pdf(pages=2)
    with pytest.raises(GrantRefused, match="La convention est déjà signée"):
        sign_agreement(signed.grant, signed.lead, pdf_upload(other),
                                now=SIGNED_AT + dt.timedelta(days=1))
    grant = Grant.objects.get(pk=signed.grant.pk)
    assert (grant.signed_sha256, grant.signed_at) == (first_hash, SIGNED_AT)
    assert tranche(grant, 1).due_at == SIGNED_AT
    assert len(events("grant.signed", signed.dossier)) == 1


def test_agreement_pdf_after_signature_mentions_signing_date(signed):
    assert "10/01/2022" in pdf_text(agreement_pdf(signed.grant))


# --- payments -------------------------------------------------------------------------------

def test_record_payment_of_due_tranche_1_marks_it_paid(team, signed):
    payment = pay(signed, 1, team, " VIR-2022-0001 ")
    assert (payment.amount, payment.reference, payment.paid_on) == (
        T1, "VIR-2022-0001", dt.date(2022, 2, 1))
    assert payment.recorded_by == team["instructor"]
    assert tranche(signed.grant, 1).status == TrancheStatus.PAID
    assert Grant.objects.get(pk=signed.grant.pk).status == GrantStatus.SIGNED
    assert events("grant.tranche_paid", signed.dossier) == [
        {"tranche": 1, "amount": "280000.00", "reference": "VIR-2022-0001"}]
    assert verify_chain().intact


def test_record_payment_retry_with_same_reference_returns_same_payment(team, signed):
    first = pay(signed, 1, team, "VIR-2022-0001")
    again = pay(signed, 1, team, "VIR-2022-0001")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert len(events("grant.tranche_paid", signed.dossier)) == 1


def test_record_payment_second_with_other_reference_refused(team, signed):
    pay(signed, 1, team, "VIR-2022-0001")
    with pytest.raises(GrantRefused) as refusal:
        pay(signed, 1, team, "VIR-2022-0099")
    assert "VIR-2022-0001" in refusal.value.message
    assert list(Payment.objects.values_list("reference", flat=True)) == ["VIR-2022-0001"]


def test_record_payment_of_scheduled_tranche_refused(team, signed):
    with pytest.raises(GrantRefused, match="Cette tranche n'est pas exigible"):
        pay(signed, 2, team)
    assert tranche(signed.grant, 2).status == TrancheStatus.SCHEDULED
    assert not Payment.objects.exists()


def test_record_payment_before_signature_refused(team, granted):
    with pytest.raises(GrantRefused, match="Cette tranche n'est pas exigible"):
        pay(granted, 1, team)
    assert not Payment.objects.exists()


def test_record_payment_without_reference_refused(team, signed):
    with pytest.raises(GrantRefused) as refusal:
        pay(signed, 1, team, "   ")
    assert refusal.value.field == "reference"
    assert tranche(signed.grant, 1).status == TrancheStatus.DUE


def test_record_payment_by_non_staff_refused(team, signed):
    for user in (signed.lead, team["committee"]):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            record_payment(tranche(signed.grant, 1), user, paid_on=dt.date(2022, 2, 1),
                                    reference="VIR-2022-0001")
    assert not Payment.objects.exists()
    assert tranche(signed.grant, 1).status == TrancheStatus.DUE


def test_record_payment_dated_after_today_in_paris_refused(team, signed):
    # 23:30 UTC on 31 January is already 1 February in Paris: 1 February is today, 2 is not.
    now = dt.datetime(2024, 1, 31, 23, 30, tzinfo=dt.UTC)
    with pytest.raises(GrantRefused) as refusal:
        record_payment(tranche(signed.grant, 1), team["instructor"],
                                paid_on=dt.date(2024, 2, 2), reference="VIR-1", now=now)
    assert refusal.value.field == "paid_on"
    assert refusal.value.message == ("La date du virement ne peut pas être postérieure à "
                                     "aujourd'hui (01/02/2024).")
    assert not Payment.objects.exists()
    payment = record_payment(tranche(signed.grant, 1), team["instructor"],
                                      paid_on=dt.date(2024, 2, 1), reference="VIR-1", now=now)
    assert payment.paid_on == dt.date(2024, 2, 1)


def test_record_payment_dated_tomorrow_refused_through_staff_page(client, team, signed):
    client.force_login(team["instructor"])
    tomorrow = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    response = client.post(f"/instruction/subventions/{signed.grant.pk}/tranches/"
                           f"{tranche(signed.grant, 1).pk}/versement/", {
        "paid_on": tomorrow.isoformat(), "reference": "VIR-2022-0001"})
    assert response.status_code == 200
    assert response.context["payment_form"].errors["paid_on"][0].startswith(
        "La date du virement ne peut pas être postérieure à aujourd'hui")
    assert not Payment.objects.exists()


def test_reverse_payment_keeps_both_entries_and_makes_tranche_due_again(team, signed):
    paid = pay(signed, 1, team)
    reversal = reverse_payment(paid, team["instructor"], reason="Mauvais RIB.")
    assert (reversal.amount, reversal.reverses, reversal.reason) == (-T1, paid, "Mauvais RIB.")
    assert Payment.objects.filter(pk=paid.pk).exists()
    assert tranche(signed.grant, 1).status == TrancheStatus.DUE
    assert tranche(signed.grant, 1).payment is None
    assert paid_total(signed.grant) == Decimal("0.00")
    assert events("grant.payment_reversed", signed.dossier) == [
        {"tranche": 1, "amount": "-280000.00", "reference": "VIR-2022-0001",
         "reason": "Mauvais RIB."}]
    again = pay(signed, 1, team, "VIR-2022-0101")
    assert (again.attempt, tranche(signed.grant, 1).payment) == (2, again)
    assert paid_total(signed.grant) == T1
    assert verify_chain().intact


def test_reverse_payment_twice_refused(team, signed):
    paid = pay(signed, 1, team)
    reversal = reverse_payment(paid, team["instructor"], reason="Doublon.")
    with pytest.raises(GrantRefused) as refusal:
        reverse_payment(paid, team["instructor"], reason="Encore.")
    assert refusal.value.message.startswith("Ce versement a déjà été annulé le ")
    with pytest.raises(GrantRefused, match="Une annulation ne s'annule pas"):
        reverse_payment(reversal, team["instructor"], reason="Annuler l'annulation.")
    assert Payment.objects.count() == 2
    assert len(events("grant.payment_reversed", signed.dossier)) == 1


def test_reverse_payment_without_reason_or_by_non_instructor_refused(team, signed):
    paid = pay(signed, 1, team)
    with pytest.raises(GrantRefused) as refusal:
        reverse_payment(paid, team["instructor"], reason="  ")
    assert refusal.value.field == "reason"
    with pytest.raises(PermissionRefused):
        reverse_payment(paid, signed.lead, reason="Je préfère.")
    assert Payment.objects.count() == 1
    assert tranche(signed.grant, 1).status == TrancheStatus.PAID


def test_reverse_last_payment_reopens_closed_grant_and_totals_follow(deffinum, team,
                                                                     intermediate_paid):
    granted = intermediate_paid
    hand_in(granted, ReportKind.FINAL)
    review_report(report(granted.grant, ReportKind.FINAL), team["instructor"],
                           approve=True)
    last = pay(granted, 3, team)
    assert Grant.objects.get(pk=granted.grant.pk).status == GrantStatus.CLOSED
    reverse_payment(last, team["instructor"], reason="Virement rejeté par la banque.")
    assert Grant.objects.get(pk=granted.grant.pk).status == GrantStatus.SIGNED
    assert paid_total(granted.grant) == T1 + T2
    lines = {line.label: line for line in dashboard.money_lines(deffinum.programme)}
    assert lines[deffinum.name].paid == T1 + T2
    assert [(bar.label, bar.value) for bar in dashboard.funnel(deffinum)][-1] == (
        "Au moins un versement", 1)


def test_payments_export_shows_payment_and_its_reversal(deffinum, team, signed):
    paid = pay(signed, 1, team)
    reverse_payment(paid, team["instructor"], reason="Mauvais RIB.")
    pay(signed, 1, team, "VIR-2022-0101")
    _header, rows = exports.payments_table(deffinum)
    assert [(row[1], row[2], row[4], row[5], row[6]) for row in rows] == [
        (1, T1, "VIR-2022-0001", "versement", ""),
        (1, -T1, "VIR-2022-0001", "annulation", "Mauvais RIB."),
        (1, T1, "VIR-2022-0101", "versement", "")]


def test_reverse_payment_through_staff_page(client, team, signed):
    paid = pay(signed, 1, team)
    client.force_login(team["instructor"])
    page = client.get(f"/instruction/subventions/{signed.grant.pk}/").content.decode()
    reversal = f"/instruction/subventions/{signed.grant.pk}/versements/{paid.pk}/annulation/"
    assert f'action="{reversal}"' in page
    response = client.post(reversal, {"reason": "Erreur de saisie."})
    assert response.status_code == 302
    page = client.get(f"/instruction/subventions/{signed.grant.pk}/").content.decode()
    assert 'data-reversal="true"' in page
    assert "Erreur de saisie." in page
    assert tranche(signed.grant, 1).status == TrancheStatus.DUE


# --- reports --------------------------------------------------------------------------------

def test_submit_report_by_lead_stores_narrative_indicators_and_expenses(signed):
    submitted = hand_in(signed, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    stored = Report.objects.get(pk=submitted.pk)
    assert stored.status == ReportStatus.SUBMITTED
    assert stored.narrative == "Trois parcours hybridés, 1 200 apprenants touchés."
    assert stored.indicators == {"learners_reached": 1200, "courses_hybridised": 3}
    assert stored.submitted_at is not None
    lead = signed.dossier.consortium.members.get(is_lead=True)
    other = signed.dossier.consortium.members.get(is_lead=False)
    assert sorted(stored.expenses.values_list("member", "category", "amount")) == sorted([
        (lead.pk, "staff", Decimal("150000.00")),
        (other.pk, "subcontracting", Decimal("100000.00"))])
    assert accepted_expenses(stored) == Decimal("250000.00")
    assert events("grant.report_submitted", signed.dossier) == [{"kind": "intermediate"}]


def test_submit_report_before_signature_refused(granted):
    with pytest.raises(GrantRefused, match="La convention n'est pas encore signée"):
        hand_in(granted, ReportKind.INTERMEDIATE)
    assert report(granted.grant, ReportKind.INTERMEDIATE).status == ReportStatus.DRAFT


def test_submit_report_by_member_not_lead_refused(team, signed):
    for user in (signed.member, team["instructor"]):
        with pytest.raises(GrantRefused, match="Seul le chef de file remet les rapports"):
            submit_report(report(signed.grant, ReportKind.INTERMEDIATE), user,
                                   narrative="Résultats", indicators={},
                                   expenses=statement(signed.dossier, "1.00", "1.00"))
    assert report(signed.grant, ReportKind.INTERMEDIATE).status == ReportStatus.DRAFT


def test_submit_report_with_unknown_indicator_refused(signed):
    with pytest.raises(GrantRefused) as refusal:
        submit_report(report(signed.grant, ReportKind.INTERMEDIATE), signed.lead,
                               narrative="Résultats", indicators={"satisfaction": 9},
                               expenses=[])
    assert "satisfaction" in refusal.value.message


def test_submit_report_with_member_of_another_consortium_refused(
        team, signed, example_document):
    stranger = make_dossier(example_document).consortium.members.get(is_lead=True)
    with pytest.raises(
            GrantRefused, match="Un membre de l'état des dépenses n'appartient pas au consortium"):
        submit_report(report(signed.grant, ReportKind.INTERMEDIATE), signed.lead,
                               narrative="Résultats", indicators={},
                               expenses=[(stranger.pk, "staff", Decimal("1000.00"))])
    assert not ReportExpense.objects.exists()


def test_approve_intermediate_report_makes_tranche_2_due_and_payable(team, signed):
    pay(signed, 1, team)
    hand_in(signed, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    reviewed = review_report(report(signed.grant, ReportKind.INTERMEDIATE),
                                      team["instructor"], approve=True)
    assert reviewed.status == ReportStatus.APPROVED
    second = tranche(signed.grant, 2)
    assert (second.status, second.amount) == (TrancheStatus.DUE, T2)
    assert tranche(signed.grant, 3).status == TrancheStatus.SCHEDULED
    payment = pay(signed, 2, team)
    assert payment.amount == T2
    assert tranche(signed.grant, 2).status == TrancheStatus.PAID
    assert paid_total(signed.grant) == T1 + T2
    assert events("grant.report_reviewed", signed.dossier) == [
        {"kind": "intermediate", "approved": True}]


def test_final_report_with_lower_expenses_reduces_balance(team, intermediate_paid):
    granted = intermediate_paid
    hand_in(granted, ReportKind.FINAL, "400000.00", "300000.00")  # 700 000 € of 800 000 €
    review_report(report(granted.grant, ReportKind.FINAL), team["instructor"],
                           approve=True)
    accepted = Decimal("700000.00")
    expected = min(REQUESTED, REQUESTED * accepted / BASE) - (T1 + T2)
    assert expected == Decimal("42000.00")
    assert expected == balance_due(REQUESTED, BASE, accepted, T1 + T2)
    last = tranche(granted.grant, 3)
    assert (last.status, last.amount, last.scheduled_amount) == (TrancheStatus.DUE, expected, T3)
    assert not RecoveryOrder.objects.exists()
    [computed] = events("grant.balance_computed", granted.dossier)
    assert (Decimal(computed["balance"]), Decimal(computed["accepted"])) == (
        Decimal("42000.00"), accepted)
    pay(granted, 3, team)
    grant = Grant.objects.get(pk=granted.grant.pk)
    assert paid_total(grant) == Decimal("490000.00")
    assert grant.status == GrantStatus.CLOSED
    assert verify_chain().intact


def test_final_report_with_full_expenses_pays_scheduled_balance(team, intermediate_paid):
    hand_in(intermediate_paid, ReportKind.FINAL, "500000.00", "400000.00")  # above the base
    review_report(report(intermediate_paid.grant, ReportKind.FINAL),
                           team["instructor"], approve=True)
    assert tranche(intermediate_paid.grant, 3).amount == T3


def test_final_report_with_very_low_expenses_issues_recovery_order(team, intermediate_paid):
    granted = intermediate_paid
    hand_in(granted, ReportKind.FINAL, "300000.00", "200000.00")  # 500 000 € accepted
    review_report(report(granted.grant, ReportKind.FINAL), team["instructor"],
                           approve=True)
    balance = balance_due(REQUESTED, BASE, Decimal("500000.00"), T1 + T2)
    assert balance == Decimal("-98000.00")
    last = tranche(granted.grant, 3)
    assert (last.status, last.amount) == (TrancheStatus.DUE, Decimal("0.00"))
    order = RecoveryOrder.objects.get(grant=granted.grant)
    assert order.amount == -balance
    assert order.issued_by == team["instructor"]
    grant = Grant.objects.get(pk=granted.grant.pk)
    content = recovery_order_pdf(grant)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert plain(format_eur_fr(Decimal("98000.00"))) in text
    assert granted.dossier.receipt_number in text
    [computed] = events("grant.balance_computed", granted.dossier)
    assert (Decimal(computed["balance"]), Decimal(computed["accepted"])) == (
        balance, Decimal("500000.00"))
    assert verify_chain().intact


def test_final_report_approved_before_intermediate_never_pays_more_than_earned(
        team, signed):
    """Reports may be handed in out of order; whatever the order of approvals, what becomes
    due never exceeds the grant earned: min(award, rate × accepted expenses)."""
    pay(signed, 1, team)
    hand_in(signed, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    hand_in(signed, ReportKind.FINAL, "450000.00", "350000.00")  # the whole base
    with pytest.raises(GrantRefused, match="Le rapport intermédiaire doit être approuvé avant "
                                           "le rapport final"):
        review_report(report(signed.grant, ReportKind.FINAL), team["instructor"],
                               approve=True)
    assert report(signed.grant, ReportKind.FINAL).status == ReportStatus.SUBMITTED
    assert tranche(signed.grant, 3).status == TrancheStatus.SCHEDULED
    review_report(report(signed.grant, ReportKind.INTERMEDIATE), team["instructor"],
                           approve=True)
    review_report(report(signed.grant, ReportKind.FINAL), team["instructor"],
                           approve=True)
    assert report(signed.grant, ReportKind.FINAL).status == ReportStatus.APPROVED
    assert tranche(signed.grant, 3).status == TrancheStatus.DUE
    owed = sum(t.amount for t in signed.grant.tranches.exclude(status=TrancheStatus.SCHEDULED))
    assert owed == REQUESTED  # earned: min(560 000, 70 % of 800 000)
    assert not RecoveryOrder.objects.exists()


def test_review_report_changes_requested_needs_comment(team, signed):
    hand_in(signed, ReportKind.INTERMEDIATE)
    with pytest.raises(GrantRefused) as refusal:
        review_report(report(signed.grant, ReportKind.INTERMEDIATE),
                               team["instructor"], approve=False, comment="  ")
    assert refusal.value.field == "comment"
    assert report(signed.grant, ReportKind.INTERMEDIATE).status == ReportStatus.SUBMITTED
    assert tranche(signed.grant, 2).status == TrancheStatus.SCHEDULED


def test_review_report_by_non_instructor_refused(team, signed):
    hand_in(signed, ReportKind.INTERMEDIATE)
    for user in (team["committee"], signed.lead):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            review_report(report(signed.grant, ReportKind.INTERMEDIATE), user,
                                   approve=True)
    assert report(signed.grant, ReportKind.INTERMEDIATE).status == ReportStatus.SUBMITTED


def test_submit_report_again_after_changes_requested(team, signed):
    hand_in(signed, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    review_report(report(signed.grant, ReportKind.INTERMEDIATE), team["instructor"],
                           approve=False, comment=" Joindre les feuilles de temps. ")
    asked = report(signed.grant, ReportKind.INTERMEDIATE)
    assert (asked.status, asked.review_comment) == (
        ReportStatus.CHANGES_REQUESTED, "Joindre les feuilles de temps.")
    assert tranche(signed.grant, 2).status == TrancheStatus.SCHEDULED
    # Submitted but not yet reviewed: handing in again is refused.
    hand_in(signed, ReportKind.INTERMEDIATE, "160000.00", "100000.00")
    with pytest.raises(GrantRefused, match="Ce rapport est déjà remis"):
        hand_in(signed, ReportKind.INTERMEDIATE)
    again = report(signed.grant, ReportKind.INTERMEDIATE)
    assert again.status == ReportStatus.SUBMITTED
    assert accepted_expenses(again) == Decimal("260000.00")
    assert again.expenses.count() == 2
    review_report(again, team["instructor"], approve=True)
    assert tranche(signed.grant, 2).status == TrancheStatus.DUE
    assert [e["approved"] for e in events("grant.report_reviewed", signed.dossier)] == [
        False, True]


# --- amendments -----------------------------------------------------------------------------

@pytest.fixture
def short_grant(team, example_document) -> Granted:
    """A 24-month project, selected and committed."""
    document = dict(example_document, duration_months=24)
    dossier = instructed_dossier(document, team["instructor"])
    lead, member = lead_and_member(dossier)
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    return Granted(Grant.objects.get(dossier=dossier), dossier, lead, member)


def expenses_of(grant: Grant, amounts: tuple[str, str]) -> list[fmt.Expense]:
    lead = grant.dossier.consortium.members.get(is_lead=True).organisation.siret
    other = grant.dossier.consortium.members.get(is_lead=False).organisation.siret
    return [fmt.Expense(member=lead, category="staff", label="Ingénierie pédagogique",
                        amount=Decimal(amounts[0]), eligible=True),
            fmt.Expense(member=other, category="subcontracting", label="Simulateurs",
                        amount=Decimal(amounts[1]), eligible=True)]


def test_amend_grant_extending_duration_bumps_version_and_moves_final_report(
        team, short_grant):
    grant = short_grant.grant
    assert report(grant, ReportKind.FINAL).due_on == dt.date(2024, 4, 1)  # 24 + 3 months
    amendment = amend_grant(grant, team["instructor"],
                                     reason="Retard de livraison des simulateurs.",
                                     duration_months=30)
    grant.refresh_from_db()
    assert (grant.version, grant.duration_months) == (2, 30)
    assert (amendment.version, amendment.created_by) == (2, team["instructor"])
    assert amendment.document["duration_months"] == 30
    assert report(grant, ReportKind.FINAL).due_on == months_after(START, 30 + 3)
    assert report(grant, ReportKind.INTERMEDIATE).due_on == dt.date(2023, 1, 1)
    assert (grant.award, grant.eligible_base) == (REQUESTED, BASE)
    assert events("grant.amended", short_grant.dossier) == [{"version": 2, "duration": 30}]

    amend_grant(grant, team["instructor"], reason="Prolongation jusqu'à 36 mois.",
                         duration_months=36)
    grant.refresh_from_db()
    assert grant.version == 3
    kept = list(Amendment.objects.filter(grant=grant).order_by("version"))
    assert [(a.version, a.document["duration_months"]) for a in kept] == [(2, 30), (3, 36)]
    assert kept[0].reason == "Retard de livraison des simulateurs."
    assert report(grant, ReportKind.FINAL).due_on == dt.date(2025, 4, 1)
    assert verify_chain().intact


def test_amend_grant_beyond_max_duration_refused_with_rule_message(team, short_grant):
    with pytest.raises(GrantRefused) as refusal:
        amend_grant(short_grant.grant, team["instructor"],
                             reason="Prolongation demandée.", duration_months=40)
    assert "La durée du projet (40 mois) doit être d'au plus 36 mois." in refusal.value.message
    grant = Grant.objects.get(pk=short_grant.grant.pk)
    assert (grant.version, grant.duration_months) == (1, 24)
    assert not Amendment.objects.exists()
    assert report(grant, ReportKind.FINAL).due_on == dt.date(2024, 4, 1)


def test_amend_grant_moving_budget_between_members_keeps_base(team, granted):
    grant = granted.grant
    moved = expenses_of(grant, ("350000.00", "450000.00"))
    amendment = amend_grant(grant, team["instructor"],
                                     reason="Sous-traitance accrue des simulateurs.",
                                     expenses=moved)
    grant.refresh_from_db()
    assert (grant.version, grant.eligible_base, grant.award) == (2, BASE, REQUESTED)
    assert [(e["member"], e["category"], Decimal(e["amount"]))
            for e in amendment.document["expenses"]] == [
        (e.member, e.category, e.amount) for e in moved]
    assert amendment.document["duration_months"] == 36
    # A second amendment starts from the first one, which is kept.
    amend_grant(grant, team["instructor"], reason="Retour à l'équilibre initial.",
                         expenses=expenses_of(grant, ("450000.00", "350000.00")))
    kept = list(Amendment.objects.filter(grant=grant).order_by("version"))
    assert [a.version for a in kept] == [2, 3]
    assert Decimal(kept[0].document["expenses"][0]["amount"]) == Decimal("350000.00")
    assert Decimal(kept[1].document["expenses"][0]["amount"]) == Decimal("450000.00")


def test_amend_grant_changing_eligible_base_refused(team, granted):
    grant = granted.grant
    with pytest.raises(GrantRefused, match="L'avenant ne respecte pas les règles de l'appel"):
        amend_grant(grant, team["instructor"], reason="Dépenses supplémentaires.",
                             expenses=expenses_of(grant, ("550000.00", "350000.00")))
    grant.refresh_from_db()
    assert (grant.version, grant.eligible_base) == (1, BASE)
    assert not Amendment.objects.exists()
    assert events("grant.amended", granted.dossier) == []


def test_amend_grant_by_non_instructor_refused(team, granted):
    for user in (team["committee"], granted.lead):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            amend_grant(granted.grant, user, reason="Prolongation.",
                                 duration_months=30)
    assert Grant.objects.get(pk=granted.grant.pk).version == 1
    assert not Amendment.objects.exists()


def test_amend_grant_without_reason_refused(team, granted):
    with pytest.raises(GrantRefused) as refusal:
        amend_grant(granted.grant, team["instructor"], reason=" ",
                             duration_months=30)
    assert refusal.value.field == "reason"
    assert not Amendment.objects.exists()


# --- dashboard ------------------------------------------------------------------------------

def test_money_lines_after_commitment_and_payment(deffinum, team, signed):
    pay(signed, 1, team)
    lines = dashboard.money_lines(deffinum.programme)
    programme = lines[0]
    envelope = Decimal("300000000.00")
    assert (programme.label, programme.envelope, programme.committed, programme.paid) == (
        deffinum.programme.name, envelope, REQUESTED, T1)
    assert programme.remaining == envelope - REQUESTED
    by_label = {line.label: line for line in lines}
    call_line = by_label[deffinum.name]
    assert (call_line.envelope, call_line.committed, call_line.paid) == (None, REQUESTED, T1)
    assert call_line.remaining is None
    w1 = by_label[f"{deffinum.name} — Vague 1"]
    assert (w1.envelope, w1.committed, w1.paid, w1.remaining) == (
        Decimal("100000000.00"), REQUESTED, T1, Decimal("100000000.00") - REQUESTED)
    w2 = by_label[f"{deffinum.name} — Vague 2"]
    assert (w2.envelope, w2.committed, w2.paid) == (None, Decimal(0), Decimal(0))
    assert w2.remaining == envelope - REQUESTED  # "what remains" of the programme
    assert len(lines) == 1 + 1 + 3


def test_funnel_counts_each_dossier_once_per_stage(deffinum, team, signed, example_document):
    make_dossier(example_document)  # a draft
    rejected = instructed_dossier(example_document, team["instructor"])
    prepare_decision(rejected, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    publish_decisions(rejected.wave, team["admin"])
    pay(signed, 1, team)
    bars = dashboard.funnel(deffinum)
    assert [(bar.label, bar.value) for bar in bars] == [
        ("Brouillons", 1), ("Déposés", 2), ("Éligibles", 2), ("Retenus", 1),
        ("Conventions signées", 1), ("Au moins un versement", 1)]


def test_late_reports_lists_report_past_due_date(deffinum, signed):
    intermediate = report(signed.grant, ReportKind.INTERMEDIATE)
    assert list(dashboard.late_reports(deffinum, dt.date(2023, 1, 1))) == []
    assert list(dashboard.late_reports(deffinum, dt.date(2023, 1, 2))) == [intermediate]
    final = report(signed.grant, ReportKind.FINAL)
    assert list(dashboard.late_reports(deffinum, dt.date(2025, 4, 2))) == [intermediate, final]
    hand_in(signed, ReportKind.INTERMEDIATE)
    assert list(dashboard.late_reports(deffinum, dt.date(2025, 4, 2))) == [final]


# --- audit ----------------------------------------------------------------------------------

def test_grant_lifecycle_appends_audit_events_and_keeps_chain(team, short_grant):
    granted = short_grant
    sign_agreement(granted.grant, granted.lead, pdf_upload(), now=SIGNED_AT)
    pay(granted, 1, team)
    hand_in(granted, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    review_report(report(granted.grant, ReportKind.INTERMEDIATE), team["instructor"],
                           approve=False, comment="Préciser les indicateurs.")
    hand_in(granted, ReportKind.INTERMEDIATE, "150000.00", "100000.00")
    review_report(report(granted.grant, ReportKind.INTERMEDIATE), team["instructor"],
                           approve=True)
    pay(granted, 2, team)
    amend_grant(granted.grant, team["instructor"], reason="Prolongation.",
                         duration_months=30)
    hand_in(granted, ReportKind.FINAL, "300000.00", "200000.00")
    review_report(report(granted.grant, ReportKind.FINAL), team["instructor"],
                           approve=True)
    assert grant_actions(granted.dossier) == [
        "grant.committed", "grant.signed", "grant.tranche_paid", "grant.report_submitted",
        "grant.report_reviewed", "grant.report_submitted", "grant.report_reviewed",
        "grant.tranche_paid", "grant.amended", "grant.report_submitted",
        "grant.report_reviewed", "grant.balance_computed"]
    actors = AuditEvent.objects.filter(object_id=str(granted.dossier.pk),
                                       action__startswith="grant.").values_list(
        "action", "actor_id")
    assert ("grant.signed", granted.lead.pk) in actors
    assert ("grant.tranche_paid", team["instructor"].pk) in actors
    assert ("grant.committed", team["admin"].pk) in actors
    report_ = verify_chain()
    assert report_.intact
    assert report_.events == AuditEvent.objects.count()




def test_remind_reports_once_within_the_delay(signed, mailoutbox,
                                              django_capture_on_commit_callbacks):
    intermediate = report(signed.grant, ReportKind.INTERMEDIATE)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the mails leave after commit
        assert remind_reports(intermediate.due_on - dt.timedelta(days=15)) == 0
        assert remind_reports(intermediate.due_on - dt.timedelta(days=14)) == 1
        assert remind_reports(intermediate.due_on - dt.timedelta(days=13)) == 0
    assert len(mailoutbox) == 1
    assert "Rappel" in mailoutbox[0].subject
    assert signed.dossier.receipt_number in mailoutbox[0].body
    assert sorted(mailoutbox[0].to) == sorted([signed.lead.email, signed.member.email])


def test_move_budget_between_members_keeps_base_and_versions(signed, team):
    before = current_budget(signed.grant)
    amendment = move_budget(signed.grant, team["instructor"], from_line=0, to_line=1,
                            amount=Decimal("50000.00"), reason="Simulateurs plus coûteux")
    after = current_budget(signed.grant)
    assert (after[0].amount, after[1].amount) == (before[0].amount - Decimal("50000.00"),
                                                  before[1].amount + Decimal("50000.00"))
    assert sum(line.amount for line in after) == sum(line.amount for line in before)
    assert amendment.version == 2
    with pytest.raises(GrantRefused, match="au plus"):
        move_budget(signed.grant, team["instructor"], from_line=0, to_line=1,
                    amount=after[0].amount + Decimal("0.01"), reason="Trop")


def test_move_budget_through_staff_page(client, signed, team):
    client.force_login(team["instructor"])
    response = client.post(f"/instruction/subventions/{signed.grant.pk}/budget/", {
        "from_line": "1", "to_line": "0", "amount": "10 000,00",
        "reason": "Réaffectation"})
    assert response.status_code == 302
    assert signed.grant.amendments.get().reason == "Réaffectation"


def test_funnel_labels_follow_the_language(deffinum):
    with translation.override("en"):
        english = [bar.label for bar in dashboard.funnel(deffinum)]
    with translation.override("fr"):
        french = [bar.label for bar in dashboard.funnel(deffinum)]
    assert english == ["Drafts", "Submitted", "Eligible", "Selected", "Signed agreements",
                       "At least one payment"]
    assert french[0] == "Brouillons"
