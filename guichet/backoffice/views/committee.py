"""The committee's page of a wave: the ranking, the funding-line simulation and the
publication of decisions; once every ranked dossier is decided, the ranking and the last
simulation stay, read-only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import committee_page_data, staff_call
from guichet.core.errors import ServiceError
from guichet.core.http import run_service
from guichet.grants import decisions
from guichet.review import committee


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
def publish(request, code, wave_code):
    """A button, no form: what was published, or why nothing was, is said in a message."""
    _call, wave = _wave(request, code, wave_code, "review.publish_decisions")
    try:
        published = decisions.publish_decisions(wave, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, ngettext("%(n)d décision publiée.",
                                           "%(n)d décisions publiées.", len(published))
                         % {"n": len(published)})
    return redirect("backoffice:committee", code=code, wave_code=wave_code)

