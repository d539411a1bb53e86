"""The workbench's actions: bulk actions on the checked dossiers, saved filters, labels,
private annotations and follows."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import (
    call_instructors,
    call_labels,
    staff_call,
    staff_dossier,
)
from guichet.backoffice.views.dossiers import dossier_action
from guichet.core.errors import ServiceError
from guichet.review import workbench
from guichet.review.models import SavedFilter


def _back_to_list(request, call):
    """The list as it was (its query string comes back in the posted `next`)."""
    query = request.POST.get("next", "").replace("\x00", "")[:1000]
    url = reverse("backoffice:dossiers", args=[call.code])
    return redirect(f"{url}?{query}" if query else url)


def _refusal(form) -> str:
    """A refused form in one sentence naming each field."""
    return " ".join(f"{form.fields[name].label if name in form.fields else ''} : {' '.join(errors)}"
                    .lstrip(" :") for name, errors in form.errors.items())


def _run(request, form, service, done: str) -> None:
    """`service()` for a valid form, and a message saying what happened."""
    if not form.is_valid():
        messages.error(request, _refusal(form))
        return
    try:
        outcome = service()
    except ServiceError as refused:
        messages.error(request, refused.message)
        return
    messages.success(request, done(outcome) if callable(done) else done)


@login_required
@require_POST
def bulk(request, code):
    call = staff_call(request.user, code)
    form = forms.BulkForm(request.POST, labels=call_labels(call),
                          instructors=call_instructors(call))
    _run(request, form, lambda: workbench.bulk_apply(
        call, request.user, form.cleaned_data["ids"], form.cleaned_data["action"],
        **form.params()),
        lambda count: ngettext("%(n)d dossier modifié.", "%(n)d dossiers modifiés.", count)
        % {"n": count})
    return _back_to_list(request, call)


@login_required
@require_POST
def export_checked(request, code):
    """The checked dossiers, exported: sent on to the list's export restricted to them (a
    plain GET address, fetched as the list's other exports)."""
    call = staff_call(request.user, code)
    form = forms.ExportCheckedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _refusal(form))
        return _back_to_list(request, call)
    query = urlencode({"format": form.cleaned_data["format"], "separator": "semicolon",
                       "ids": form.cleaned_data["ids"]}, doseq=True)
    return redirect(f"{reverse('backoffice:dossier-export', args=[call.code])}?{query}")


@login_required
@require_POST
def save_filter(request, code):
    call = staff_call(request.user, code)
    form = forms.SavedFilterForm(request.POST)
    _run(request, form, lambda: workbench.save_filter(
        call, request.user, form.cleaned_data["name"], form.cleaned_data["query"]),
        _("Filtre enregistré."))
    return _back_to_list(request, call)


@login_required
@require_POST
def delete_filter(request, code, filter_pk):
    call = staff_call(request.user, code)
    saved = get_object_or_404(SavedFilter, pk=filter_pk, call=call, user=request.user)
    workbench.delete_filter(saved, request.user)
    messages.success(request, _("Filtre supprimé."))
    return _back_to_list(request, call)


@login_required
@require_POST
def create_label(request, code):
    call = staff_call(request.user, code)
    form = forms.LabelForm(request.POST)
    _run(request, form, lambda: workbench.create_label(
        call, request.user, form.cleaned_data["name"], form.cleaned_data["colour"]),
        _("Étiquette créée."))
    return _back_to_list(request, call)


@login_required
@require_POST
def label_dossier(request, pk):
    """One label put on the dossier or taken off, from the dossier's page."""
    dossier = staff_dossier(request.user, pk, "review.label")
    form = forms.DossierLabelForm(request.POST, labels=call_labels(dossier.call))
    _run(request, form, lambda: workbench.set_label(
        dossier, request.user, form.cleaned_data["label"],
        present=form.cleaned_data["present"]), _("Étiquettes du dossier mises à jour."))
    return redirect("backoffice:dossier", dossier.pk)


@login_required
@require_POST
def annotate(request, pk):
    dossier = staff_dossier(request.user, pk, "review.annotate")
    return dossier_action(request, dossier, forms.AnnotationForm(request.POST),
                          "annotation_form", lambda data: workbench.annotate(
                              dossier, request.user, data["kind"], data["body"]))


@login_required
@require_POST
def follow(request, pk):
    dossier = staff_dossier(request.user, pk, "review.follow")
    workbench.follow(dossier, request.user, following=request.POST.get("suivre") == "oui")
    return redirect("backoffice:dossier", dossier.pk)
