"""A call's webhooks: the page (endpoints, their recent deliveries), and one URL per action:
add an endpoint, send it a test event, deactivate it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice import forms
from guichet.backoffice.deliveries import webhook_log
from guichet.backoffice.selectors import staff_call
from guichet.calls import webhooks
from guichet.core.http import run_service_and_confirm

# The secret of a new endpoint waits here, in the server-side session, for the one page that
# shows it.
SECRET_KEY = "webhook-secret"


def _call(request, code):
    call = staff_call(request.user, code)
    if not request.user.has_perm("calls.manage_webhooks", call):
        raise PermissionDenied(_("Cette page est réservée aux administrateurs de l'appel."))
    return call


@login_required
@require_GET
def webhook_page(request, code):
    return _page(request, _call(request, code), forms.WebhookForm())


def _page(request, call, form):
    return render(request, "backoffice/webhooks.html", {
        "call": call, "form": form, "endpoints": webhook_log(call),
        "secret": request.session.pop(SECRET_KEY, None)})


@login_required
@require_POST
def add_webhook(request, code):
    call = _call(request, code)
    form = forms.WebhookForm(request.POST)
    created = {}

    def add():
        created["endpoint"], created["secret"] = webhooks.add_endpoint(
            call, request.user, form.cleaned_data["url"], form.cleaned_data["events"])

    if form.is_valid() and run_service_and_confirm(request, form, add, _("Webhook ajouté.")):
        request.session[SECRET_KEY] = {"endpoint": created["endpoint"].pk,
                                       "secret": created["secret"]}
        return redirect("backoffice:webhooks", code=call.code)
    return _page(request, call, form)


def _endpoint_action(request, code, pk, service, done: str):
    call = _call(request, code)
    endpoint = get_object_or_404(call.webhooks, pk=pk)
    try:
        service(endpoint, request.user)
    except webhooks.WebhookRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("backoffice:webhooks", code=call.code)


@login_required
@require_POST
def test_webhook(request, code, pk):
    return _endpoint_action(request, code, pk, webhooks.send_test_event,
                            _("Événement de test envoyé."))


@login_required
@require_POST
def remove_webhook(request, code, pk):
    return _endpoint_action(request, code, pk, webhooks.remove_endpoint,
                            _("Webhook désactivé."))
