"""The accusé de réception: a PDF rendered by WeasyPrint from `dossiers/receipt_pdf.html`.

It prints the SHA-256 of the frozen dossier, in full and on its own line, so that anyone can
check the stored dossier was not altered; `receipt_hash_from_pdf` reads it back.
"""

import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pypdf

from guichet.core.clock import format_paris_instant
from guichet.core.pdf import render_pdf
from guichet.dossiers.format import submitted_documents, submitted_dossier
from guichet.dossiers.selectors import person_label
from guichet.rules.eligibility import compute_figures
from guichet.rules.money import format_eur_fr

TEMPLATE = "dossiers/receipt_pdf.html"
HASH_LABEL = "Empreinte SHA-256 du dossier gelé"
SHA256_RE = re.compile(r"[0-9a-f]{64}")
_TEXT_HASH_RE = re.compile(
    re.escape(HASH_LABEL) + r".*?(?<![0-9a-fA-F])([0-9a-fA-F]{64})(?![0-9a-fA-F])", re.DOTALL
)
_METADATA_HASH_RE = re.compile(r"sha256=([0-9a-fA-F]{64})(?![0-9a-fA-F])")


@dataclass(frozen=True)
class ReceiptData:
    receipt_number: str
    received_at: datetime  # aware
    sha256: str  # lowercase hex digest of the frozen dossier
    call_name: str
    wave_name: str
    title: str
    lead_name: str
    members: list[tuple[str, str]]  # (name, SIRET)
    eligible_base: Decimal
    aid: Decimal
    eligible: bool
    failed_rules: list[str]  # French messages of the rules that failed at receipt
    version: int = 1
    # (label, file name, SHA-256) of each document, from the frozen submission
    documents: tuple[tuple[str, str, str], ...] = ()
    submitted_by: str = ""  # name and e-mail of who submitted ("" when imported)


def render_receipt_pdf(data: ReceiptData) -> bytes:
    """Render the receipt as PDF bytes (A4, French, no external resource is ever fetched)."""
    if not SHA256_RE.fullmatch(data.sha256):
        raise ValueError("sha256 must be 64 lowercase hexadecimal characters")
    context = {
        "receipt": data,
        "received_at_paris": format_paris_instant(data.received_at),
        "eligible_base": format_eur_fr(data.eligible_base),
        "aid": format_eur_fr(data.aid),
        "hash_label": HASH_LABEL,
    }
    return render_pdf(TEMPLATE, context)


def receipt_hash_from_pdf(pdf: bytes) -> str | None:
    """The SHA-256 printed in a receipt (lowercase), or None when the PDF shows none.

    The text printed after the label comes first; the PDF metadata (keywords, subject) is
    the fallback. A file that is not a readable PDF raises `pypdf.errors.PdfReadError`.
    """
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=False)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    if match := _TEXT_HASH_RE.search(text):
        return match[1].lower()
    metadata = reader.metadata or {}
    for key in ("/Keywords", "/Subject"):
        if match := _METADATA_HASH_RE.search(str(metadata.get(key) or "")):
            return match[1].lower()
    return None


def receipt_data(dossier, version: int | None = None) -> ReceiptData | None:
    """What the receipt of a submitted dossier says, from its frozen submission `version`
    (the latest when None)."""

    submissions = dossier.submissions.select_related("wave", "submitted_by")
    if version is not None:
        submissions = submissions.filter(version=version)
    submission = submissions.order_by("-version").first()
    if submission is None:
        return None
    frozen = submitted_dossier(submission.snapshot)
    rules = dossier.call.rules()
    figures = compute_figures(frozen, rules)
    labels = {document.id: document.label for document in rules.documents}
    return ReceiptData(
        receipt_number=dossier.receipt_number, received_at=submission.received_at,
        sha256=submission.sha256, call_name=dossier.call.name, wave_name=submission.wave.name,
        title=frozen.title or "", lead_name=next((m.name for m in frozen.members if m.lead), ""),
        members=[(m.name, m.siret) for m in frozen.members],
        eligible_base=figures.eligible_base, aid=figures.aid, eligible=submission.eligible,
        failed_rules=[r["message"] for r in submission.verdict["results"] if not r["ok"]],
        version=submission.version,
        documents=tuple((labels.get(d["kind"], d["kind"]), d["name"], d["sha256"])
                        for d in submitted_documents(submission.snapshot)),
        submitted_by=person_label(submission.submitted_by))
