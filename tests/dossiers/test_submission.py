import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from guichet.audit.models import AuditEvent
from guichet.calls.models import CallStatus
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier, DossierStatus, Submission
from guichet.dossiers.services import SubmissionRefused, submit
from guichet.rules import dossier as fmt
from tests.factories import make_dossier

PARIS = ZoneInfo("Europe/Paris")
W1_CLOSE = dt.datetime(2021, 8, 31, 12, 0, tzinfo=PARIS)  # 10:00 UTC, summer time
W2_CLOSE = dt.datetime(2021, 12, 30, 12, 0, tzinfo=PARIS)  # 11:00 UTC, winter time
ONE_SECOND = dt.timedelta(seconds=1)

pytestmark = pytest.mark.django_db

NO_OPEN_WAVE = "Aucune vague de l'appel n'est ouverte à la date de réception"

def test_submit_eligible_dossier_issues_receipt_with_snapshot_hash(deffinum, example_document):
    dossier = make_dossier(example_document)
    submission = submit(dossier, now=W1_CLOSE - ONE_SECOND)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.receipt_number == f"DEFFINUM-W1-{dossier.pk:06d}"
    assert dossier.wave.code == "w1"
    assert submission.received_at == W1_CLOSE - ONE_SECOND
    assert submission.sha256 == fmt.sha256_hex(submission.snapshot.encode())
    frozen = submitted_dossier(submission.snapshot)
    assert frozen.submitted_at == W1_CLOSE - ONE_SECOND
    assert frozen.submitted_at.utcoffset() == dt.timedelta(hours=2)
    assert submission.eligible is True
    assert submission.verdict["eligible"] is True
    assert submission.rules_version == "deffinum-2021.1"


def test_submit_at_closing_instant_refused_summer_time(deffinum, example_document):
    dossier = make_dossier(example_document)
    with pytest.raises(SubmissionRefused, match="Aucune vague"):
        submit(dossier, now=W1_CLOSE)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT
    assert not Submission.objects.exists()


def test_submit_one_second_before_winter_close_lands_in_wave_two(deffinum, example_document):
    dossier = make_dossier(example_document)
    submission = submit(dossier, now=dt.datetime(2021, 12, 30, 10, 59, 59, tzinfo=dt.UTC))
    assert submission.wave.code == "w2"
    assert submitted_dossier(submission.snapshot).submitted_at.isoformat() == (
        "2021-12-30T11:59:59+01:00")


def test_submit_at_winter_close_refused(deffinum, example_document):
    dossier = make_dossier(example_document)
    with pytest.raises(SubmissionRefused, match=rf"{NO_OPEN_WAVE} \(30/12/2021 à 12:00:00"):
        submit(dossier, now=W2_CLOSE)
    assert W2_CLOSE.astimezone(dt.UTC).hour == 11


def test_submit_between_waves_refused(deffinum, example_document):
    dossier = make_dossier(example_document)
    with pytest.raises(SubmissionRefused, match=rf"{NO_OPEN_WAVE} \(15/09/2021 à 12:00:00"):
        submit(dossier, now=dt.datetime(2021, 9, 15, 12, 0, tzinfo=PARIS))


def test_submit_incomplete_dossier_lists_what_is_missing(deffinum, example_document):
    example_document.pop("title")
    example_document["milestones"] = []
    dossier = make_dossier(example_document)
    with pytest.raises(SubmissionRefused) as refused:
        submit(dossier, now=W1_CLOSE - ONE_SECOND)
    assert refused.value.details == ["title", "milestones"]
    assert refused.value.message == "Le dossier est incomplet ; à renseigner : titre, jalons."
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.DRAFT


def test_submit_without_required_documents_lists_them(deffinum, example_document):
    dossier = make_dossier(example_document, with_documents=False)
    with pytest.raises(SubmissionRefused) as refused:
        submit(dossier, now=W1_CLOSE - ONE_SECOND)
    assert refused.value.details == ["documents.commitment_letters", "documents.financial_annex",
                                     "documents.lead_statutes"]
    assert refused.value.message == (
        "Le dossier est incomplet ; à renseigner : Lettres d'engagement signées de chaque "
        "membre du consortium, Annexe financière signée par le chef de file, Statuts et extrait "
        "Kbis (ou équivalent) du chef de file.")


def test_submit_ineligible_but_complete_dossier_is_received_with_its_verdict(
        deffinum, example_document):
    example_document["duration_months"] = 37
    dossier = make_dossier(example_document)
    submission = submit(dossier, now=W1_CLOSE - ONE_SECOND)
    assert submission.eligible is False
    failed = [r["rule"] for r in submission.verdict["results"] if not r["ok"]]
    assert failed == ["duration"]


def test_submit_twice_refused_and_changes_nothing(deffinum, example_document):
    dossier = make_dossier(example_document)
    first = submit(dossier, now=W1_CLOSE - dt.timedelta(hours=1))
    events = AuditEvent.objects.count()
    with pytest.raises(SubmissionRefused, match="déjà été déposé"):
        submit(dossier, now=W1_CLOSE - ONE_SECOND)
    assert list(Submission.objects.values_list("pk", flat=True)) == [first.pk]
    assert AuditEvent.objects.count() == events
    dossier.refresh_from_db()
    assert dossier.receipt_number == f"DEFFINUM-W1-{dossier.pk:06d}"


def test_submit_on_closed_call_refused_with_its_message(deffinum, example_document):
    deffinum.status = CallStatus.CLOSED
    deffinum.closed_message = "Enveloppe consommée : l'appel est clos."
    deffinum.save()
    dossier = make_dossier(example_document)
    with pytest.raises(SubmissionRefused, match="Enveloppe consommée"):
        submit(dossier, now=W1_CLOSE - ONE_SECOND)


def test_submit_appends_audit_event_with_hashes(deffinum, example_document):
    dossier = make_dossier(example_document)
    submission = submit(dossier, now=W1_CLOSE - ONE_SECOND)
    event = AuditEvent.objects.get(action="dossier.submitted")
    assert event.object_id == str(dossier.pk)
    assert event.hash_after == submission.sha256
    frozen = json.loads(submission.snapshot)["dossier"]
    draft_hash = fmt.sha256_hex(fmt.canonical_json(
        fmt.parse_dossier(json.dumps({**frozen, "submitted_at": None}))))
    assert event.hash_before == draft_hash
    assert json.loads(event.details) == {"eligible": True, "version": 1, "wave": "w1"}


REFUSE_AUDIT_INSERT = {
    "sqlite": ["CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON audit_auditevent "
               "BEGIN SELECT RAISE(ABORT, 'disk full'); END"],
    "postgresql": ["CREATE FUNCTION pg_temp.refuse_audit() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_auditevent "
                   "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_audit()"],
}
ALLOW_AUDIT_INSERT = {
    "sqlite": ["DROP TRIGGER refuse_audit"],
    "postgresql": ["DROP TRIGGER refuse_audit ON audit_auditevent"],
}


def _execute(statements):
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]:
            cursor.execute(statement)


def test_submit_failing_after_receipt_leaves_no_receipt(deffinum, example_document):
    """A failure in the last write of the transaction (the audit event, injected by a
    database trigger) rolls the receipt and the snapshot back with it."""
    dossier = make_dossier(example_document)
    _execute(REFUSE_AUDIT_INSERT)
    try:
        with pytest.raises(Exception, match="disk full"):
            submit(dossier, now=W1_CLOSE - ONE_SECOND)
    finally:
        _execute(ALLOW_AUDIT_INSERT)
    assert not Submission.objects.exists()
    stored = Dossier.objects.get(pk=dossier.pk)
    assert (stored.status, stored.receipt_number) == (DossierStatus.DRAFT, None)
