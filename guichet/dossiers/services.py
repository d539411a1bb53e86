"""Business actions on dossiers: import, export, submission.

Each action runs in one transaction, checks its preconditions before writing, and appends to
the audit log; a refused action raises `ServiceError` and changes nothing.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, WebhookEvent
from guichet.calls.services import open_wave
from guichet.calls.webhooks import jobs_for
from guichet.core import labels
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.dossiers.format import (
    content_hash,
    dossier_queryset,
    frozen_submission,
    stamped,
    to_format,
)
from guichet.dossiers.lifecycle import DossierAction, apply_dossier_transition
from guichet.dossiers.membership import designate_lead
from guichet.dossiers.models import (
    Consortium,
    ConsortiumMember,
    CorrectionRequest,
    Document,
    Dossier,
    DossierAnswers,
    DossierStatus,
    ExpenseLine,
    FinancingLine,
    Milestone,
    Organisation,
    Submission,
)
from guichet.dossiers.permissions import is_lead
from guichet.dossiers.search import search_document
from guichet.notifications.kinds import Kind
from guichet.notifications.outbox import Job, enqueue_all
from guichet.notifications.services import notification_job
from guichet.rules import dossier as fmt
from guichet.rules.eligibility import (
    checked_answers,
    evaluate,
    missing_documents,
    missing_fields,
)
from guichet.rules.sections import missing_answers


class ImportRefused(ServiceError):
    code = "import_refused"


class SubmissionRefused(ServiceError):
    code = "submission_refused"


class AlreadySubmitted(SubmissionRefused):
    """The dossier was submitted already (often the same submission, sent twice): its receipt
    is the answer."""


@dataclass(frozen=True)
class ImportResult:
    dossier: Dossier
    receipt_ignored: bool  # the document had a `submitted_at`, which is never imported


@transaction.atomic
def import_dossier(document: bytes, *, by=None, lead_email: str | None = None) -> ImportResult:
    """Create a draft dossier from a `guichet.dossier/1` document.

    Nobody gets access to it, unless `lead_email` names the (confirmed) account of its lead:
    that account then takes part for the lead member. Members in the file are organisations,
    not people, and a SIRET opens nothing. A receipt instant in the document is not imported:
    only `submit` issues receipts.
    """

    try:
        data = fmt.parse_dossier(document)
    except fmt.DossierFormatError as exc:
        raise ImportRefused(str(exc), field=exc.field) from None
    call = Call.objects.filter(code=data.call).first()
    if call is None:
        raise ImportRefused(_("Appel inconnu : %(call)s.") % {"call": data.call}, field="call")
    try:
        data = checked_answers(data, call.rules())
    except fmt.DossierFormatError as exc:
        raise ImportRefused(str(exc), field=exc.field) from None
    consortium, members = _import_consortium(data)
    dossier = Dossier.objects.create(
        call=call, consortium=consortium, title=data.title or "", summary=data.summary or "",
        scope=data.scope or "",
        pooling_commitment=data.pooling_commitment, start_date=data.start_date,
        duration_months=data.duration_months)
    DossierAnswers.objects.create(dossier=dossier, values=data.answers or {})
    _import_lines(dossier, data, members)
    append_event(AuditAction.DOSSIER_IMPORTED, dossier, by=by, hash_after=content_hash(dossier))
    if lead_email is not None:
        designate_lead(dossier, lead_email, by=by)
    return ImportResult(dossier, receipt_ignored=data.submitted_at is not None
                        or data.first_submitted_at is not None)


def _import_consortium(data: fmt.Dossier) -> tuple[Consortium, dict[str, ConsortiumMember]]:
    sirets = [member.siret for member in data.members]
    for index, siret in enumerate(sirets):
        if sirets.index(siret) != index:
            raise ImportRefused(_("Le SIRET %(siret)s figure deux fois parmi les membres.")
                                % {"siret": siret}, field=f"members[{index}].siret")
        if len(siret) != 14 or not siret.isdigit():
            raise ImportRefused(_("Le SIRET %(siret)s doit compter 14 chiffres.")
                                % {"siret": siret}, field=f"members[{index}].siret")
    consortium = Consortium.objects.create(name=data.title or "")
    members = {}
    for position, member in enumerate(data.members):
        organisation, _created = Organisation.objects.get_or_create(
            siret=member.siret, defaults={"name": member.name})
        members[member.siret] = ConsortiumMember.objects.create(
            consortium=consortium, organisation=organisation, name=member.name,
            kind=member.kind, is_lead=member.lead, position=position, confirmed_at=server_now())
    return consortium, members


def _import_lines(dossier: Dossier, data: fmt.Dossier, members: dict) -> None:
    Milestone.objects.bulk_create(
        Milestone(dossier=dossier, month=m.month, kind=m.kind, label=m.label, position=i)
        for i, m in enumerate(data.milestones))
    ExpenseLine.objects.bulk_create(
        ExpenseLine(dossier=dossier, member=members[e.member], category=e.category,
                    label=e.label, amount=e.amount, eligible=e.eligible, position=i)
        for i, e in enumerate(data.expenses))
    FinancingLine.objects.bulk_create(
        FinancingLine(dossier=dossier, source=f.source, amount=f.amount, position=i,
                      member=members[f.member] if f.member else None)
        for i, f in enumerate(data.financing))


# --- submission -----------------------------------------------------------------------------

def submit(dossier: Dossier, by=None, now: dt.datetime | None = None) -> Submission:
    """Submit a draft: receipt instant from the server, verdict, frozen snapshot and its hash.

    Only the lead submits (`by` None is the platform itself: tests, demo data). The receipt
    exists only once its snapshot is stored: both are written in one transaction. A complete
    but ineligible dossier is accepted, and carries its verdict.
    """
    if by is not None and not is_lead(by, dossier):
        raise SubmissionRefused(_("Seul le chef de file dépose le dossier."))
    received_at = now or server_now()
    try:
        with transaction.atomic():
            return _submit_locked(dossier.pk, by, received_at)
    except IntegrityError:
        # Either a concurrent submission of the same dossier won the race (unique version and
        # receipt number), or something else failed: only the first is the applicant's concern.
        if Dossier.objects.filter(pk=dossier.pk).exclude(status=DossierStatus.DRAFT).exists():
            raise AlreadySubmitted(_("Ce dossier a déjà été déposé.")) from None
        raise


def _submit_locked(dossier_pk: int, by, received_at: dt.datetime) -> Submission:
    # The row lock and the content in one query: the prefetches run once the row is locked, so
    # they read what the edits committed before it.
    locked = (dossier_queryset().select_for_update(of=("self",)).get(pk=dossier_pk))
    if locked.status == DossierStatus.CORRECTION_REQUESTED:
        return _resubmit(locked, by, received_at)
    if locked.status != DossierStatus.DRAFT:
        raise AlreadySubmitted(_("Ce dossier a déjà été déposé (accusé de réception %(number)s).")
                                % {"number": locked.receipt_number})
    call = locked.call
    if call.is_closed:
        raise SubmissionRefused(call.closed_message or _("Cet appel à projets est clos."))
    wave = open_wave(call, received_at)
    if wave is None:
        raise SubmissionRefused(_("Aucune vague de l'appel n'est ouverte à la date de réception "
                                  "(%(instant)s).") % {"instant": _paris_text(received_at, call)})
    return _freeze(locked, by, received_at, wave, version=1, counted_at=received_at,
                   action=DossierAction.SUBMIT)


def _resubmit(locked: Dossier, by, received_at: dt.datetime) -> Submission:
    """A corrected dossier keeps its receipt number and wave, and gets a new version and hash.

    Its deadline is judged on the first receipt instant: the funder asked for the correction,
    so the applicant was on time; the correction's own deadline is checked instead."""
    request = CorrectionRequest.objects.filter(dossier=locked, answered_at__isnull=True)\
        .order_by("-requested_at").first()
    if request is not None and received_at > request.deadline:
        raise SubmissionRefused(_("Le délai de correction a expiré le %(deadline)s.")
                                % {"deadline": _paris_text(request.deadline, locked.call)})
    first = locked.submissions.order_by("version").first()
    last = locked.submissions.order_by("-version").first()
    submission = _freeze(locked, by, received_at, first.wave,
                         version=last.version + 1, counted_at=first.received_at,
                         action=DossierAction.RESUBMIT)
    if request is not None:
        request.answered_at = received_at
        request.save(update_fields=["answered_at"])
    return submission


def _freeze(dossier: Dossier, by, received_at: dt.datetime, wave, *, version: int,
            counted_at: dt.datetime, action: DossierAction) -> Submission:
    call = dossier.call
    draft = to_format(dossier)
    documents = list(Document.objects.filter(dossier=dossier).order_by("kind", "pk"))
    missing = missing_items(dossier, draft, documents)
    if missing:
        raise SubmissionRefused(_("Le dossier est incomplet ; à renseigner : %(missing)s.")
                                % {"missing": labels.missing_items(missing, call.rules())},
                                details=missing)
    hash_before = fmt.sha256_hex(fmt.canonical_json(draft))
    frozen = stamped(draft, received_at, counted_at, call.rules().zone)
    verdict = evaluate(frozen, call.rules())
    snapshot = frozen_submission(dossier, frozen, documents)
    submission = Submission.objects.create(
        dossier=dossier, version=version, received_at=received_at, wave=wave,
        submitted_by=by if getattr(by, "is_authenticated", False) else None,
        snapshot=snapshot.decode(), sha256=fmt.sha256_hex(snapshot),
        rules_version=verdict.rules_version, eligible=verdict.eligible,
        verdict=verdict.to_dict())
    apply_dossier_transition(
        dossier, action, wave=wave,
        receipt_number=dossier.receipt_number or receipt_number(call, wave, dossier),
        requested_aid=verdict.figures.aid, eligible_at_receipt=verdict.eligible,
        received_at=counted_at, search_text=search_document(dossier))
    _ask_for_receipt(dossier, version)
    # Last: the audit chain's head stays locked from here to the commit, and every submission
    # of the surge waits for it.
    append_event(AuditAction.DOSSIER_SUBMITTED, dossier, by=by, at=received_at,
                 hash_before=hash_before, hash_after=submission.sha256,
                 details={"version": version, "wave": wave.code, "eligible": verdict.eligible})
    return submission


def _ask_for_receipt(dossier: Dossier, version: int) -> None:
    """The receipt PDF and its mail leave the request: both are written to the outbox with the
    submission (in one insert), and made by a worker (or in-process right after the commit),
    with the call's webhooks for the submission."""
    event = WebhookEvent.DOSSIER_SUBMITTED if version == 1 else WebhookEvent.CORRECTION_ANSWERED
    enqueue_all([
        Job("receipt_pdf", {"dossier": dossier.pk, "version": version},
            key=f"receipt_pdf:{dossier.pk}:{version}"),
        notification_job(Kind.RECEIPT, key=f"receipt:{dossier.pk}:{version}",
                         dossier=dossier.pk, version=version),
        *jobs_for(dossier.call, event, {"dossier": dossier.pk, "version": version,
                                           "receipt_number": dossier.receipt_number}),
    ])


def missing_items(dossier: Dossier, draft: fmt.Dossier | None = None,
                  documents: list[Document] | None = None) -> list[str]:
    """What must still be filled in or attached before the dossier can be submitted."""
    draft = draft or to_format(dossier)
    if documents is None:
        documents = Document.objects.filter(dossier=dossier)
    present = {document.kind for document in documents}
    definition = dossier.call.rules()
    return (missing_fields(draft) + missing_documents(definition, present)
            + missing_answers(definition.sections, draft.answers or {}, present))


def receipt_number(call: Call, wave, dossier: Dossier) -> str:
    """E.g. DEFFINUM-W1-000042: unique because a dossier gets one receipt number for life."""
    return f"{call.code.upper()}-{wave.code.upper()}-{dossier.pk:06d}"


def _paris(instant: dt.datetime, call: Call) -> dt.datetime:
    return instant.astimezone(call.rules().zone)


def _paris_text(instant: dt.datetime, call: Call) -> str:
    return f"{_paris(instant, call):%d/%m/%Y à %H:%M:%S} ({_('heure de Paris')})"
