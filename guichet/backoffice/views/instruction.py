"""The instructor's actions on a dossier: instruction, correction request, message."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import staff_dossier
from guichet.backoffice.views.dossiers import dossier_action
from guichet.review import instruction


@login_required
@require_POST
def instruct(request, pk):
    dossier = staff_dossier(request.user, pk, "review.instruct")
    return dossier_action(request, dossier, forms.InstructionForm(request.POST),
                          "instruction_form", lambda data: instruction.record_instruction(
                              dossier, request.user, **data))


@login_required
@require_POST
def request_correction(request, pk):
    dossier = staff_dossier(request.user, pk, "review.instruct")
    return dossier_action(request, dossier, forms.CorrectionForm(request.POST),
                          "correction_form", lambda data: instruction.request_correction(
                              dossier, request.user, data["points"],
                              forms.paris_aware(data["deadline"])))


@login_required
@require_POST
def post_message(request, pk):
    """Anyone who opens the page may write in the thread; only staff write private notes (the
    service says so on the form)."""
    dossier = staff_dossier(request.user, pk)
    return dossier_action(request, dossier, forms.MessageForm(request.POST), "message_form",
                          lambda data: instruction.post_message(
                              dossier, request.user, data["body"], private=data["private"]))
