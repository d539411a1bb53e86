from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guichet.accounts.services import set_language
from guichet.calls.selectors import published_calls
from guichet.core.clock import now
from guichet.core.http import run_service
from guichet.rules.dossier import json_schema
from guichet.web.forms import LanguageForm


@require_GET
def home(request):
    calls = published_calls(now(), language=get_language() or "fr")
    return render(request, "web/home.html", {"calls": calls})


@require_GET
def dossier_schema(request):
    """The published JSON Schema of the dossier interchange format, version 1."""
    return JsonResponse(json_schema(), json_dumps_params={"ensure_ascii": False, "indent": 2})


@login_required
@require_GET
def account(request):
    return _account_page(request)


def _account_page(request, form=None):
    return render(request, "web/account.html", {
        "form": form or LanguageForm(initial={"language": request.user.language})})


@login_required
@require_POST
def account_language(request):
    """The person's language, from their account page or the header's switch (which sends
    `next`, the page to show again, now in that language)."""
    form = LanguageForm(request.POST)
    if not (form.is_valid() and run_service(
            form, lambda: set_language(request.user, form.cleaned_data["language"]))):
        return _account_page(request, form)
    translation.activate(request.user.language)  # the rest of this answer speaks it already
    messages.success(request, _("Langue enregistrée."))
    response = redirect(_next_page(request))
    # Kept after signing out too, as the switch of a person not signed in keeps it.
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, request.user.language,
                        samesite="Lax", secure=request.is_secure())
    return response


def _next_page(request) -> str:
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return wanted
    return reverse("web:account")
