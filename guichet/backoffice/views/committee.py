"""The committee's page of a wave: the ranking, the funding-line simulation and the
publication of decisions; once every ranked dossier is decided, the ranking and the last
simulation stay, read-only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import committee_page_data, publication_preview, staff_call
from guichet.core.errors import ServiceError
from guichet.core.http import run_service
from guichet.grants import decisions
from guichet.review import committee
from guichet.rules.whatif import thresholds_of


def _wave(request, code, wave_code, permission="review.select"):
    call = staff_call(request.user, code, permission)
    return call, get_object_or_404(call.waves, code=wave_code)


@login_required
@require_GET
def committee_page(request, code, wave_code):
    call, wave = _wave(request, code, wave_code)
    return _page(request, call, wave)


def _page(request, call, wave, data=None, posted=None):
    """The page, with the simulation form as posted (`posted`), or showing the options of the
    wave's last run."""
    data = data or committee_page_data(wave, request.user)
    form = posted or _simulation_form(call, data["last_run"], data["undecided"])
    return render(request, "backoffice/committee.html", {
        **data, "call": call, "wave": wave, "form": form if data["undecided"] else None})


def _form_options(call, undecided) -> dict:
    return {"groups": forms.selection_groups(call.rules()), "dossiers": {
        row.dossier.receipt_number: row.dossier.pk for row in undecided
        if row.aggregate.mean is not None}}


def _simulation_form(call, run, undecided) -> forms.SimulationForm:
    options = _form_options(call, undecided)
    if run is None:
        return forms.SimulationForm(initial={"objective": call.rules().selection.objective},
                                    **options)
    return forms.SimulationForm(
        initial=forms.simulation_initial(run, committee.names_of(run.instance)),
        caps=len(run.instance["caps"]) + 1, floors=len(run.instance["floors"]) + 1, **options)


@login_required
@require_POST
def simulate(request, code, wave_code):
    call, wave = _wave(request, code, wave_code)
    data = committee_page_data(wave, request.user)
    undecided = data["undecided"]
    form = forms.SimulationForm(
        request.POST, caps=max(forms.SimulationForm.rows_in(request.POST, "cap"), 1),
        floors=max(forms.SimulationForm.rows_in(request.POST, "floor"), 1),
        **_form_options(call, undecided))
    if undecided and form.is_valid():
        options = form.cleaned_data
        if run_service(form, lambda: committee.simulate(
                wave, request.user, caps=options["caps"], floors=options["floors"],
                pinned_in=options["pinned_in"], pinned_out=options["pinned_out"],
                objective=options["objective"], normalised=options["normalised"])):
            return redirect("backoffice:committee", code=code, wave_code=wave_code)
    return _page(request, call, wave, data, posted=form)


@login_required
@require_POST
def adopt(request, code, wave_code):
    """The last simulation becomes the prepared decisions; the page then lists them."""
    _call, wave = _wave(request, code, wave_code, "review.prepare_decision")
    form = forms.AdoptionForm(request.POST)
    try:
        prepared = committee.adopt_simulation(
            wave, form.cleaned_data["run"] if form.is_valid() else None, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, ngettext(
            "Simulation adoptée : %(n)d décision préparée, à publier.",
            "Simulation adoptée : %(n)d décisions préparées, à publier.", len(prepared))
            % {"n": len(prepared)})
    return redirect("backoffice:committee", code=code, wave_code=wave_code)


@login_required
@require_http_methods(["GET", "POST"])
def publish(request, code, wave_code):
    """GET: the confirmation page, saying exactly which decisions, amounts and mails the
    publication makes; POST (its button): the publication."""
    call, wave = _wave(request, code, wave_code, "review.publish_decisions")
    if request.method == "GET":
        return render(request, "backoffice/publish_decisions.html", {
            "call": call, "wave": wave, **publication_preview(wave)})
    try:
        published = decisions.publish_decisions(wave, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, ngettext("%(n)d décision publiée.",
                                           "%(n)d décisions publiées.", len(published))
                         % {"n": len(published)})
    return redirect("backoffice:committee", code=code, wave_code=wave_code)


@login_required
@require_GET
def what_if(request, code, wave_code):
    """The call's thresholds changed for a moment: which submitted dossiers would change
    verdict and what the wave's budget would then carry. Nothing is written."""
    call, wave = _wave(request, code, wave_code)
    current = thresholds_of(call.rules())
    form = forms.WhatIfForm(request.GET or None, initial=forms.WhatIfForm.initial_of(current))
    result = None
    if form.is_bound and form.is_valid():
        try:
            comparison, dossiers = committee.threshold_what_if(wave, request.user,
                                                               form.thresholds())
        except ServiceError as refused:
            form.add_error(refused.field if refused.field in form.fields else None,
                           refused.message)
        else:
            result = {"comparison": comparison, "budget": committee.available_budget(wave),
                      "rows": [(dossiers[change.key], change)
                               for change in comparison.changes]}
    return render(request, "backoffice/what_if.html", {
        "call": call, "wave": wave, "form": form, "current": current, "result": result})
