"""The back-office page of failed deliveries, with a Retry button per row."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guichet.core.errors import ServiceError
from guichet.core.fields import id_or_404
from guichet.notifications.models import OutboxMessage
from guichet.notifications.selectors import failed_messages
from guichet.notifications.services import retry_delivery


@login_required
@require_http_methods(["GET", "POST"])
def failed_deliveries(request):
    if not request.user.has_perm("notifications.manage_outbox"):
        raise PermissionDenied(_("Cette page est réservée aux administrateurs d'un appel."))
    if request.method == "POST":
        message = get_object_or_404(OutboxMessage, pk=id_or_404(request.POST.get("message")))
        try:
            retry_delivery(message, request.user)
        except ServiceError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Envoi relancé."))
        return redirect("notifications:failed")
    return render(request, "notifications/failed.html", {"rows": failed_messages()})
