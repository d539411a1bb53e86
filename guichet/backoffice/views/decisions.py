"""The committee's decision on a dossier, and an administrator's reversal of a published one."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import staff_dossier
from guichet.backoffice.views.dossiers import dossier_page
from guichet.core.http import run_service_and_confirm
from guichet.grants import decisions
from guichet.grants.models import Decision, DecisionStatus


@login_required
@require_POST
def decide(request, pk):
    dossier = staff_dossier(request.user, pk, "review.prepare_decision")
    form = forms.DecisionForm(request.POST)
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: decisions.prepare_decision(
                dossier, request.user, form.cleaned_data["outcome"],
                awarded_aid=form.cleaned_data["awarded_aid"],
                motivation=form.cleaned_data["motivation"],
                redirected_to=form.cleaned_data["redirected_to"])):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, decision_form=form)


@login_required
@require_POST
def revert(request, pk):
    dossier = staff_dossier(request.user, pk, "review.revert_decision")
    published = Decision.objects.filter(dossier=dossier, status=DecisionStatus.PUBLISHED).first()
    if published is None:
        raise Http404
    form = forms.RevertForm(request.POST)
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: decisions.revert_decision(
                published, request.user, form.cleaned_data["motivation"])):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, revert_form=form)
