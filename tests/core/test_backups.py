"""`guichet backup` and `guichet restore`: a round trip into a fresh database and an empty
folder (created here, PostgreSQL or SQLite as the suite runs), and the refusals."""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from guichet.audit.models import AuditEvent
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.documents import upload_document
from guichet.dossiers.models import Document, Dossier, Submission
from guichet.dossiers.receipt import receipt_data, receipt_hash_from_pdf, render_receipt_pdf
from guichet.dossiers.receipt_store import receipt_path
from guichet.dossiers.services import submit
from tests.factories import lead_and_member, make_dossier

ROOT = Path(__file__).resolve().parents[2]
GUICHET = str(Path(sys.executable).parent / "guichet")

# pg_dump and the restored instance read committed data only.
pytestmark = pytest.mark.django_db(transaction=True)


def instance_state() -> dict:
    """What a restore must bring back, in JSON terms: run here on the source and, through
    `guichet shell`, on the restored instance."""
    submitted = Dossier.objects.filter(submissions__isnull=False).distinct().order_by("pk")
    state = {
        "dossiers": list(Dossier.objects.order_by("pk").values_list(
            "pk", "receipt_number", "status", "title")),
        # The stored hash, and the one recomputed from the frozen snapshot.
        "submissions": [(s.dossier_id, s.version, s.sha256,
                         hashlib.sha256(s.snapshot.encode()).hexdigest())
                        for s in Submission.objects.order_by("pk")],
        # The hash printed on each receipt, rendered afresh.
        "receipts": {d.receipt_number: receipt_hash_from_pdf(render_receipt_pdf(
            receipt_data(d))) for d in submitted},
        "documents": [(d.file.name, d.sha256, hashlib.sha256(d.file.read()).hexdigest())
                      for d in Document.objects.order_by("pk")],
        # The receipt PDFs the outbox stored after each submission.
        "stored_receipts": [(name, hashlib.sha256(default_storage.open(name).read()).hexdigest())
                            for name in _stored_receipts()],
        "audit": list(AuditEvent.objects.order_by("sequence").values_list(
            "sequence", "action", "hash")),
    }
    return json.loads(json.dumps(state))


def _stored_receipts() -> list[str]:
    return sorted(receipt_path(s.dossier, s.version, s.sha256)
                  for s in Submission.objects.select_related("dossier")
                  if default_storage.exists(receipt_path(s.dossier, s.version, s.sha256)))


@pytest.fixture
def seeded(open_call, example_document, settings, tmp_path):
    """A submitted dossier (its required documents and one uploaded by its lead), in a media
    folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    upload_document(dossier, lead, "presentation",
                    SimpleUploadedFile("présentation.pdf", blank_pdf(3)))
    submit(dossier, by=lead)
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def fresh_instance(tmp_path):
    """The environment of a new, empty instance: a database just created, an empty folder."""
    media = tmp_path / "restored-media"
    media.mkdir()
    source = connection.settings_dict
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "guichet.settings",
                   "GUICHET_ENV": "development", "DEBUG": "0", "GUICHET_DATA_DIR": str(tmp_path),
                   "GUICHET_MEDIA_DIR": str(media), "PYTHONPATH": str(ROOT)}
    environment.pop("REDIS_URL", None)
    environment.pop("S3_BUCKET", None)
    if connection.vendor == "sqlite":
        environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield environment, media
        return
    name = f"{source['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    client = [f"--host={source['HOST']}", f"--port={source['PORT']}",
              f"--username={source['USER']}"]
    subprocess.run(["createdb", *client, name], check=True)
    password = f":{source['PASSWORD']}" if source.get("PASSWORD") else ""
    environment["DATABASE_URL"] = (f"postgres://{source['USER']}{password}@{source['HOST']}:"
                                   f"{source['PORT']}/{name}")
    yield environment, media
    connection.close()
    subprocess.run(["dropdb", *client, "--if-exists", name], check=True)


def _guichet(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GUICHET, *args], env=environment, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_backup_restore_round_trip_brings_back_data_files_receipts_and_audit(
        seeded, fresh_instance, tmp_path, settings):
    environment, restored_media = fresh_instance
    before = instance_state()
    assert len(before["documents"]) == 4
    assert len(before["stored_receipts"]) == 1
    assert len(before["audit"]) >= 3
    call_command("backup", str(tmp_path / "backup"))

    restored = _guichet(environment, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    assert f"{len(before['documents']) + len(before['stored_receipts'])} files" in restored.stdout

    verified = _guichet(environment, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"audit chain intact: {len(before['audit'])} events" in verified.stdout
    shown = _guichet(environment, "shell", "-c", "import json; from tests.core.test_backups import "
                     "instance_state; print(json.dumps(instance_state()))")
    assert shown.returncode == 0, shown.stderr
    after = json.loads(shown.stdout.strip().splitlines()[-1])
    assert after == before
    (receipt_number, printed), = after["receipts"].items()
    assert receipt_number == seeded.receipt_number
    assert printed == after["submissions"][0][2] == after["submissions"][0][3]
    for name in [document[0] for document in before["documents"]] + [
            receipt[0] for receipt in before["stored_receipts"]]:
        original = (Path(settings.MEDIA_ROOT) / name).read_bytes()
        assert (restored_media / name).read_bytes() == original


def test_backup_manifest_lists_hashes_version_migrations_and_utc_time(seeded, tmp_path):
    call_command("backup", str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["format"] == "guichet.backup/1"
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["app_version"] == "0.1.0"
    assert "0001_initial" in manifest["migrations"]["dossiers"]
    dump = tmp_path / "backup" / manifest["database"]["path"]
    assert manifest["database"]["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    names = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    stored = {name: hashlib.sha256(default_storage.open(name).read()).hexdigest()
              for name in _stored_receipts()}
    assert len(stored) == 1
    assert names == {d.file.name: d.sha256 for d in Document.objects.all()} | stored


@pytest.mark.parametrize("tampered", ["dump", "document"])
def test_restore_refuses_a_backup_with_one_byte_changed_and_names_the_file(
        seeded, tmp_path, tampered):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    relative = (manifest["database"]["path"] if tampered == "dump"
                else f"files/{manifest['files'][0]['name']}")
    data = bytearray((backup / relative).read_bytes())
    data[len(data) // 2] ^= 0x01
    (backup / relative).write_bytes(bytes(data))
    dossiers = Dossier.objects.count()
    with pytest.raises(CommandError, match="does not match its manifest") as refused:
        call_command("restore", str(backup))
    assert f"{relative}: SHA-256" in str(refused.value)
    assert str(refused.value).count("\n  ") == 1  # only that file is named
    assert Dossier.objects.count() == dossiers


def test_restore_refuses_a_file_added_to_the_backup(seeded, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    (backup / "files" / "documents" / "extra.pdf").write_bytes(blank_pdf(1))
    with pytest.raises(CommandError, match=r"files/documents/extra\.pdf: not in the manifest"):
        call_command("restore", str(backup))


def test_restore_refuses_a_database_that_has_data(seeded, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    with pytest.raises(CommandError, match="the target database already has data"):
        call_command("restore", str(backup))


def test_restore_refuses_a_directory_without_manifest(tmp_path):
    with pytest.raises(CommandError, match=r"manifest\.json is missing"):
        call_command("restore", str(tmp_path))


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(tmp_path))
    assert not (tmp_path / "manifest.json").exists()


def test_restore_refuses_a_manifest_naming_a_file_outside_the_backup(tmp_path):
    manifest = {"format": "guichet.backup/1", "migrations": {},
                "database": {"vendor": "sqlite", "path": "database.sqlite3", "sha256": "0" * 64},
                "files": [{"name": "../../etc/passwd", "sha256": "0" * 64}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="is not a plain relative path"):
        call_command("restore", str(tmp_path))
