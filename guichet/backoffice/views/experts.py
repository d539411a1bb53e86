"""The call's expert pool (loads, invitations, a wave's optimal assignment) and the manual
adjustments of a dossier's experts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import call_experts, staff_call, staff_dossier
from guichet.backoffice.views.dossiers import dossier_page
from guichet.core import labels
from guichet.core.errors import ServiceError
from guichet.core.fields import code_or_404
from guichet.core.http import run_service, run_service_and_confirm
from guichet.dossiers.models import Organisation
from guichet.review import experts

MANAGE = "review.manage_experts"


@login_required
@require_GET
def expert_pool(request, code):
    """The wave chosen stays chosen from one action to the next (`?vague=`)."""
    call = staff_call(request.user, code, MANAGE)
    return _pool_page(request, call, request.GET.get("vague"))


def _pool_page(request, call, wave_code, form=None):
    waves = list(call.waves.all())
    wave = next((w for w in waves if w.code == wave_code), None)
    return render(request, "backoffice/experts.html", {
        "call": call, "form": form or _invite_form(call), "pool": experts.expert_loads(call),
        "waves": waves, "wave": wave})


def _invite_form(call, data=None) -> forms.ExpertInviteForm:
    return forms.ExpertInviteForm(data, sectors=labels.call_choices(call.rules(), "sectors"))


def _pool_url(code: str, wave_code: str | None) -> str:
    url = reverse("backoffice:experts", kwargs={"code": code})
    return f"{url}?{urlencode({'vague': wave_code})}" if wave_code else url


@login_required
@require_POST
def invite(request, code):
    call = staff_call(request.user, code, MANAGE)
    form = _invite_form(call, request.POST)
    wave_code = request.POST.get("wave")
    if form.is_valid():
        data = form.cleaned_data
        siret = "".join(data["siret"].split())
        organisation = Organisation.objects.filter(siret=siret).first() if siret else None
        if run_service(form, lambda: experts.invite_expert(
                call, data["email"], request.user, sectors=data["sectors"],
                keywords=data["keywords"], max_load=data["max_load"],
                organisation=organisation)):
            messages.success(request, _("Expert invité."))
            return redirect(_pool_url(code, wave_code))
    return _pool_page(request, call, wave_code, form)


@login_required
@require_POST
def assign(request, code):
    """Solve the wave's assignment; the page then says what was done and which dossiers got no
    expert, and why."""
    call = staff_call(request.user, code, MANAGE)
    wave = get_object_or_404(call.waves, code=code_or_404(request.POST.get("wave")))
    try:
        summary = experts.assign_experts(wave, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        for level, text in assignment_report(summary, wave):
            messages.add_message(request, level, text)
    return redirect(_pool_url(code, wave.code))


def assignment_report(summary, wave) -> list[tuple[int, str]]:
    """What an assignment run did, and which dossiers got no expert and why, as messages."""
    done = _("%(wave)s : %(pairs)s.") % {"wave": wave.name, "pairs": ngettext(
        "%(n)d expertise affectée", "%(n)d expertises affectées", summary.pairs)
        % {"n": summary.pairs}}
    parts = [
        ngettext("%(n)d expertise en cours conservée", "%(n)d expertises en cours conservées",
                 summary.kept) % {"n": summary.kept} if summary.kept else "",
        ngettext("%(n)d affectation inchangée", "%(n)d affectations inchangées",
                 summary.unchanged) % {"n": summary.unchanged} if summary.unchanged else "",
        ngettext("%(n)d nouvelle affectation", "%(n)d nouvelles affectations",
                 summary.created) % {"n": summary.created} if summary.created
        else _("aucune nouvelle affectation"),
        ngettext("%(n)d affectation non commencée retirée",
                 "%(n)d affectations non commencées retirées", summary.removed)
        % {"n": summary.removed} if summary.removed else _("aucune affectation retirée"),
    ]
    detail = ", ".join(part for part in parts if part)
    quality = _("Affinité totale %(objective)s (borne prouvée %(bound)s).") % {
        "objective": number_format(summary.objective, 2),
        "bound": number_format(summary.upper_bound, 2)}
    report = [(messages.SUCCESS, f"{done} {capfirst(detail)}. {quality}")]
    if summary.unassigned:
        reasons = " ; ".join(_unassigned_text(item, summary.reviews_per_dossier)
                            for item in summary.unassigned)
        report.append((messages.WARNING, ngettext(
            "%(n)d dossier sans expert : %(reasons)s.",
            "%(n)d dossiers sans expert : %(reasons)s.", len(summary.unassigned))
            % {"n": len(summary.unassigned), "reasons": reasons}))
    return report


def _unassigned_text(item, reviews: int) -> str:
    reason = str(experts.NoExpert(item.reason).label)
    if item.reason in (experts.NoExpert.CONFLICTS, experts.NoExpert.LOADS_EXHAUSTED):
        reason += " " + _("(%(free)d sur %(needed)d nécessaires)") % {
            "free": item.free_experts, "needed": reviews}
    return f"{item.receipt_number} — {reason}"


@login_required
@require_POST
def add_expert(request, pk):
    dossier = staff_dossier(request.user, pk, "review.assign_experts")
    form = forms.AddExpertForm(request.POST, experts=call_experts(dossier.call))
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: experts.add_assignment(
                dossier, form.cleaned_data["expert"], request.user)):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, add_expert_form=form)


@login_required
@require_POST
def remove_expert(request, pk, assignment_pk):
    """A button, no form: a refusal (the review is already sent) is said in a message."""
    dossier = staff_dossier(request.user, pk, "review.assign_experts")
    assignment = get_object_or_404(dossier.assignments, pk=assignment_pk)
    try:
        experts.remove_assignment(assignment, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Enregistré."))
    return redirect("backoffice:dossier", pk=pk)
