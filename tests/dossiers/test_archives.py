"""ZIP archives of a dossier and of a wave (guichet.dossiers.archives)."""

import datetime as dt
import hashlib
import io
import json
import zipfile
from zoneinfo import ZoneInfo

import pytest

from guichet.audit.models import AuditEvent
from guichet.core.errors import ServiceError
from guichet.dossiers import archives
from guichet.dossiers.models import WaveArchive
from guichet.dossiers.services import submit
from guichet.notifications.models import Notification, OutboxMessage, OutboxStatus
from guichet.notifications.outbox import run
from guichet.review.models import Role
from tests.factories import make_document, make_dossier, make_user, staff

pytestmark = pytest.mark.django_db
IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
# No NUL here: PostgreSQL stores none, and Django's upload parser drops every non-printable
# character of a file's name; safe_name's own test has one.
HOSTILE_NAMES = ["../../../etc/passwd.pdf", "..\\..\\windows\\system32\\evil.pdf",
                 "/absolute/path.pdf", "C:\\boot.pdf", "....pdf",
                 "Étude de marché — version finale.pdf", ""]


@pytest.fixture
def submitted(deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)
    dossier.refresh_from_db()
    return dossier


def _zip(dossier) -> zipfile.ZipFile:
    output = io.BytesIO()
    archives.write_dossier_zip(dossier, output)
    return zipfile.ZipFile(output)


def _kind(dossier) -> str:
    return dossier.call.rules().documents[0].id


def test_dossier_zip_manifest_hashes_match_the_files(submitted):
    archive = _zip(submitted)

    manifest = json.loads(archive.read("manifeste.json"))
    listed = {file["path"]: file["sha256"] for file in manifest["files"]}
    assert {"resume.pdf", "accuse-de-reception.pdf"} <= set(listed)
    assert len(listed) == 2 + submitted.documents.count()
    for path, sha256 in listed.items():
        assert hashlib.sha256(archive.read(path)).hexdigest() == sha256, path
    assert set(archive.namelist()) == set(listed) | {"manifeste.json", "manifeste.txt"}


def test_dossier_zip_text_manifest_reads_like_sha256sum(submitted):
    archive = _zip(submitted)

    lines = [line for line in archive.read("manifeste.txt").decode().splitlines()
             if not line.startswith("#")]
    assert len(lines) == 2 + submitted.documents.count()
    for line in lines:
        sha256, path = line.split("  ", 1)
        assert hashlib.sha256(archive.read(path)).hexdigest() == sha256


def test_dossier_zip_documents_keep_their_stored_hash(submitted):
    archive = _zip(submitted)

    documents = {file["sha256"] for file in json.loads(archive.read("manifeste.json"))["files"]
                 if file["path"].startswith("pieces/")}
    assert documents == set(submitted.documents.values_list("sha256", flat=True))


def test_dossier_zip_receipt_is_the_stored_receipt(submitted):
    archive = _zip(submitted)

    assert archive.read("accuse-de-reception.pdf").startswith(b"%PDF")
    assert archive.read("resume.pdf").startswith(b"%PDF")


def test_dossier_zip_hostile_document_names_stay_inside_the_archive(submitted):
    for name in HOSTILE_NAMES:
        make_document(submitted, _kind(submitted), name)

    archive = _zip(submitted)

    documents = [name for name in archive.namelist() if name.startswith("pieces/")]
    assert len(documents) == submitted.documents.count()
    unsafe = [name for name in archive.namelist()
              if any(part in name for part in ("..", "\\", "\x00", ":"))
              or name.startswith("/") or name.count("/") > 1]
    assert unsafe == []
    originals = {file["description"] for file in
                 json.loads(archive.read("manifeste.json"))["files"]}
    assert any("../../../etc/passwd.pdf" in text for text in originals)  # named, as data


@pytest.mark.parametrize(("typed", "safe"), [
    ("../../etc/passwd", "etc-passwd"), ("..", "fichier"), ("a/b\\c", "a-b-c"),
    ("Étude été", "Etude-ete"), (".hidden", "hidden"), ("x" * 200, "x" * 80),
    ("nul\x00byte", "nul-byte")])
def test_safe_name_is_one_plain_file_name(typed, safe):
    assert archives.safe_name(typed) == safe


def test_draft_dossier_zip_has_a_summary_but_no_receipt(deffinum, example_document):
    draft = make_dossier(example_document)

    names = _zip(draft).namelist()

    assert "resume.pdf" in names
    assert "accuse-de-reception.pdf" not in names


def test_wave_archive_request_writes_an_outbox_row_and_an_audit_event(deffinum, submitted):
    instructor = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)

    archive = archives.request_wave_archive(submitted.wave, instructor)

    assert (archive.requested_by, archive.ready_at) == (instructor, None)
    row = OutboxMessage.objects.get(task="wave_archive")
    assert row.payload == {"archive": archive.pk}
    assert AuditEvent.objects.filter(action="call.wave_archive_requested").count() == 1


def test_wave_archive_request_while_one_is_pending_returns_it(deffinum, submitted):
    instructor = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)

    first = archives.request_wave_archive(submitted.wave, instructor)
    again = archives.request_wave_archive(submitted.wave, instructor)

    assert again == first
    assert WaveArchive.objects.count() == 1
    assert OutboxMessage.objects.filter(task="wave_archive").count() == 1


def test_wave_archive_request_refused_to_an_expert(deffinum, submitted):
    expert = staff(deffinum, "expert@example.fr", Role.EXPERT)

    with pytest.raises(ServiceError):
        archives.request_wave_archive(submitted.wave, expert)

    assert WaveArchive.objects.count() == 0


def test_wave_archive_built_by_the_outbox_holds_every_dossier(deffinum, submitted,
                                                             example_document):
    second = make_dossier(example_document)
    submit(second, now=IN_WAVE_ONE)
    second.refresh_from_db()
    make_dossier(example_document)  # a draft: not in the archive
    archive = archives.request_wave_archive(submitted.wave,
                                            staff(deffinum, "i@example.fr", Role.INSTRUCTOR))

    outcome = run(OutboxMessage.objects.get(task="wave_archive").pk)

    assert outcome.status == OutboxStatus.SENT
    archive.refresh_from_db()
    assert archive.ready_at is not None
    assert archive.dossiers == 2
    with archive.file.open("rb") as stored:
        content = stored.read()
    assert hashlib.sha256(content).hexdigest() == archive.sha256
    assert len(content) == archive.size
    zipped = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(zipped.read("manifeste.json"))
    for file in manifest["files"]:
        assert hashlib.sha256(zipped.read(file["path"])).hexdigest() == file["sha256"]
    folders = {path.split("/", 1)[0] for path in zipped.namelist() if "/" in path}
    assert folders == {submitted.receipt_number, second.receipt_number}


def test_wave_archive_job_is_idempotent(deffinum, submitted):
    archive = archives.request_wave_archive(submitted.wave,
                                            staff(deffinum, "i@example.fr", Role.INSTRUCTOR))
    archives.build_wave_archive(archive.pk)
    archive.refresh_from_db()
    built = (archive.file.name, archive.sha256, archive.ready_at)

    archives.build_wave_archive(archive.pk)

    archive.refresh_from_db()
    assert (archive.file.name, archive.sha256, archive.ready_at) == built


def test_wave_archive_job_run_twice_by_the_outbox_runs_once(deffinum, submitted):
    archives.request_wave_archive(submitted.wave,
                                  staff(deffinum, "i@example.fr", Role.INSTRUCTOR))
    row = OutboxMessage.objects.get(task="wave_archive")

    first, second = run(row.pk), run(row.pk)

    assert (first.status, second.status) == (OutboxStatus.SENT, OutboxStatus.SENT)
    assert WaveArchive.objects.get().ready_at is not None


def test_wave_archive_requester_must_be_signed_up(deffinum, submitted):
    outsider = make_user("personne@example.fr")

    with pytest.raises(ServiceError):
        archives.request_wave_archive(submitted.wave, outsider)


def test_wave_archive_ready_tells_who_asked_by_mail_and_in_the_application(
        deffinum, submitted, mailoutbox):
    instructor = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)
    archives.request_wave_archive(submitted.wave, instructor)

    run(OutboxMessage.objects.get(task="wave_archive").pk)
    mailoutbox.clear()
    run(OutboxMessage.objects.get(payload__kind="wave_archive_ready").pk)

    [mail] = mailoutbox
    assert mail.to == [instructor.email]
    assert mail.subject == f"Archive prête : {deffinum.name} — {submitted.wave.name}"
    assert "elle réunit 1 dossier(s)" in mail.body
    assert mail.body.rstrip().endswith("/instruction/appels/deffinum/dossiers/")
    [notice] = Notification.objects.filter(recipient=instructor)
    assert (notice.kind, notice.link) == ("wave_archive_ready",
                                          "/instruction/appels/deffinum/dossiers/")


def test_wave_archive_built_twice_tells_once(deffinum, submitted):
    archive = archives.request_wave_archive(submitted.wave,
                                            staff(deffinum, "i@example.fr", Role.INSTRUCTOR))
    archives.build_wave_archive(archive.pk)
    archives.build_wave_archive(archive.pk)
    assert OutboxMessage.objects.filter(payload__kind="wave_archive_ready").count() == 1
