"""What the call editor's pages show: the calls a person may copy or change, their drafts,
their published versions, each difference in words. A call or draft is found only among those
of the calls the person serves (404 otherwise: its existence is not revealed); serving the call
in another role than administrator is a 403 that says who may open the page."""

import datetime as dt
from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from guichet.backoffice.selectors import refuse_page
from guichet.calls.editor import EDIT_PERMISSION, draft_changes
from guichet.calls.models import Call, CallDefinitionVersion, CallDraft

ADMINISTRATOR = "administrator"


def _served(user):
    return Call.objects.all() if user.is_superuser else \
        Call.objects.filter(roles__user=user).distinct()


def editable_calls(user):
    """The calls a person may copy and change: those they administer (every call for a
    superuser)."""
    calls = Call.objects.all() if user.is_superuser else \
        Call.objects.filter(roles__user=user, roles__role=ADMINISTRATOR).distinct()
    return calls.select_related("programme").order_by("code")


def editable_call(user, code: str) -> Call:
    call = get_object_or_404(_served(user), code=code)
    if not user.has_perm(EDIT_PERMISSION, call):
        raise refuse_page(EDIT_PERMISSION)
    return call


def editable_draft(user, pk: int) -> CallDraft:
    draft = get_object_or_404(CallDraft.objects.select_related("based_on", "call", "created_by")
                              .filter(based_on__in=_served(user)), pk=pk)
    if not user.has_perm(EDIT_PERMISSION, draft.based_on):
        raise refuse_page(EDIT_PERMISSION)
    return draft


def open_drafts(user):
    """The drafts being written on the calls a person may change, the latest first."""
    return CallDraft.objects.filter(published_at=None, based_on__in=editable_calls(user))\
        .select_related("based_on", "created_by")


@dataclass(frozen=True)
class ChangeRow:
    path: str  # the definition's own names, shown as such (marked for programs' names)
    before: str
    after: str


def shown(value) -> str:
    """A value of a definition in a few words: an item by its label (or name), a list joined,
    yes or no, "—" for what is absent."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, dict):
        label = value.get("label") or value.get("name") or ""
        return f"{label} ({value['id']})" if "id" in value else \
            ", ".join(f"{key} = {shown(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value) or "—"
    return str(value)


def change_rows(diff) -> list[ChangeRow]:
    return [ChangeRow(path, shown(before), shown(after)) for path, before, after in diff]


def draft_change_rows(draft: CallDraft) -> list[ChangeRow]:
    return change_rows(draft_changes(draft))


@dataclass(frozen=True)
class VersionRow:
    version: CallDefinitionVersion
    loaded_at: dt.datetime
    changes: list[ChangeRow]
    current: bool
    copied_from: str  # the first version of a copy is compared with the call it copies


def call_versions(call: Call) -> list[VersionRow]:
    """Every published version of the call, the latest first, with what it changed."""
    versions = call.versions.select_related("published_by").order_by("-loaded_at", "-pk")
    copies = dict(call.drafts.exclude(based_on=call).exclude(published_at=None)
                  .values_list("published_version", "based_on__name"))
    return [VersionRow(version, version.loaded_at, change_rows(version.diff),
                       version.rules_version == call.rules_version,
                       copies.get(version.rules_version, ""))
            for version in versions]


@dataclass(frozen=True)
class PreviewQuestion:
    question: object  # rules.sections.Question
    type_label: str
    condition: str  # "" when always asked


def preview_sections(definition, type_labels: dict) -> list[tuple[object, list[PreviewQuestion]]]:
    """The call's own sections as the applicant meets them: each question with its type in
    words and, when it is asked only after some answer, which."""
    questions = {question.id: question for section in definition.sections
                 for question in section.questions}
    return [(section, [PreviewQuestion(question, type_labels[question.type],
                                       _condition(question, questions))
                       for question in section.questions])
            for section in definition.sections]


def _condition(question, questions: dict) -> str:
    if question.when is None:
        return ""
    asked = questions[question.when.question]
    labels = {choice.id: choice.label for choice in asked.choices}
    return _("Posée seulement si « %(question)s » a pour réponse : %(answers)s.") % {
        "question": asked.label,
        "answers": ", ".join(f"« {labels[value]} »" for value in question.when.equals)}
