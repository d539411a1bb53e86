"""Failed deliveries: the page of an administrator's calls, and the Retry action per row."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice.deliveries import delivery_of, failed_deliveries
from guichet.core.errors import ServiceError
from guichet.notifications.services import retry_delivery


def _may_manage(user) -> None:
    if not user.has_perm("notifications.manage_outbox"):
        raise PermissionDenied(_("Cette page est réservée aux administrateurs d'un appel."))


@login_required
@require_GET
def failed_list(request):
    _may_manage(request.user)
    return render(request, "backoffice/failed_deliveries.html",
                  {"rows": failed_deliveries(request.user)})


@login_required
@require_POST
def retry(request, pk: int):
    _may_manage(request.user)
    message = delivery_of(request.user, pk)
    if message is None:
        raise Http404
    try:
        retry_delivery(message, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Envoi relancé."))
    return redirect("backoffice:failed-deliveries")
