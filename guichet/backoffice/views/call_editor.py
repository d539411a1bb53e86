"""The call editor: the calls an administrator may copy or change and their drafts; a draft's
page, with one form per part of the definition and one URL per change; its preview as the
applicant's form; publishing it; the versions published; the definition as TOML."""

import re
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.backoffice import editor_forms as forms
from guichet.backoffice.editor_selectors import (
    call_versions,
    draft_change_rows,
    editable_call,
    editable_calls,
    editable_draft,
    open_drafts,
    preview_sections,
)
from guichet.calls import editor
from guichet.calls.editor import Edit, add_item, remove_item, set_values
from guichet.core.http import download, run_service_and_confirm
from guichet.review.staff import publish_call_draft
from guichet.web.steps import STEPS_AFTER_SECTIONS, STEPS_BEFORE_SECTIONS

TOML = "application/toml; charset=utf-8"
QUESTION_TYPES = dict(forms.QUESTION_TYPES)


@login_required
@require_GET
def editor_home(request):
    if not request.user.has_perm("calls.open_editor"):
        raise PermissionDenied(_("Cette page est réservée aux administrateurs d'un appel."))
    return render(request, "backoffice/call_editor.html", {
        "calls": editable_calls(request.user), "drafts": open_drafts(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def copy_call(request, code):
    call = editable_call(request.user, code)
    if request.method == "GET":
        form = forms.CopyForm(initial={"name": call.name, "name_en": call.name_en})
        return render(request, "backoffice/call_copy.html", {"call": call, "form": form})
    form = forms.CopyForm(request.POST)
    made = {}

    def copy():
        made["draft"] = editor.open_copy(call, request.user, **form.cleaned_data)

    if form.is_valid() and run_service_and_confirm(request, form, copy,
                                                   _("Copie créée : c'est un brouillon.")):
        return redirect("backoffice:call-draft", pk=made["draft"].pk)
    return render(request, "backoffice/call_copy.html", {"call": call, "form": form})


@login_required
@require_POST
def revise_call(request, code):
    call = editable_call(request.user, code)
    return redirect("backoffice:call-draft", pk=editor.open_revision(call, request.user).pk)


@login_required
@require_GET
def versions(request, code):
    call = editable_call(request.user, code)
    return render(request, "backoffice/call_versions.html",
                  {"call": call, "versions": call_versions(call)})


@login_required
@require_GET
def export_definition(request, code):
    call = editable_call(request.user, code)
    # A rules version is free text (quotes, accents): the file's name keeps its safe letters.
    version = re.sub(r"[^A-Za-z0-9._-]+", "_", call.rules_version)
    return download(editor.export_toml(call).encode("utf-8"), TOML,
                    f"{call.code}-{version}.toml")


# --- a draft ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A change a draft's page offers: its form, and the edit its values make (given the item
    and sub-item named in the URL)."""

    form: type
    anchor: str  # the part of the page to go back to
    edit: object  # (form, item, sub) -> Edit


PARTS = {
    "general": Part(forms.GeneralForm, "generalites",
                    lambda f, i, s: set_values("", f.values())),
    "programme": Part(forms.ProgrammeForm, "programme",
                      lambda f, i, s: set_values("programme", f.values())),
    "eligibilite": Part(forms.EligibilityForm, "eligibilite",
                        lambda f, i, s: set_values("eligibility", f.values())),
    "vague": Part(forms.WaveForm, "vagues",
                  lambda f, i, s: set_values(f"waves[{i}]", f.values())),
    "vague-ajout": Part(forms.NewWaveForm, "vagues",
                        lambda f, i, s: add_item("waves", f.values())),
    "vague-retrait": Part(forms.DraftForm, "vagues", lambda f, i, s: remove_item("waves", i)),
    "critere": Part(forms.CriterionForm, "criteres",
                    lambda f, i, s: set_values(f"selection.criteria[{i}]", f.values())),
    "critere-ajout": Part(forms.NewCriterionForm, "criteres",
                          lambda f, i, s: add_item("selection.criteria", f.values())),
    "critere-retrait": Part(forms.DraftForm, "criteres",
                            lambda f, i, s: remove_item("selection.criteria", i)),
    "piece": Part(forms.DocumentForm, "pieces",
                  lambda f, i, s: set_values(f"documents[{i}]", f.values())),
    "piece-ajout": Part(forms.NewDocumentForm, "pieces",
                        lambda f, i, s: add_item("documents", f.values())),
    "piece-retrait": Part(forms.DraftForm, "pieces",
                          lambda f, i, s: remove_item("documents", i)),
    "question-ajout": Part(forms.QuestionForm, "sections",
                           lambda f, i, s: add_item(f"sections[{i}].questions", f.item())),
    "question-retrait": Part(forms.DraftForm, "sections",
                             lambda f, i, s: remove_item(f"sections[{i}].questions", s)),
    "section-ajout": Part(forms.SectionForm, "sections", lambda f, i, s: _new_section(f)),
    "section-retrait": Part(forms.DraftForm, "sections",
                            lambda f, i, s: remove_item("sections", i)),
}


def _new_section(form) -> Edit:
    section = form.section()
    place = f"sections[{section['id']}]"
    return add_item("sections", section, fields=(
        (f"{place}.questions[{section['questions'][0]['id']}]", ""), (place, "section_")))


def _forms(draft, bound=None, bound_key=""):
    """Every form of the draft's page, filled from the draft; `bound` (with its errors) in
    place of the one of `bound_key`."""
    definition = draft.definition
    version = {"version": draft.version}
    shown = set()

    def made(key, form_class, initial=None):
        shown.add(key)
        if key == bound_key and bound is not None:
            return bound
        return form_class(initial={**(initial or {}), **version},
                          prefix=key.replace(":", "-") or None)

    programme = definition["programme"]
    forms_of_page = {
        "general": made("general", forms.GeneralForm, definition),
        "programme": made("programme", forms.ProgrammeForm, programme),
        "eligibility": made("eligibilite", forms.EligibilityForm, definition["eligibility"]),
        "waves": [(wave, made(f"vague:{wave['id']}", forms.WaveForm,
                              forms.WaveForm.initial_of(wave)))
                  for wave in definition["waves"]],
        "new_wave": made("vague-ajout", forms.NewWaveForm),
        "criteria": [(criterion, made(f"critere:{criterion['id']}", forms.CriterionForm,
                                      criterion))
                     for criterion in definition["selection"]["criteria"]],
        "new_criterion": made("critere-ajout", forms.NewCriterionForm),
        "documents": [(document, made(f"piece:{document['id']}", forms.DocumentForm, document))
                      for document in definition["documents"]],
        "new_document": made("piece-ajout", forms.NewDocumentForm),
        "sections": [(section, [(question, QUESTION_TYPES[question["type"]])
                                for question in section["questions"]],
                      made(f"question-ajout:{section['id']}", forms.QuestionForm))
                     for section in definition["sections"]],
        "new_section": made("section-ajout", forms.SectionForm),
    }
    # A refused change whose form is not on the page (a removal, an item gone meanwhile):
    # its errors are said at the top of the page.
    orphan = bound is not None and bound_key not in shown
    forms_of_page["errors"] = [error for errors in bound.errors.values() for error in errors] \
        if orphan else []
    return forms_of_page


def _draft_page(request, draft, bound=None, bound_key=""):
    return render(request, "backoffice/call_draft.html", {
        "draft": draft, "definition": draft.definition, "version": draft.version,
        "forms": _forms(draft, bound, bound_key),
        "changes": draft_change_rows(draft), "published": draft.is_published})


@login_required
@require_GET
def draft_page(request, pk):
    return _draft_page(request, editable_draft(request.user, pk))


@login_required
@require_POST
def edit_draft(request, pk, part, item="", sub=""):
    draft = editable_draft(request.user, pk)
    if part not in PARTS:
        raise Http404
    key = f"{part}:{item}" if item and PARTS[part].form is not forms.DraftForm else part
    form = PARTS[part].form(request.POST, prefix=key.replace(":", "-") or None)

    def change():
        editor.edit_draft(draft, request.user, PARTS[part].edit(form, item, sub),
                          version=form.cleaned_data["version"])

    if form.is_valid() and run_service_and_confirm(request, form, change,
                                                   _("Brouillon enregistré.")):
        return redirect(f"{reverse('backoffice:call-draft', args=[draft.pk])}"
                        f"#{PARTS[part].anchor}")
    draft.refresh_from_db()
    return _draft_page(request, draft, form, key)


@login_required
@require_POST
def discard(request, pk):
    draft = editable_draft(request.user, pk)
    form = forms.DraftForm(request.POST, prefix="abandon")

    def discard_it():
        editor.discard_draft(draft, request.user, version=form.cleaned_data["version"])

    if form.is_valid() and run_service_and_confirm(request, form, discard_it,
                                                   _("Brouillon abandonné.")):
        return redirect("backoffice:call-editor")
    draft.refresh_from_db()
    return _draft_page(request, draft, form, "abandon")


@login_required
@require_GET
def preview(request, pk):
    draft = editable_draft(request.user, pk)
    definition = editor.draft_definition(draft)
    return render(request, "backoffice/call_preview.html", {
        "draft": draft, "rules": definition,
        "sections": preview_sections(definition, QUESTION_TYPES),
        "before": [label for _step, label in STEPS_BEFORE_SECTIONS],
        "after": [label for _step, label in STEPS_AFTER_SECTIONS]})


@login_required
@require_http_methods(["GET", "POST"])
def publish(request, pk):
    draft = editable_draft(request.user, pk)
    if request.method == "GET":
        form = forms.PublishForm(initial={"version": draft.version})
        return _publish_page(request, draft, form)
    form = forms.PublishForm(request.POST)
    done = {}

    def publish_it():
        done["published"] = publish_call_draft(draft, request.user,
                                               form.cleaned_data["rules_version"],
                                               version=form.cleaned_data["version"])

    if form.is_valid() and run_service_and_confirm(
            request, form, publish_it, _("Version %(version)s publiée.")
            % {"version": form.cleaned_data["rules_version"]}):
        return redirect("backoffice:call-versions", code=done["published"].call.code)
    draft.refresh_from_db()
    return _publish_page(request, draft, form)


def _publish_page(request, draft, form):
    return render(request, "backoffice/call_publish.html", {
        "draft": draft, "form": form, "changes": draft_change_rows(draft),
        "published_versions": (draft.call.versions.order_by("-loaded_at")
                               .values_list("rules_version", flat=True)
                               if draft.call else [])})
