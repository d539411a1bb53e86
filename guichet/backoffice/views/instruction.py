"""The instructor's actions on a dossier: instruction, correction request, message."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import staff_dossier
from guichet.backoffice.views.dossiers import dossier_page
from guichet.core.clock import PARIS
from guichet.core.http import run_service_and_confirm
from guichet.review import instruction


@login_required
@require_POST
def instruct(request, pk):
    dossier = staff_dossier(request.user, pk, "review.instruct")
    form = forms.InstructionForm(request.POST)
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: instruction.record_instruction(
                dossier, request.user, **form.cleaned_data)):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, instruction_form=form)


@login_required
@require_POST
def request_correction(request, pk):
    dossier = staff_dossier(request.user, pk, "review.instruct")
    form = forms.CorrectionForm(request.POST)
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: instruction.request_correction(
                dossier, request.user, form.cleaned_data["points"],
                _paris_aware(form.cleaned_data["deadline"]))):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, correction_form=form)


def _paris_aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


@login_required
@require_POST
def post_message(request, pk):
    """Anyone who opens the page may write in the thread; only staff write private notes (the
    service says so on the form)."""
    dossier = staff_dossier(request.user, pk)
    form = forms.MessageForm(request.POST)
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: instruction.post_message(
                dossier, request.user, form.cleaned_data["body"],
                private=form.cleaned_data["private"])):
        return redirect("backoffice:dossier", pk=pk)
    return dossier_page(request, dossier, message_form=form)
