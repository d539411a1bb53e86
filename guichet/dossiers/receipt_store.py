"""Receipt PDFs kept in the file storage, rendered off the submission request.

Submitting stores what the receipt says (number, instant, hash, frozen snapshot) and asks the
outbox for the PDF. Whoever needs the PDF first (the worker, the receipt mail, a download)
renders and keeps it: the data behind it is committed, so the file is the same whenever it is
made, and a download never waits for a worker.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from guichet.dossiers.models import Dossier
from guichet.dossiers.receipt import receipt_data, render_receipt_pdf


def receipt_folder(dossier_pk: int) -> str:
    return f"receipts/{dossier_pk}"


def receipt_path(dossier: Dossier, version: int, sha256: str) -> str:
    return f"{receipt_folder(dossier.pk)}/v{version}-{sha256}.pdf"


def receipt_pdf(dossier: Dossier, version: int | None = None) -> bytes:
    """The receipt PDF of `version` (the latest when None): the stored one, else rendered now
    and stored. LookupError when the dossier has no such submission."""
    data = receipt_data(dossier, version=version)
    if data is None:
        raise LookupError(f"dossier {dossier.pk} has no submission {version or ''}")
    path = receipt_path(dossier, data.version, data.sha256)
    if default_storage.exists(path):
        with default_storage.open(path, "rb") as stored:
            return stored.read()
    pdf = render_receipt_pdf(data)
    if not default_storage.exists(path):  # a concurrent render may have stored it meanwhile
        default_storage.save(path, ContentFile(pdf))
    return pdf


def receipt_ready(dossier: Dossier, version: int, sha256: str) -> bool:
    return default_storage.exists(receipt_path(dossier, version, sha256))


def store_receipt_pdf(dossier: int, version: int) -> None:
    """The outbox task: render and keep the receipt of a new submission."""
    receipt_pdf(Dossier.objects.select_related("call").get(pk=dossier), version)
