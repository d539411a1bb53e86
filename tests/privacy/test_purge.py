"""`guichet purge`: what has outlived its call's retention loses every name, address, free text
and file, while amounts, SIRETs, decisions and the audit chain stay."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.db.models import Q
from django.utils import timezone

from guichet.accounts.models import User
from guichet.audit.models import AuditPersonal
from guichet.audit.services import verify_chain
from guichet.dossiers.membership import invite_member
from guichet.dossiers.models import Dossier, Organisation, Participant, Submission
from guichet.dossiers.receipt_store import receipt_pdf
from guichet.grants.models import Decision, Grant, GrantStatus, Report, ReportKind, TrancheStatus
from guichet.notifications.models import OutboxMessage
from guichet.privacy.purge import ERASED, expired_dossiers, purge
from guichet.review.instruction import post_message
from guichet.review.models import AnnotationKind, CallRole, Role
from guichet.review.workbench import annotate
from tests.factories import (
    bulk_submitted_dossiers,
    decided_dossier,
    lead_and_member,
    make_dossier,
    make_payment,
    make_user,
    staff,
)

pytestmark = pytest.mark.django_db
MARK = "Zéphyrin"  # in every free text the applicants and staff write about the dossiers
INVITEE = "invitee.zephyrin@example.org"
TODAY = dt.date(2040, 1, 1)  # far past every retention of the test's dossiers


def _marked(document: dict, title: str) -> dict:
    return dict(
        document, title=f"{title} {MARK}", summary=f"Résumé {MARK}",
        milestones=[dict(line, label=f"{line['label']} {MARK}")
                    for line in document["milestones"]],
        expenses=[dict(line, label=f"{MARK} {line['label']}") for line in document["expenses"]])


def _closed_grant(deffinum, document) -> Dossier:
    """A dossier whose grant was paid in full in 2023 and closed, with a thread, a note and a
    report written about it."""
    dossier = decided_dossier(deffinum, _marked(document, "Projet soldé"))
    instructor = CallRole.objects.get(call=deffinum, role=Role.INSTRUCTOR,
                                      user__email__startswith="instructor.").user
    lead, _member = lead_and_member(dossier)
    receipt_pdf(dossier)  # stored, as the worker does
    post_message(dossier, lead, f"Question de {MARK}")
    annotate(dossier, instructor, AnnotationKind.SYNTHESIS, f"Synthèse {MARK}")
    grant = Grant.objects.get(dossier=dossier)
    for tranche in grant.tranches.all():
        make_payment(tranche, tranche.scheduled_amount, instructor,
                     paid_on=dt.date(2023, 6, tranche.number), reference=f"VIR-{tranche.number}")
    grant.tranches.update(status=TrancheStatus.PAID)
    Report.objects.update_or_create(grant=grant, kind=ReportKind.FINAL, defaults={
        "due_on": dt.date(2023, 5, 1), "narrative": f"Bilan de {MARK}"})
    Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.CLOSED)
    return dossier


def _left_draft(deffinum, document) -> Dossier:
    """A draft never submitted, whose lead invited someone by address."""
    dossier = make_dossier(_marked(document, "Brouillon abandonné"))
    lead, _member = lead_and_member(dossier)
    invite_member(dossier, INVITEE, lead, now=dt.datetime(2021, 7, 1, tzinfo=dt.UTC))
    return dossier


def _texts_everywhere() -> str:
    """Every text, address and JSON value stored in every table of the application and of
    its sign-in framework, as one string."""
    kinds = (models.CharField, models.TextField, models.JSONField)
    found = []
    for model in apps.get_models():
        names = [field.name for field in model._meta.concrete_fields if isinstance(field, kinds)]
        if names:
            found += [f"{model._meta.label} {row!r}" for row in model.objects.values_list(*names)]
    return "\n".join(found)


def _lines_with(text: str, everything: str) -> list[str]:
    return [line for line in everything.splitlines() if text in line]


def _outbox_about(dossier):
    return OutboxMessage.objects.filter(Q(payload__dossier=dossier.pk)
                                        | Q(payload__context__dossier=dossier.pk))


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_purge_erases_every_personal_field_and_file_of_expired_dossiers(
        deffinum, example_document, media):
    closed = _closed_grant(deffinum, example_document)
    draft = _left_draft(deffinum, example_document)
    people = list(Participant.objects.filter(
        member__consortium__dossiers__in=[closed, draft]).values_list("user__email", flat=True))
    assert len(people) == 4
    sirets = set(Organisation.objects.values_list("siret", flat=True))
    award = Grant.objects.get(dossier=closed).award
    decision = Decision.objects.get(dossier=closed)
    receipt = Submission.objects.get(dossier=closed)
    stored_files = {path for path in media.rglob("*") if path.is_file()}
    assert _outbox_about(closed).exists()
    assert stored_files
    assert _lines_with(MARK, _texts_everywhere())
    assert _lines_with(INVITEE, _texts_everywhere())

    report = purge(TODAY)

    assert sorted(report.dossiers) == sorted([closed.receipt_number, f"#{draft.pk}"])
    everything = _texts_everywhere()
    for personal in (MARK, INVITEE, *people):
        assert _lines_with(personal, everything) == []
    assert not {path for path in media.rglob("*") if path.is_file()} & stored_files
    assert report.files == len(stored_files)
    # What the funder keeps: amounts, the organisations, the decision, the receipt and hashes.
    assert Grant.objects.get(dossier=closed).award == award
    assert set(Organisation.objects.values_list("siret", flat=True)) == sirets
    assert Decision.objects.get(pk=decision.pk).awarded_aid == decision.awarded_aid
    kept = Submission.objects.get(pk=receipt.pk)
    assert (kept.sha256, kept.verdict) == (receipt.sha256, receipt.verdict)
    closed.refresh_from_db()
    assert (closed.title, closed.summary, closed.receipt_number, closed.requested_aid) == (
        ERASED, "", receipt.dossier.receipt_number, Decimal(award))
    assert closed.personal_data_erased_at is not None
    assert not AuditPersonal.objects.exists()
    assert not _outbox_about(closed).exists()
    assert verify_chain().intact
    assert User.objects.filter(email__endswith="@anonyme.invalid").count() == len(people)


def test_purge_leaves_what_is_still_kept(deffinum, example_document, media):
    open_grant = decided_dossier(deffinum, _marked(example_document, "Projet en cours"))
    recent_draft = make_dossier(_marked(example_document, "Brouillon récent"))
    before = _texts_everywhere()
    mails_of_the_grant = _outbox_about(open_grant).count()
    assert mails_of_the_grant

    report = purge(dt.date(2023, 1, 1))  # the call's last wave closed in 2022: not 2 years yet

    assert report.dossiers == []
    assert report.accounts == 0
    assert _texts_everywhere() == before
    # An open grant is kept however late.
    assert purge(TODAY).dossiers == [f"#{recent_draft.pk}"]
    open_grant.refresh_from_db()
    assert open_grant.title == f"Projet en cours {MARK}"
    assert _outbox_about(open_grant).count() == mails_of_the_grant
    assert open_grant.personal_data_erased_at is None


def test_purge_staff_pages_still_open_an_erased_dossier(client, deffinum, example_document,
                                                         media):
    closed = _closed_grant(deffinum, example_document)
    purge(TODAY)
    instructor = CallRole.objects.get(call=deffinum, role=Role.INSTRUCTOR,
                                      user__email__startswith="instructor.").user
    client.force_login(instructor)
    page = client.get(f"/instruction/dossiers/{closed.pk}/")
    assert page.status_code == 200
    assert closed.receipt_number in page.content.decode()
    assert MARK not in page.content.decode()
    listing = client.get("/instruction/appels/deffinum/dossiers/")
    assert closed.receipt_number in listing.content.decode()


def test_purge_dry_run_changes_nothing(deffinum, example_document, media):
    draft = _left_draft(deffinum, example_document)
    before = _texts_everywhere()
    out = io.StringIO()
    call_command("purge", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    assert f"would erase: 1 dossier(s), 0 account(s)\n  #{draft.pk}\n" in out.getvalue()
    assert _texts_everywhere() == before


def test_purge_second_run_has_nothing_left(deffinum, example_document, media):
    _left_draft(deffinum, example_document)
    assert len(purge(TODAY).dossiers) == 1
    again = purge(TODAY)
    assert (again.dossiers, again.accounts, again.files) == ([], 0, 0)


def test_purge_keeps_the_people_of_a_consortium_still_applying_elsewhere(
        deffinum, other_call, example_document, media):
    draft = _left_draft(deffinum, example_document)
    people = set(Participant.objects.filter(member__consortium=draft.consortium)
                 .values_list("user_id", flat=True))
    elsewhere = Dossier.objects.create(call=other_call, consortium=draft.consortium,
                                       title="Candidature régionale")
    other_call.waves.update(closes_at=dt.datetime(2039, 12, 31, tzinfo=dt.UTC))

    assert purge(TODAY).dossiers == [f"#{draft.pk}"]

    assert set(Participant.objects.filter(member__consortium=draft.consortium)
               .values_list("user_id", flat=True)) == people
    assert User.objects.filter(pk__in=people, is_active=True).count() == len(people)
    elsewhere.refresh_from_db()
    assert (elsewhere.title, elsewhere.personal_data_erased_at) == (
        "Candidature régionale", None)


def test_purge_anonymises_only_dormant_applicant_accounts(deffinum, media):
    dormant = make_user("dormante@example.fr")
    active = make_user("active@example.fr")
    instructor = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)
    long_ago = timezone.make_aware(dt.datetime(2030, 1, 1))
    User.objects.filter(pk__in=[dormant.pk, instructor.pk]).update(
        last_login=long_ago, date_joined=long_ago)
    User.objects.filter(pk=active.pk).update(
        last_login=timezone.make_aware(dt.datetime(2039, 6, 1)), date_joined=long_ago)

    assert purge(TODAY).accounts == 1

    dormant.refresh_from_db()
    assert (dormant.email, dormant.is_active, dormant.has_usable_password()) == (
        f"anonyme-{dormant.pk}@anonyme.invalid", False, False)
    assert not dormant.emailaddress_set.exists()
    assert User.objects.get(pk=active.pk).email == "active@example.fr"
    assert User.objects.get(pk=instructor.pk).email == "instructrice@example.fr"


def test_purge_reads_every_dossier_s_dates_in_a_fixed_number_of_queries(
        deffinum, django_assert_num_queries):
    bulk_submitted_dossiers(deffinum, 30)
    with django_assert_num_queries(2):  # the calls' policies, the dossiers with their dates
        assert len(expired_dossiers(TODAY)) == 30
