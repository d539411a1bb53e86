"""The staff's home, the list of a call's dossiers (and its exports) and a dossier's page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from guichet.backoffice import forms
from guichet.backoffice.selectors import (
    ListFilters,
    call_experts,
    dossier_page_data,
    expert_assignments,
    instruction_list,
    keyset_page,
    staff_call,
    staff_calls,
    staff_dossier,
    wave_archives,
)
from guichet.backoffice.views.exports import FORMATS, export_response
from guichet.core import labels
from guichet.core.fields import parse_id
from guichet.core.http import form_action
from guichet.dossiers.documents import pdf_file_response
from guichet.dossiers.models import DossierStatus

PAGE_SIZE = 50


@login_required
@require_GET
def home(request):
    return render(request, "backoffice/home.html", {
        "calls": staff_calls(request.user), "assignments": expert_assignments(request.user)})


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
    return render(request, "backoffice/dossier_list.html", {
        "call": call, "page": page, "filters": filters, "query": query.urlencode(),
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
        **bound_forms,
    }
    return render(request, "backoffice/dossier_detail.html", {
        **page_forms, **dossier_page_data(dossier, request.user)})


@login_required
@require_GET
def staff_document(request, pk, document_pk):
    dossier = staff_dossier(request.user, pk)
    document = get_object_or_404(dossier.documents, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf")
