"""A call's own texts for its mails: the list of its mails, and for one mail in one language
the editor (with the variables it offers and a preview), saving, and going back to the
platform's text."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import staff_call
from guichet.core.http import run_service, run_service_and_confirm
from guichet.mails import custom
from guichet.notifications.kinds import Kind
from guichet.notifications.selectors import kind_label

PERMISSION = "calls.manage_mail_texts"


@login_required
@require_GET
def mail_texts(request, code):
    call = staff_call(request.user, code, PERMISSION)
    return render(request, "backoffice/mail_texts.html",
                  {"call": call, "mails": custom.texts_of(call)})


def _mail(request, code, kind, language):
    call = staff_call(request.user, code, PERMISSION)
    if kind not in custom.EDITABLE or language not in dict(settings.LANGUAGES):
        raise Http404
    return call, Kind(kind)


@login_required
@require_http_methods(["GET", "POST"])
def edit_mail_text(request, code, kind, language):
    call, kind = _mail(request, code, kind, language)
    if request.method == "GET":
        text = custom.current_text(call.pk, kind, language)
        form = forms.MailTextForm(initial={"subject": text.subject, "body": text.body})
        return _editor(request, call, kind, language, form, custom.preview(kind, text))
    form = forms.MailTextForm(request.POST)
    if form.is_valid() and run_service_and_confirm(request, form, lambda: custom.save_text(
            call, kind, language, form.cleaned_data["subject"], form.cleaned_data["body"],
            request.user), _("Texte du courriel enregistré.")):
        return redirect("backoffice:mail-text", code=call.code, kind=kind, language=language)
    return _editor(request, call, kind, language, form)


@login_required
@require_POST
def preview_mail_text(request, code, kind, language):
    """The text being written, filled with example values; nothing is saved."""
    call, kind = _mail(request, code, kind, language)
    form = forms.MailTextForm(request.POST)
    shown = {}

    def fill():
        shown["preview"] = custom.preview(kind, custom.checked(
            kind, form.cleaned_data["subject"], form.cleaned_data["body"]))

    if form.is_valid():
        run_service(form, fill)
    return _editor(request, call, kind, language, form, shown.get("preview"))


@login_required
@require_POST
def reset_mail_text(request, code, kind, language):
    call, kind = _mail(request, code, kind, language)
    if custom.reset_text(call, kind, language, request.user):
        messages.success(request, _("Le courriel reprend le texte de la plateforme."))
    return redirect("backoffice:mail-text", code=call.code, kind=kind, language=language)


def _editor(request, call, kind, language, form, preview=None):
    own = custom.own_text(call.pk, kind, language)
    return render(request, "backoffice/mail_text.html", {
        "call": call, "kind": kind, "label": kind_label(kind), "language": language,
        "language_name": dict(settings.LANGUAGES)[language], "form": form, "own": own,
        "preview": preview, "variables": [(name, custom.VARIABLES[name][0])
                                          for name in custom.variables(kind)]})
