"""The staff's home, the list of a call's dossiers (and its exports) and a dossier's page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from guichet.backoffice import forms
from guichet.backoffice.selectors import (
    ListFilters,
    call_experts,
    call_instructors,
    call_labels,
    dossier_page_data,
    expert_assignments,
    instruction_list,
    keyset_page,
    saved_filters,
    staff_call,
    staff_calls,
    staff_dossier,
    submitted_sheet,
    wave_archives,
)
from guichet.backoffice.views.exports import FORMATS, export_response
from guichet.core import labels
from guichet.core.clock import now
from guichet.core.fields import parse_id
from guichet.core.http import form_action
from guichet.dossiers.documents import pdf_file_response
from guichet.dossiers.models import DossierStatus
from guichet.review.selectors import waiting_work

PAGE_SIZE = 50


@login_required
@require_GET
def home(request):
    return render(request, "backoffice/home.html", {
        "calls": staff_calls(request.user), "assignments": expert_assignments(request.user),
        "waiting": waiting_work(request.user, now())})


@login_required
@require_GET
def dossier_list(request, code):
    call = staff_call(request.user, code)
    filters = ListFilters.from_query(request.GET)
    queryset = instruction_list(call, filters)
    export = request.GET.get("export")
    if export in FORMATS:  # the list's former export links, kept working
        return export_response(request, call, export)
    page = keyset_page(queryset, filters.sort, after=parse_id(request.GET.get("apres")),
                       before=parse_id(request.GET.get("avant")), size=PAGE_SIZE)
    rules = call.rules()
    query = request.GET.copy()
    for cursor in ("apres", "avant"):
        query.pop(cursor, None)
    labels_of_call = call_labels(call)
    return render(request, "backoffice/dossier_list.html", {
        "call": call, "page": page, "filters": filters, "query": query.urlencode(),
        "call_labels": labels_of_call, "saved_filters": saved_filters(request.user, call),
        "bulk_form": forms.BulkForm(labels=labels_of_call, instructors=call_instructors(call)),
        "label_form": forms.LabelForm(), "can_label": request.user.has_perm("review.label", call),
        "waves": call.waves.all(), "statuses": DossierStatus.choices,
        "regions": labels.REGION_CHOICES,
        "sectors": labels.call_choices(rules, "sectors"), "scopes": labels.SCOPE_CHOICES,
        "archives": wave_archives(call)})


@login_required
@require_GET
def dossier_detail(request, pk):
    return dossier_page(request, staff_dossier(request.user, pk))


def dossier_action(request, dossier, form, slot: str, service):
    """An action of the dossier page: back to it, or the page with `form` (in `slot`) and its
    errors."""
    return form_action(request, form, service, reverse("backoffice:dossier", args=[dossier.pk]),
                       lambda bound: dossier_page(request, dossier, **{slot: bound}))


def dossier_page(request, dossier, **bound_forms):
    """The dossier's page, with every action's form: blank, or as posted with its errors
    (`bound_forms`, by context name) when an action was refused."""
    page_forms = {
        "instruction_form": forms.InstructionForm(),
        "correction_form": forms.CorrectionForm(),
        "message_form": forms.MessageForm(),
        "add_expert_form": forms.AddExpertForm(experts=call_experts(dossier.call)),
        "decision_form": forms.DecisionForm(),
        "revert_form": forms.RevertForm(),
        "annotation_form": forms.AnnotationForm(),
        **bound_forms,
    }
    return render(request, "backoffice/dossier_detail.html", {
        **page_forms, **dossier_page_data(dossier, request.user)})


@login_required
@require_GET
def dossier_full(request, pk):
    """The whole frozen dossier, read-only, for staff and for its experts free of conflict."""
    dossier = staff_dossier(request.user, pk)
    submission, sheet = submitted_sheet(dossier)
    if sheet is None:
        raise Http404
    return render(request, "backoffice/dossier_full.html", {
        "dossier": dossier, "submission": submission, "sheet": sheet,
        "assignment": expert_assignments(request.user).filter(dossier=dossier).first()})


@login_required
@require_GET
def staff_document(request, pk, document_pk):
    return _document_response(request, pk, document_pk, inline=False)


@login_required
@require_GET
def staff_document_preview(request, pk, document_pk):
    """The document shown inline, for the sandboxed preview frame of the dossier's pages."""
    return _document_response(request, pk, document_pk, inline=True)


def _document_response(request, pk, document_pk, *, inline: bool):
    dossier = staff_dossier(request.user, pk)
    document = get_object_or_404(dossier.documents, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf", inline=inline)
