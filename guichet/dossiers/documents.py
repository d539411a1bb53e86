"""Attachments: PDFs checked by content, stored under their SHA-256, never served unchecked.

What a PDF can do when opened (JavaScript, embedded files, launch actions) is recorded on the
document for staff; every stored PDF is served sandboxed and never sniffed: as a download, or
inline for the preview frame of our own pages (and no one else's) after the same checks.
"""

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.dossiers.editing import EditRefused, require
from guichet.dossiers.models import Document, Dossier
from guichet.dossiers.pdf_check import DocumentRefused, check_pdf
from guichet.rules.sections import file_questions


def upload_document(dossier: Dossier, user, kind: str, upload) -> Document:
    """Check `upload` (a file object with a `name`) and attach it as a document of `kind`."""
    require(user, "dossiers.upload_document", dossier)
    definition = dossier.call.rules()
    known = {item.id for item in [*definition.documents, *file_questions(definition.sections)]}
    if kind not in known:
        raise EditRefused(_("Pièce inconnue pour cet appel."), field="kind")
    try:
        checked = check_pdf(upload)
    except DocumentRefused as refused:
        raise EditRefused(refused.reason, field="file") from None
    upload.seek(0)
    with transaction.atomic():
        document = Document(dossier=dossier, kind=kind, sha256=checked.sha256,
                            size=checked.size, uploaded_by=user, uploaded_at=server_now(),
                            original_name=(getattr(upload, "name", "") or "document.pdf")[-255:],
                            active_content=list(checked.active_content))
        document.file.save("document.pdf", ContentFile(upload.read()), save=False)
        document.save()
        append_event(AuditAction.DOSSIER_DOCUMENT_ADDED, dossier, by=user,
                     details={"kind": kind, "sha256": checked.sha256,
                              **checked.audit_details()})
    return document


@transaction.atomic
def remove_document(document: Document, user) -> None:
    """Only the person who added a document, or the lead, removes it (while editable)."""
    require(user, "dossiers.upload_document", document.dossier)
    if not user.has_perm("dossiers.remove_document", document):
        raise EditRefused(_("Seuls la personne qui a ajouté cette pièce et le chef de file "
                            "peuvent la retirer."), field="document")
    append_event(AuditAction.DOSSIER_DOCUMENT_REMOVED, document.dossier, by=user,
                 details={"kind": document.kind, "sha256": document.sha256})
    document.delete()


def pdf_file_response(stored_file, filename: str, *, inline: bool = False) -> FileResponse:
    """A stored PDF as a download, or `inline` for a preview frame (the response closes the
    file when sent). Whatever the browser renders, the CSP sandbox keeps its scripts away from
    our origin, and nosniff keeps the declared type; inline, it loads nothing else and only our
    own pages may frame it. The sandbox is the response's, not the frame's: Chromium refuses to
    show a PDF in a frame with the `sandbox` attribute (tests/e2e/test_document_preview.py)."""
    response = FileResponse(stored_file.open("rb"), as_attachment=not inline, filename=filename,
                            content_type="application/pdf")
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; frame-ancestors 'self'" if inline else "sandbox")
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response
