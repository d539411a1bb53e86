"""Editing a draft dossier: each change checks the permission, the draft state and the version
the editor started from, so that two people editing at once never overwrite each other."""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core import labels
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.text import require_single_line
from guichet.dossiers.format import content_hash, dossier_queryset
from guichet.dossiers.models import (
    ConsortiumMember,
    Dossier,
    DossierAnswers,
    ExpenseLine,
    FinancingLine,
    Milestone,
)
from guichet.dossiers.permissions import participant_members
from guichet.rules import dossier as fmt
from guichet.rules.sections import AnswerError, all_questions, clean_answers

PROJECT_FIELDS = ("title", "summary", "scope", "pooling_commitment", "start_date",
                  "duration_months", "sector", "keywords")
# Fields that hold on one line (they reach mail subjects, lists and PDFs), with their labels.
SINGLE_LINE_PROJECT_FIELDS = {"title": gettext_lazy("Titre du projet"),
                              "keywords": gettext_lazy("Mots-clés")}
LABEL = gettext_lazy("Libellé")


class EditRefused(ServiceError):
    code = "edit_refused"


class EditConflict(ServiceError):
    """Someone saved the same record since the editor opened it; `current` is what they saved."""

    code = "edit_conflict"

    def __init__(self, current: Model):
        super().__init__(_("Quelqu'un a modifié ces informations pendant que vous les saisissiez "
                           ": votre enregistrement est refusé. Voici la version enregistrée ; "
                           "reprenez votre modification à partir d'elle."))
        self.current = current


def require(user, permission: str, target) -> None:
    if not user.has_perm(permission, target):
        raise EditRefused(_("Vous ne pouvez pas faire cette modification sur ce dossier."))


def _save_versioned(model: type[Model], pk: int, version: int, changes: dict) -> int:
    """Write `changes` only if the record is still at `version`, and return its new version;
    otherwise refuse."""
    updated = model.objects.filter(pk=pk, version=version).update(
        version=F("version") + 1, **changes)
    if not updated:
        raise EditConflict(model.objects.get(pk=pk))
    return version + 1


def _recorded(action: AuditAction, dossier: Dossier, user, before: str,
              details: dict | None = None):
    fresh = dossier_queryset().get(pk=dossier.pk)
    Dossier.objects.filter(pk=dossier.pk).update(updated_at=server_now())
    append_event(action, dossier, by=user, hash_before=before, hash_after=content_hash(fresh),
                 details=details)


@transaction.atomic
def update_project(dossier: Dossier, user, version: int, changes: dict) -> int:
    """Save the project fields in `changes` (the others stay as they are); the new version."""
    require(user, "dossiers.edit_project", dossier)
    for name, label in SINGLE_LINE_PROJECT_FIELDS.items():
        require_single_line(changes.get(name) or "", field=name, label=str(label))
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    new_version = _save_versioned(Dossier, dossier.pk, version,
                                  {k: v for k, v in changes.items() if k in PROJECT_FIELDS})
    _recorded(AuditAction.DOSSIER_PROJECT_UPDATED, dossier, user, before,
              {"fields": sorted(changes)})
    return new_version


@transaction.atomic
def update_answers(dossier: Dossier, user, version: int, section_id: str, changes: dict) -> int:
    """Save the answers in `changes` to questions of the call's section `section_id` (None
    removes one; the others stay as they are; indicator targets are changed one by one); the
    new version of the dossier's answers."""
    require(user, "dossiers.edit_project", dossier)
    definition = dossier.call.rules()
    section = definition.section(section_id)
    asked = {question.id for question in section.questions} if section else set()
    if not set(changes) <= asked:
        raise EditRefused(_("Cette question n'est pas une question de cette section."))
    row, _created = DossierAnswers.objects.get_or_create(dossier=dossier)
    # A question the call's newer rules version no longer asks loses its answer.
    known = {question.id for question in all_questions(definition.sections)}
    merged = {key: value for key, value in row.values.items() if key in known}
    for key, value in changes.items():
        if isinstance(value, dict):  # indicator targets, by indicator (None removes one)
            value = {**merged.get(key, {}), **value}
        merged[key] = value
    try:
        values = clean_answers(definition.sections, merged,
                               [indicator.id for indicator in definition.indicators])
    except AnswerError as exc:
        field = exc.field.removeprefix("answers.")
        question = definition.question(re.split(r"[.\[]", field)[0])
        raise EditRefused(_("Réponse refusée à « %(question)s » : %(reason)s.")
                          % {"question": labels.of(question) if question else field,
                             "reason": exc.reason}, field=field) from None
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    new_version = _save_versioned(DossierAnswers, row.pk, version, {"values": values})
    _recorded(AuditAction.DOSSIER_HYBRID_PROFILE_UPDATED, dossier, user, before,
              {"section": section_id, "fields": sorted(changes)})
    return new_version


@dataclass(frozen=True)
class ExpenseInput:
    member: ConsortiumMember
    category: str
    label: str
    amount: Decimal
    eligible: bool


@transaction.atomic
def add_expense(dossier: Dossier, user, line: ExpenseInput) -> ExpenseLine:
    _check_line_owner(dossier, user, line.member)
    require_single_line(line.label, field="label", label=str(LABEL))
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    created = ExpenseLine.objects.create(
        dossier=dossier, member=line.member, category=line.category, label=line.label,
        amount=line.amount, eligible=line.eligible, position=_next_position(dossier.expenses))
    _recorded(AuditAction.DOSSIER_EXPENSE_ADDED, dossier, user, before, {"line": created.pk})
    return created


@transaction.atomic
def update_expense(line: ExpenseLine, user, version: int, new: ExpenseInput) -> None:
    require(user, "dossiers.edit_line", line)
    _check_line_owner(line.dossier, user, new.member)
    require_single_line(new.label, field="label", label=str(LABEL))
    before = content_hash(dossier_queryset().get(pk=line.dossier_id))
    _save_versioned(ExpenseLine, line.pk, version, {
        "member": new.member, "category": new.category, "label": new.label,
        "amount": new.amount, "eligible": new.eligible})
    _recorded(AuditAction.DOSSIER_EXPENSE_UPDATED, line.dossier, user, before, {"line": line.pk})


@transaction.atomic
def delete_line(line: ExpenseLine | FinancingLine | Milestone, user, version: int) -> None:
    dossier = line.dossier
    if isinstance(line, Milestone):
        require(user, "dossiers.edit_project", dossier)
    else:
        require(user, "dossiers.edit_line", line)
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    deleted, _rows = type(line).objects.filter(pk=line.pk, version=version).delete()
    if not deleted:
        current = type(line).objects.filter(pk=line.pk).first()
        if current is None:
            return  # already deleted by someone else: the wish is fulfilled
        raise EditConflict(current)
    _recorded(AuditAction.DOSSIER_LINE_DELETED, dossier, user, before,
              {"model": line._meta.model_name, "line": line.pk})


@dataclass(frozen=True)
class FinancingInput:
    source: str
    member: ConsortiumMember | None
    amount: Decimal


@transaction.atomic
def add_financing(dossier: Dossier, user, line: FinancingInput) -> FinancingLine:
    _check_financing(dossier, user, line)
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    created = FinancingLine.objects.create(
        dossier=dossier, source=line.source, member=line.member, amount=line.amount,
        position=_next_position(dossier.financing))
    _recorded(AuditAction.DOSSIER_FINANCING_ADDED, dossier, user, before, {"line": created.pk})
    return created


@transaction.atomic
def update_financing(line: FinancingLine, user, version: int, new: FinancingInput) -> None:
    if line.member_id:
        require(user, "dossiers.edit_line", line)
    else:
        require(user, "dossiers.edit_project", line.dossier)
    _check_financing(line.dossier, user, new)
    before = content_hash(dossier_queryset().get(pk=line.dossier_id))
    _save_versioned(FinancingLine, line.pk, version,
                    {"source": new.source, "member": new.member, "amount": new.amount})
    _recorded(AuditAction.DOSSIER_FINANCING_UPDATED, line.dossier, user, before, {"line": line.pk})


def _check_financing(dossier: Dossier, user, line: FinancingInput) -> None:
    """Members declare their own contributions; the lead declares every line."""
    if line.source in fmt.MEMBER_CONTRIBUTIONS and line.member is None:
        raise EditRefused(_("Un apport propre doit être rattaché à un membre."), field="member")
    if line.member is not None:
        _check_line_owner(dossier, user, line.member)
    else:
        require(user, "dossiers.edit_project", dossier)


def _check_line_owner(dossier: Dossier, user, member: ConsortiumMember) -> None:
    require(user, "dossiers.add_line", dossier)
    if member.consortium_id != dossier.consortium_id:
        raise EditRefused(_("Ce membre n'appartient pas au consortium."), field="member")
    is_lead = user.has_perm("dossiers.edit_project", dossier)
    if not is_lead and not participant_members(user, dossier).filter(pk=member.pk).exists():
        raise EditRefused(_("Un membre ne peut saisir que ses propres lignes."), field="member")


@transaction.atomic
def add_milestone(dossier: Dossier, user, month: int, kind: str, label: str) -> Milestone:
    require(user, "dossiers.edit_project", dossier)
    require_single_line(label, field="label", label=str(LABEL))
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    created = Milestone.objects.create(dossier=dossier, month=month, kind=kind, label=label,
                                       position=_next_position(dossier.milestones))
    _recorded(AuditAction.DOSSIER_MILESTONE_ADDED, dossier, user, before, {"line": created.pk})
    return created


def _next_position(related) -> int:
    last = related.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1
