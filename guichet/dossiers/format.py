"""The mapping between stored dossiers and the interchange format `guichet.dossier/1`,
and the frozen form of a submission (`guichet.submission/1`)."""

import datetime as dt
from dataclasses import dataclass

import msgspec
from django.db.models import Prefetch

from guichet.dossiers.models import (
    ConsortiumMember,
    Document,
    Dossier,
    DossierAnswers,
    ExpenseLine,
    FinancingLine,
)
from guichet.rules import dossier as fmt

SUBMISSION_FORMAT = "guichet.submission/1"
_canonical = msgspec.json.Encoder(order="sorted", decimal_format="string")


def dossier_queryset():
    """Dossiers with everything the interchange format needs, in a fixed number of queries."""
    members = ConsortiumMember.objects.select_related("organisation")
    return Dossier.objects.select_related("call", "consortium", "answers").prefetch_related(
        Prefetch("consortium__members", queryset=members),
        Prefetch("milestones"), Prefetch("expenses", queryset=ExpenseLine.objects.select_related(
            "member__organisation")),
        Prefetch("financing", queryset=FinancingLine.objects.select_related(
            "member__organisation")),
    )


def to_format(dossier: Dossier, submitted_at: dt.datetime | None = None) -> fmt.Dossier:
    """The dossier as a `guichet.dossier/1` document (amounts exact, order kept)."""
    return fmt.Dossier(
        format=fmt.FORMAT_ID, call=dossier.call.code, title=dossier.title or None,
        summary=dossier.summary or None, scope=dossier.scope or None,
        pooling_commitment=dossier.pooling_commitment, start_date=dossier.start_date,
        duration_months=dossier.duration_months,
        members=[fmt.Member(siret=m.organisation.siret, name=m.name, kind=m.kind, lead=m.is_lead)
                 for m in dossier.consortium.members.all() if m.confirmed_at or m.is_lead],
        milestones=[fmt.Milestone(month=m.month, kind=m.kind, label=m.label)
                    for m in dossier.milestones.all()],
        expenses=[fmt.Expense(member=e.member.organisation.siret, category=e.category,
                              label=e.label, amount=e.amount, eligible=e.eligible)
                  for e in dossier.expenses.all()],
        financing=[fmt.Financing(source=f.source, amount=f.amount,
                                 member=f.member.organisation.siret if f.member else None)
                   for f in dossier.financing.all()],
        submitted_at=submitted_at, answers=answers_of(dossier) or msgspec.UNSET,
    )


def answers_of(dossier: Dossier) -> dict:
    """The dossier's answers to its call's questions (none saved yet: none)."""
    try:
        return dossier.answers.values
    except DossierAnswers.DoesNotExist:
        return {}


def answers_version(dossier: Dossier) -> int:
    """The version of the dossier's answers an edit starts from (none saved yet: the first)."""
    return DossierAnswers.objects.filter(dossier=dossier).values_list(
        "version", flat=True).first() or 1


def content_hash(dossier: Dossier) -> str:
    """SHA-256 of the dossier's current content in canonical form (for the audit log)."""
    return fmt.sha256_hex(fmt.canonical_json(to_format(dossier)))


def frozen_submission(dossier: Dossier, document: fmt.Dossier,
                      documents: list[Document] | None = None) -> bytes:
    """Canonical JSON of everything received: the dossier (with its answers to the call's
    questions), its classification, its documents (by SHA-256; `documents` when the caller
    has read them already). Its hash is the receipt's."""
    if documents is None:
        documents = Document.objects.filter(dossier=dossier)
    documents = sorted(documents, key=lambda d: (d.kind, d.pk))
    return _canonical.encode({"format": SUBMISSION_FORMAT, "dossier": document,
                              "classification": classification(dossier),
                              "documents": document_entries(documents)})


def classification(dossier: Dossier) -> dict:
    return {"sector": dossier.sector, "keywords": dossier.keywords}


def document_entries(documents) -> list[dict]:
    return [{"kind": d.kind, "name": d.original_name, "sha256": d.sha256, "size": d.size}
            for d in documents]


@dataclass(frozen=True)
class Envelope:
    """Everything a version of a dossier holds: the `guichet.dossier/1` document (with its
    answers to the call's questions), its classification and its documents (by SHA-256)."""
    dossier: fmt.Dossier
    classification: dict
    documents: list[dict]

    @property
    def answers(self) -> dict:
        return self.dossier.answers or {}


def submitted_envelope(snapshot: str | bytes) -> Envelope:
    """A frozen submission, read back."""
    envelope = msgspec.json.decode(snapshot)
    return Envelope(_dossier_part(envelope), envelope.get("classification", {}),
                    envelope.get("documents", []))


def draft_envelope(dossier: Dossier, documents) -> Envelope:
    """The dossier as it stands (a draft), in the form of a frozen submission."""
    return Envelope(to_format(dossier), classification(dossier),
                    document_entries(sorted(documents, key=lambda d: (d.kind, d.pk))))


def submitted_dossier(snapshot: str | bytes) -> fmt.Dossier:
    """The `guichet.dossier/1` part of a frozen submission."""
    return _dossier_part(msgspec.json.decode(snapshot))


def _dossier_part(envelope: dict) -> fmt.Dossier:
    """Submissions frozen before the call's questions were data kept the hybridation profile
    beside the dossier, under the ids its questions have now: they read as its answers."""
    document = envelope["dossier"]
    legacy = {key: value for key, value in envelope.get("hybrid_profile", {}).items()
              if value not in (None, "", {})}
    if legacy and "answers" not in document:
        document = {**document, "answers": legacy}
    return fmt.dossier_from_builtins(document)


def submitted_documents(snapshot: str | bytes) -> list[dict]:
    """The documents of a frozen submission (kind, name, sha256, size), as hashed with it."""
    return list(msgspec.json.decode(snapshot).get("documents", []))


def stamped(document: fmt.Dossier, received_at: dt.datetime, first_received_at: dt.datetime,
            zone) -> fmt.Dossier:
    """The document as received at `received_at` (in the call's time zone); a re-submission
    also carries the first receipt instant, under its own name."""
    first = None if first_received_at == received_at else first_received_at.astimezone(zone)
    return msgspec.structs.replace(document, submitted_at=received_at.astimezone(zone),
                                   first_submitted_at=first)


def export_dossier(dossier: Dossier) -> bytes:
    """Canonical JSON; a submitted dossier exports its latest version (the dossier part of its
    latest snapshot) with its receipt instant, and the first one when it was re-submitted."""
    submissions = list(dossier.submissions.order_by("version"))
    if not submissions:
        return fmt.canonical_json(to_format(dossier))
    first, latest = submissions[0], submissions[-1]
    return fmt.canonical_json(stamped(submitted_dossier(latest.snapshot), latest.received_at,
                                      first.received_at, dossier.call.rules().zone))
