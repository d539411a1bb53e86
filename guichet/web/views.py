from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.accounts.services import set_language
from guichet.accounts.tokens import active_tokens, create_token, revoke_token
from guichet.calls.selectors import call_page as call_page_of
from guichet.calls.selectors import published_calls
from guichet.core.clock import now
from guichet.core.errors import ServiceError
from guichet.core.fields import id_or_404
from guichet.core.http import PDF, download, run_service
from guichet.core.pdf import render_pdf
from guichet.notifications.selectors import notifications_of
from guichet.notifications.services import mark_read, set_mail_digest
from guichet.review.permissions import opens_backoffice
from guichet.rules.dossier import json_schema
from guichet.web.forms import ApiTokenForm, LanguageForm
from guichet.web.personal_data import personal_data_json


@require_GET
def home(request):
    calls = published_calls(now(), language=get_language() or "fr")
    return render(request, "web/home.html", {"calls": calls})


@require_GET
def call_page(request, code):
    """The public page of a call: objectives, who may apply, the rules, the calendar, the
    documents (with a model letter of commitment) and whom to contact."""
    page = call_page_of(code, now(), language=get_language() or "fr")
    if page is None:
        raise Http404
    return render(request, "web/call.html", {"page": page, "entry": page.summary,
                                             "rules": page.rules,
                                             "contact": settings.CONTACT_EMAIL})


@require_GET
def privacy(request, code):
    """What the call does with personal data, in plain French: who decides, what is kept,
    who reads it, for how long, and the person's rights."""
    page = call_page_of(code, now(), language=get_language() or "fr")
    if page is None:
        raise Http404
    return render(request, "web/privacy.html", {"entry": page.summary, "rules": page.rules,
                                                "contact": settings.CONTACT_EMAIL})


@require_GET
def commitment_letter(request, code):
    """The model letter of commitment a member signs, as a PDF to fill in."""
    page = call_page_of(code, now())
    if page is None:
        raise Http404
    content = render_pdf("web/commitment_letter.html", {"rules": page.rules})
    return download(content, PDF, f"modele-lettre-engagement-{code}.pdf")


@require_GET
def dossier_schema(request):
    """The published JSON Schema of the dossier interchange format, version 1."""
    return JsonResponse(json_schema(), json_dumps_params={"ensure_ascii": False, "indent": 2})


@login_required
@require_http_methods(["GET"])
def notifications(request):
    """The signed-in person's notifications, newest first (applicants and staff alike)."""
    return render(request, "web/notifications.html", {
        "rows": notifications_of(request.user),
        "staff": opens_backoffice(request.user)})


@login_required
@require_GET
def personal_data(request):
    """Everything the platform holds about the signed-in person, as a JSON file."""
    return download(personal_data_json(request.user), "application/json; charset=utf-8",
                    "mes-donnees-guichet.json")


@login_required
@require_GET
def account(request):
    return _account_page(request)


def _account_page(request, form=None, token_form=None, new_token=None):
    response = render(request, "web/account.html", {
        "form": form or LanguageForm(initial={"language": request.user.language}),
        "token_form": token_form or ApiTokenForm(), "new_token": new_token,
        "tokens": active_tokens(request.user)})
    if new_token is not None:
        response["Cache-Control"] = "no-store"  # the secret is shown once, never kept
    return response


@login_required
@require_POST
def create_api_token(request):
    """A new personal API token; its secret is shown in this answer only."""
    form = ApiTokenForm(request.POST)
    created = []
    if form.is_valid() and run_service(form, lambda: created.append(create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["scope"]))):
        return _account_page(request, new_token=created[0])
    return _account_page(request, token_form=form)


@login_required
@require_POST
def revoke_api_token(request):
    try:
        revoke_token(request.user, id_or_404(request.POST.get("token")))
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Jeton révoqué : il ne donne plus accès à l'API."))
    return redirect("web:account")


@login_required
@require_POST
def read_notifications(request):
    """Mark one notification (`notification`) or all of them read; only the person's own."""
    chosen = request.POST.get("notification")
    mark_read(request.user, None if chosen is None else [id_or_404(chosen)])
    return redirect("web:notifications")


@login_required
@require_POST
def mail_preference(request):
    """Staff choose one mail per notification or a daily digest."""
    if not opens_backoffice(request.user):
        return redirect("web:notifications")
    set_mail_digest(request.user, request.POST.get("digest") == "1")
    messages.success(request, _("Préférence d'envoi enregistrée."))
    return redirect("web:notifications")


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
