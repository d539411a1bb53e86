"""ZIP archives for staff: one dossier, or every dossier of a wave.

A dossier's archive holds its summary (a PDF rendered now), its receipt (the stored PDF), every
document, and a manifest, in JSON and as text, giving each file's SHA-256 and size, so that
anyone can check what they received (the text lines read `sha256sum -c`). Member names are
made by us from ASCII letters, digits, dots and dashes: an applicant's file name never becomes
a path, so nothing can land outside the folder the archive is unpacked into.

A wave's archive is too long to build during a request: `request_wave_archive` writes the
request and an outbox row in one transaction, and `build_wave_archive` (the outbox task, run by
a worker or in-process) writes the ZIP to a temporary file, then keeps it in the private
storage; it is ready once `ready_at` is set, and the person who asked is told (mail and
in-app notification) with a link to the list where it is offered. Building it again does
nothing.
"""

import contextlib
import hashlib
import json
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import asdict, dataclass

from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core import labels
from guichet.core.clock import format_paris_instant
from guichet.core.clock import now as server_now
from guichet.core.pdf import render_pdf
from guichet.core.permissions import require_perm
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier, DossierStatus, WaveArchive
from guichet.dossiers.receipt_store import receipt_pdf
from guichet.notifications.kinds import Kind
from guichet.notifications.outbox import enqueue
from guichet.notifications.services import notify
from guichet.rules.eligibility import compute_figures

MANIFEST_JSON = "manifeste.json"
MANIFEST_TEXT = "manifeste.txt"
COPY_CHUNK = 1 << 16
MAX_NAME = 80
SUMMARY_TEMPLATE = "dossiers/summary_pdf.html"


@dataclass(frozen=True)
class Entry:
    """A file of an archive: its path inside the archive, SHA-256, size and what it is."""

    path: str
    sha256: str
    size: int
    description: str


def safe_name(text: str, fallback: str = "fichier") -> str:
    """A name that is one plain file name in any archive: ASCII letters, digits, dots, dashes
    and underscores (accents dropped, anything else a dash), no leading dot, never "..", at
    most 80 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text)
    name = re.sub(r"\.{2,}", ".", name).strip(".-_")[:MAX_NAME].strip(".-_")
    return name or fallback


def _add(archive: zipfile.ZipFile, path: str, source, description: str) -> Entry:
    """Copy `source` (bytes, or a binary file read in chunks) into the archive as `path`,
    hashing it on the way."""
    digest, size = hashlib.sha256(), 0
    with archive.open(path, "w", force_zip64=True) as member:
        chunks = [source] if isinstance(source, bytes) else iter(
            lambda: source.read(COPY_CHUNK), b"")
        for chunk in chunks:
            digest.update(chunk)
            member.write(chunk)
            size += len(chunk)
    return Entry(path, digest.hexdigest(), size, description)


def summary_pdf(dossier: Dossier) -> bytes:
    """The dossier as received (its latest submission) on a few pages, or as it stands when
    it was never submitted."""
    submission = dossier.submissions.select_related("wave").order_by("-version").first()
    frozen = submitted_dossier(submission.snapshot) if submission else None
    figures = compute_figures(frozen, dossier.call.rules()) if frozen else None
    return render_pdf(SUMMARY_TEMPLATE, {
        "dossier": dossier, "submission": submission, "frozen": frozen,
        "received_at": format_paris_instant(submission.received_at) if submission else "",
        "generated_at": format_paris_instant(server_now()),
        "members": [(member.name, member.siret, labels.label("member_kind", member.kind),
                     member.lead) for member in (frozen.members if frozen else [])],
        "figures": [(name, labels.money(getattr(figures, field))) for name, field in (
            ("Assiette de dépenses éligibles", "eligible_base"), ("Aide demandée", "aid"),
            ("Cofinancement", "cofinancing"), ("Dont apports en nature", "in_kind"),
            ("Total des financements", "total_financing"))] if figures else [],
        "scope": labels.label("scope", frozen.scope if frozen else dossier.scope),
    })


def write_dossier(archive: zipfile.ZipFile, dossier: Dossier, folder: str = "") -> list[Entry]:
    """Add a dossier's files to `archive` under `folder` (ending with "/", or empty) and its
    manifest; return the entries of its files."""
    entries = [_add(archive, f"{folder}resume.pdf", summary_pdf(dossier),
                    _("Résumé du dossier"))]
    with contextlib.suppress(LookupError):  # never submitted: no receipt to add
        entries.append(_add(archive, f"{folder}accuse-de-reception.pdf", receipt_pdf(dossier),
                            _("Accusé de réception")))
    rules = dossier.call.rules()
    for number, document in enumerate(dossier.documents.order_by("kind", "pk"), start=1):
        stem = document.original_name.rsplit(".", 1)[0] if document.original_name else ""
        path = (f"{folder}pieces/{number:02d}-{safe_name(document.kind)}-"
                f"{safe_name(stem, 'piece')}.pdf")
        description = _("Pièce « %(kind)s », déposée sous le nom « %(name)s »") % {
            "kind": labels.call_label(rules, "attachments", document.kind),
            "name": document.original_name}
        with document.file.open("rb") as stored:
            entries.append(_add(archive, path, stored, description))
    write_manifest(archive, entries, folder, dossier.receipt_number or dossier.title)
    return entries


def write_manifest(archive: zipfile.ZipFile, entries: list[Entry], folder: str,
                   title: str) -> None:
    """The manifest of `entries` in `folder`: JSON, and text (paths relative to the folder)."""
    files = [{**asdict(entry), "path": entry.path.removeprefix(folder)} for entry in entries]
    generated_at = server_now().isoformat(timespec="seconds")
    document = {"format": "guichet.archive/1", "title": title, "generated_at": generated_at,
                "algorithm": "sha256", "files": files}
    _add(archive, folder + MANIFEST_JSON,
         json.dumps(document, ensure_ascii=False, indent=2).encode(), "")
    lines = [_("# Manifeste de l'archive %(title)s, produite le %(instant)s.") % {
                 "title": title, "instant": format_paris_instant(server_now())},
             _("# Chaque ligne : empreinte SHA-256, deux espaces, fichier (sha256sum -c %(name)s)."
               ) % {"name": MANIFEST_TEXT}]
    lines += [f"{file['sha256']}  {file['path']}" for file in files]
    _add(archive, folder + MANIFEST_TEXT, ("\n".join(lines) + "\n").encode(), "")


def write_dossier_zip(dossier: Dossier, target) -> None:
    """A dossier's archive, written into `target` (a seekable binary file)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_dossier(archive, dossier)


def dossier_zip_name(dossier: Dossier) -> str:
    return f"{safe_name(dossier.receipt_number or f'dossier-{dossier.pk}')}.zip"


# --- a wave's archive, in the background -----------------------------------------------------


@transaction.atomic
def request_wave_archive(wave, by) -> WaveArchive:
    """A staff member of the call asks for the archive of every dossier of `wave`; while one is
    being built, asking again returns it."""
    require_perm(by, "review.view_call", wave.call)
    pending = WaveArchive.objects.filter(wave=wave, ready_at__isnull=True).first()
    if pending is not None:
        return pending
    archive = WaveArchive.objects.create(wave=wave, requested_by=by, requested_at=server_now())
    append_event(AuditAction.CALL_WAVE_ARCHIVE_REQUESTED, wave, by=by,
                 details={"archive": archive.pk})
    enqueue("wave_archive", {"archive": archive.pk}, key=f"wave_archive:{archive.pk}")
    return archive


def wave_dossiers(wave):
    return (Dossier.objects.filter(wave=wave).exclude(status=DossierStatus.DRAFT)
            .select_related("call", "wave").order_by("receipt_number", "pk"))


def build_wave_archive(archive: int) -> None:
    """The outbox task: build the archive once (a ready archive is left as it is)."""
    record = WaveArchive.objects.select_related("wave__call").get(pk=archive)
    if record.ready_at is not None:
        return
    with tempfile.TemporaryFile() as file:
        count = _write_wave_zip(record.wave, file)
        file.seek(0)
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        size = file.tell()
        file.seek(0)
        record.file.save(f"vague-{safe_name(record.wave.code)}.zip", File(file), save=False)
    record.sha256, record.size, record.dossiers = digest, size, count
    record.ready_at = server_now()
    record.save(update_fields=["file", "sha256", "size", "dossiers", "ready_at"])
    notify(Kind.WAVE_ARCHIVE_READY, key=f"wave_archive_ready:{archive}", archive=archive)


def _write_wave_zip(wave, target) -> int:
    entries, count = [], 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for dossier in wave_dossiers(wave).iterator(chunk_size=100):
            folder = safe_name(dossier.receipt_number or f"dossier-{dossier.pk}") + "/"
            entries += write_dossier(archive, dossier, folder)
            count += 1
        write_manifest(archive, entries, "", f"{wave.call.name} — {wave.name}")
    return count

