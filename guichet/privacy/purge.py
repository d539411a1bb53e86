"""The erasure of personal data whose retention has ended (`guichet purge`).

For each dossier past the end its call declares (rules.retention), names, addresses and free
texts go: the project's texts, the labels of its lines, messages, annotations, comments and
motivations of the review, report narratives, the documents and generated PDFs (files
included), the invitations and the link between people and the consortium, the
notifications and outbox rows about it, and the personal parts of its audit events. What stays
is what the funder must keep and publish: amounts, SIRETs and names of the member
organisations (legal entities), statuses and dates, the decision, the receipt number and the
hashes (the frozen submission is kept with its texts erased, so the receipt's hash still names
what was received), and the audit chain, which still verifies.

Then the applicant accounts that take part in no dossier any more and have not signed in for
ACCOUNT_RETENTION_YEARS are anonymised: their address, names, password, sign-in methods,
tokens, affiliations and notifications go; the account row stays, so that the audit log's
actor ids still point somewhere.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from guichet.accounts.models import ApiToken, User
from guichet.audit.models import AuditEvent, AuditPersonal
from guichet.audit.services import canonical, erase_personal_parts
from guichet.calls.models import Call, Wave
from guichet.core.clock import PARIS
from guichet.core.clock import now as server_now
from guichet.dossiers.models import (
    Affiliation,
    Consortium,
    Document,
    Dossier,
    DossierAnswers,
    Invitation,
    Participant,
    Submission,
    WaveArchive,
)
from guichet.dossiers.receipt_store import receipt_folder
from guichet.dossiers.search import search_document
from guichet.grants.models import (
    Amendment,
    Decision,
    DecisionStatus,
    Grant,
    GrantStatus,
    Payment,
    Report,
)
from guichet.notifications.models import Notification, OutboxMessage
from guichet.review.models import (
    Annotation,
    Assignment,
    CallRole,
    Conflict,
    Instruction,
    Message,
    SavedFilter,
    Score,
)
from guichet.rules.retention import DossierDates, add_years, erasure_due
from guichet.rules.sections import all_questions

ERASED = "—"  # what an erased text that may not be empty reads


@dataclass
class PurgeReport:
    dossiers: list[str] = field(default_factory=list)  # receipt numbers (or ids of drafts)
    accounts: int = 0
    files: int = 0
    audit_parts: int = 0


def with_retention_dates(dossiers):
    """`dossiers` with what their retention counts from, read in the same query: the grant's
    status, the last payment, the last published decision, the close of their wave (or of
    their call's last wave, for a draft never submitted)."""
    def latest(model, field, **filters):
        return Subquery(model.objects.filter(**filters).order_by(f"-{field}")
                        .values(field)[:1])

    return dossiers.annotate(
        grant_status=latest(Grant, "status", dossier=OuterRef("pk")),
        last_payment_on=latest(Payment, "paid_on", tranche__grant__dossier=OuterRef("pk")),
        decided_at=latest(Decision, "published_at", dossier=OuterRef("pk"),
                          status=DecisionStatus.PUBLISHED),
        calls_last_close=latest(Wave, "closes_at", call=OuterRef("call")))


def dossier_dates(dossier: Dossier) -> DossierDates:
    """The dates the retention of `dossier` (read through with_retention_dates) counts from."""
    closes = dossier.wave.closes_at if dossier.wave else dossier.calls_last_close
    return DossierDates(
        grant_open=dossier.grant_status not in (None, GrantStatus.CLOSED),
        last_payment_on=dossier.last_payment_on, decided_on=_paris_day(dossier.decided_at),
        closed_on=_paris_day(closes))


def _paris_day(instant: dt.datetime | None) -> dt.date | None:
    return None if instant is None else instant.astimezone(PARIS).date()


def expired_dossiers(today: dt.date) -> list[Dossier]:
    """The dossiers not yet erased whose retention ended on or before `today`."""
    candidates = with_retention_dates(Dossier.objects.filter(
        personal_data_erased_at__isnull=True).select_related("wave"))
    policies = {call.pk: call.rules().retention for call in Call.objects.all()}
    return [dossier for dossier in candidates.iterator(chunk_size=500)
            if erasure_due(dossier_dates(dossier), policies[dossier.call_id], today)]


def purge(today: dt.date | None = None, *, dry_run: bool = False) -> PurgeReport:
    """Erase what has expired by `today` (Paris); with `dry_run`, only say what would go."""
    today = today or server_now().astimezone(PARIS).date()
    report = PurgeReport()
    for dossier in expired_dossiers(today):
        report.dossiers.append(dossier.receipt_number or f"#{dossier.pk}")
        if not dry_run:
            erase_dossier(dossier, report)
    for user in dormant_accounts(today):
        report.accounts += 1
        if not dry_run:
            anonymise_account(user, report)
    return report


# --- one dossier -------------------------------------------------------------------------------

@transaction.atomic
def erase_dossier(dossier: Dossier, report: PurgeReport) -> None:
    """Erase the personal data of one dossier (see the module's docstring for what stays)."""
    locked = Dossier.objects.select_for_update().select_related("consortium").get(pk=dossier.pk)
    subjects = _subjects(locked)
    _erase_texts(locked)
    # Files go inside the transaction: should it roll back, the dossier stays due and the next
    # run finishes the work (those files were to go anyway).
    report.files += _erase_files(locked)
    if not Dossier.objects.filter(consortium=locked.consortium_id,
                                  personal_data_erased_at__isnull=True).exclude(
                                      pk=locked.pk).exists():
        _erase_consortium(locked.consortium)
    _erase_messages_about(locked, subjects)
    report.audit_parts += erase_personal_parts(AuditEvent.objects.filter(
        object_type=Dossier._meta.label_lower, object_id=str(locked.pk)))
    locked.title, locked.summary, locked.keywords = ERASED, "", ""
    locked.search_text = search_document(locked)
    locked.personal_data_erased_at = server_now()
    locked.save(update_fields=["title", "summary", "keywords", "search_text",
                               "personal_data_erased_at"])


def _erase_consortium(consortium: Consortium) -> None:
    """Who takes part and who was invited: once none of its dossiers is kept any more (a
    consortium may apply to several calls, whose dossiers expire apart)."""
    Participant.objects.filter(member__consortium=consortium).delete()
    Invitation.objects.filter(consortium=consortium).delete()
    Consortium.objects.filter(pk=consortium.pk).update(name="")


def _subjects(dossier: Dossier) -> dict[str, set[int]]:
    """What an outbox row may name that belongs to the dossier (payload key -> ids)."""
    grants = Grant.objects.filter(dossier=dossier)
    return {
        "dossier": {dossier.pk},
        "grant": set(grants.values_list("pk", flat=True)),
        "payment": set(Payment.objects.filter(tranche__grant__in=grants)
                       .values_list("pk", flat=True)),
        "report": set(Report.objects.filter(grant__in=grants).values_list("pk", flat=True)),
        "decision": set(Decision.objects.filter(dossier=dossier).values_list("pk", flat=True)),
        "assignment": set(Assignment.objects.filter(dossier=dossier)
                          .values_list("pk", flat=True)),
        "invitation": set(Invitation.objects.filter(consortium=dossier.consortium)
                          .values_list("pk", flat=True)),
    }


def _erase_texts(dossier: Dossier) -> None:
    texts = free_text_answers(dossier.call.rules())
    for row in DossierAnswers.objects.filter(dossier=dossier):
        row.values = erased_answers(row.values, texts)
        row.save(update_fields=["values"])
    dossier.milestones.update(label="")
    dossier.expenses.update(label="")
    dossier.correction_requests.update(points="")
    Instruction.objects.filter(dossier=dossier).update(motivation="")
    Score.objects.filter(assignment__dossier=dossier).update(comment="")
    Conflict.objects.filter(dossier=dossier).update(reason="")
    Message.objects.filter(dossier=dossier).delete()
    Annotation.objects.filter(dossier=dossier).delete()
    Report.objects.filter(grant__dossier=dossier).update(narrative="", review_comment="")
    Payment.objects.filter(tranche__grant__dossier=dossier).update(reason="")
    for amendment in Amendment.objects.filter(grant__dossier=dossier):
        amendment.reason = ""
        amendment.document = erased_dossier_format(amendment.document, texts)
        amendment.save(update_fields=["reason", "document"])
    for submission in Submission.objects.filter(dossier=dossier):
        submission.snapshot = erased_snapshot(submission.snapshot, texts)
        submission.save(update_fields=["snapshot"])


def free_text_answers(definition) -> dict[str, set[str] | None]:
    """The call's questions whose answers hold free text: a text question (None), or a table
    with the ids of its text columns."""
    texts = {}
    for question in all_questions(definition.sections):
        if question.type == "text":
            texts[question.id] = None
        elif question.type == "table":
            texts[question.id] = {c.id for c in question.columns if c.type == "text"}
    return texts


def erased_answers(answers: dict, texts: dict[str, set[str] | None]) -> dict:
    """The answers without their free texts (numbers, choices and targets stay)."""
    erased = dict(answers)
    for question_id, columns in texts.items():
        if question_id not in erased:
            continue
        erased[question_id] = "" if columns is None else [
            {key: (ERASED if key in columns else cell) for key, cell in row.items()}
            for row in erased[question_id]]
    return erased


def erased_dossier_format(document: dict, texts: dict[str, set[str] | None]) -> dict:
    """A `guichet.dossier/1` document without its free texts (the members' organisations,
    amounts and dates stay)."""
    erased = dict(document, title=ERASED, summary="")
    erased["milestones"] = [dict(line, label=ERASED) for line in document.get("milestones", [])]
    erased["expenses"] = [dict(line, label=ERASED) for line in document.get("expenses", [])]
    if "answers" in document:
        erased["answers"] = erased_answers(document["answers"], texts)
    return erased


def erased_snapshot(snapshot: str, texts: dict[str, set[str] | None]) -> str:
    """A frozen submission without its free texts, in the same canonical form."""
    envelope = json.loads(snapshot)
    envelope["dossier"] = erased_dossier_format(envelope["dossier"], texts)
    if "classification" in envelope:
        envelope["classification"] = dict(envelope["classification"], keywords="")
    if envelope.get("hybrid_profile"):  # frozen before the call's questions were data
        envelope["hybrid_profile"] = erased_answers(envelope["hybrid_profile"], texts)
    envelope["documents"] = [dict(entry, name=ERASED) for entry in envelope.get("documents", [])]
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _erase_files(dossier: Dossier) -> int:
    """Delete the dossier's documents, receipts, signed agreement and the archives of its wave
    (a document's file stays while another dossier's document has the same content)."""
    deleted = 0
    for document in Document.objects.filter(dossier=dossier):
        shared = Document.objects.filter(file=document.file.name).exclude(pk=document.pk)
        if document.file and not shared.exists():
            deleted += _delete_file(document.file.name)
        document.delete()
    folder = receipt_folder(dossier.pk)
    if default_storage.exists(folder):
        _folders, names = default_storage.listdir(folder)
        deleted += sum(_delete_file(f"{folder}/{name}") for name in names)
    for grant in Grant.objects.filter(dossier=dossier).exclude(signed_file=""):
        deleted += _delete_file(grant.signed_file.name)
        grant.signed_file = ""
        grant.save(update_fields=["signed_file"])
    if dossier.wave_id:
        for archive in WaveArchive.objects.filter(wave_id=dossier.wave_id):
            if archive.file:
                deleted += _delete_file(archive.file.name)
            archive.delete()
    return deleted


def _delete_file(name: str) -> int:
    if not default_storage.exists(name):
        return 0
    default_storage.delete(name)
    return 1


def _erase_messages_about(dossier: Dossier, subjects: dict[str, set[int]]) -> None:
    """The outbox rows and in-app notifications about the dossier (addresses, titles). A row
    names its subject by a key of its payload, or of the payload's context."""
    about = Q()
    for key, ids in subjects.items():
        if ids:
            about |= Q(**{f"payload__{key}__in": ids}) | Q(
                **{f"payload__context__{key}__in": ids})
    OutboxMessage.objects.filter(about).delete()
    paths = [f"/dossiers/{dossier.pk}/", f"/instruction/dossiers/{dossier.pk}/"]
    paths += [f"/instruction/subventions/{pk}/" for pk in subjects["grant"]]
    Notification.objects.filter(
        Q(*[Q(link__startswith=path) for path in paths], _connector=Q.OR)).delete()


# --- accounts ----------------------------------------------------------------------------------

def dormant_accounts(today: dt.date):
    """Applicant accounts (no staff role, not an operator) that take part in no dossier and
    have not signed in since ACCOUNT_RETENTION_YEARS before `today`."""
    limit = add_years(today, -settings.ACCOUNT_RETENTION_YEARS)
    staff = CallRole.objects.values("user_id")
    return User.objects.filter(is_active=True, is_staff=False, is_superuser=False)\
        .exclude(pk__in=staff).exclude(participations__isnull=False)\
        .filter(Q(last_login__date__lt=limit) | Q(last_login__isnull=True,
                                                   date_joined__date__lt=limit))


@transaction.atomic
def anonymise_account(user: User, report: PurgeReport) -> None:
    address = user.email
    invited = Invitation.objects.filter(email__iexact=address)
    for model in (EmailAddress, SocialAccount, Authenticator, ApiToken, Affiliation,
                  Notification, SavedFilter):
        model.objects.filter(**{_user_field(model): user}).delete()
    invited.delete()
    report.audit_parts += erase_personal_parts(AuditEvent.objects.filter(
        pk__in=AuditPersonal.objects.filter(details__icontains=canonical(address)[1:-1])
        .values("event_id")))
    user.email = f"anonyme-{user.pk}@anonyme.invalid"
    user.first_name = user.last_name = ""
    user.password = make_password(None)
    user.is_active = False
    user.save(update_fields=["email", "first_name", "last_name", "password", "is_active"])


def _user_field(model) -> str:
    """The name of the model's foreign key to the account."""
    return next(field.name for field in model._meta.concrete_fields
                if field.is_relation and field.related_model is User)
