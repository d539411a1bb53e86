"""The applicant portal: views only parse requests and call services."""

import contextlib
import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.calls.models import Call
from guichet.calls.services import open_wave
from guichet.core import labels
from guichet.core.clock import now
from guichet.core.errors import ServiceError
from guichet.core.fields import id_or_404
from guichet.core.http import PDF, download, form_action, run_service
from guichet.dossiers import editing, membership
from guichet.dossiers.company_search import Lookup, look_up_organisation
from guichet.dossiers.documents import pdf_file_response, remove_document, upload_document
from guichet.dossiers.format import draft_envelope, submitted_envelope
from guichet.dossiers.models import (
    Document,
    DossierStatus,
    ExpenseLine,
    FinancingLine,
    Invitation,
    Milestone,
)
from guichet.dossiers.presentation import dossier_sheet
from guichet.dossiers.receipt import receipt_data
from guichet.dossiers.services import AlreadySubmitted, submit
from guichet.grants.decisions import decision_letter_pdf, published_decision
from guichet.portal import forms
from guichet.portal.annex import budget_export_response, import_annex, template_response
from guichet.portal.forms import MessageForm
from guichet.portal.receipts import receipt_pdf_response
from guichet.portal.selectors import (
    dossier_for,
    dossier_row_for,
    step_completion,
    timeline,
    workspace,
)
from guichet.review.instruction import open_correction, post_message, thread
from guichet.rules import dossier as fmt
from guichet.web.steps import STEPS_AFTER_SECTIONS, STEPS_BEFORE_SECTIONS, steps_of

POST_FORM = require_http_methods(["GET", "POST"])


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
@require_GET
def dashboard(request):
    return _dashboard_page(request)


def _organisation_form(request, form=None) -> tuple[forms.OrganisationForm, Lookup | None]:
    """The organisation form, filled in from the company search when the page was asked for
    with `?siret=`, and what the search said."""
    if form is not None or "siret" not in request.GET:
        return form or forms.OrganisationForm(), None
    lookup = look_up_organisation(request.GET["siret"][:40])
    return forms.OrganisationForm(initial=lookup.initial), lookup


def _dashboard_page(request, organisation_form=None, start_form=None):
    organisations = membership.organisations_of(request.user)
    organisation_form, lookup = _organisation_form(request, organisation_form)
    calls = _open_calls()
    # The call's public page sends people here with `?appel=<code>`: that call comes chosen.
    start_form = start_form or forms.StartDossierForm(
        organisations=organisations, calls=calls, initial={"call": request.GET.get("appel")})
    return render(request, "portal/dashboard.html", {
        "organisations": organisations, "lookup": lookup,
        "organisation_form": organisation_form, "start_form": start_form,
        "open_calls": calls, "invitations": membership.pending_invitations(request.user),
        "dossiers": membership.dossiers_of(request.user).select_related("call", "wave")})


def _open_calls() -> list[Call]:
    return [call for call in Call.objects.order_by("code")
            if not call.is_closed and open_wave(call, now())]


def _register_organisation(user, data) -> None:
    membership.register_organisation(
        user, data["siret"], data["name"], data["region"], address=data["address"],
        legal_form=data["legal_form"].strip(), activity_code=data["activity_code"].strip())


@login_required
@require_POST
def register_organisation(request):
    form = forms.OrganisationForm(request.POST)
    return form_action(request, form, lambda data: _register_organisation(request.user, data),
                       reverse("portal:dashboard"),
                       lambda form: _dashboard_page(request, organisation_form=form),
                       confirmation=_("Organisme enregistré."))


@login_required
@require_POST
def start_dossier(request):
    """The dossier is started in the open call chosen (the only one, when one is open), and
    its first step shown."""
    form = forms.StartDossierForm(request.POST,
                                  organisations=membership.organisations_of(request.user),
                                  calls=_open_calls())
    started = []
    if form.is_valid() and run_service(form, lambda: started.append(membership.start_dossier(
            request.user, form.cleaned_data["call"], form.cleaned_data["organisation"],
            form.cleaned_data["kind"], form.cleaned_data["title"]))):
        return redirect("portal:step", pk=started[0].pk, step="projet")
    return _dashboard_page(request, start_form=form)


def _invitation_or_refusal(request, token):
    """The invitation of `token`, and why this person may not use it (None when they may)."""
    invitation = membership.invitation_by_token(token)
    if invitation is None:
        raise Http404
    try:
        membership.check_invitation(invitation, request.user, now())
    except ServiceError as refused:  # expired, revoked, accepted, another address…
        return invitation, refused.message
    return invitation, None


def _accept_form(request, invitation, data=None):
    return forms.AcceptInvitationForm(data, organisations=membership.organisations_of(
        request.user), for_member=invitation.member)


def _invitation_page(request, invitation, form=None, organisation_form=None):
    organisation_form, lookup = _organisation_form(request, organisation_form)
    return render(request, "portal/invitation.html", {
        "invitation": invitation, "form": form or _accept_form(request, invitation),
        "organisation_form": organisation_form, "lookup": lookup,
        "dossier": membership.invitation_dossier(invitation)})


@login_required
@POST_FORM
def invitation(request, token):
    """The invitation's page, whose form accepts it."""
    invitation, refusal = _invitation_or_refusal(request, token)
    if refusal:
        return render(request, "portal/invitation.html", {"refusal": refusal})
    form = _accept_form(request, invitation, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and run_service(
            form, lambda: membership.accept_invitation(
                token, request.user, form.cleaned_data.get("organisation"),
                form.cleaned_data.get("kind", ""))):
        messages.success(request, _("Vous faites désormais partie du consortium."))
        return redirect("portal:step", pk=membership.invitation_dossier(invitation).pk,
                        step="budget")
    return _invitation_page(request, invitation, form=form)


@login_required
@require_POST
def invitation_organisation(request, token):
    """Declare the organisation one represents, to accept the invitation for it next."""
    invitation, refusal = _invitation_or_refusal(request, token)
    if refusal:
        return render(request, "portal/invitation.html", {"refusal": refusal})
    form = forms.OrganisationForm(request.POST)
    return form_action(request, form, lambda data: _register_organisation(request.user, data),
                       reverse("portal:invitation", kwargs={"token": token}),
                       lambda form: _invitation_page(request, invitation,
                                                     organisation_form=form),
                       confirmation=_("Organisme enregistré."))


@login_required
@POST_FORM
def step(request, pk, step):
    light = request.method == "POST" and step in STEPS_READING_THEIR_DOSSIER
    dossier = (dossier_row_for if light else dossier_for)(request.user, pk)
    # A section step exists only in the calls that declare it.
    if step not in STEP_HANDLERS and step not in dict(steps_of(dossier.call.rules())):
        raise Http404
    handler = STEP_HANDLERS.get(step) or functools.partial(_section, section_id=step)
    outcome = handler(request, dossier)
    if isinstance(outcome, HttpResponse):
        return outcome
    if outcome is True and not _is_htmx(request):
        return redirect(request.get_full_path())
    context = outcome if isinstance(outcome, dict) else {"saved": outcome is True}
    if request.method == "POST":
        dossier = dossier_for(request.user, pk)  # what the action changed
    return _render_step(request, dossier, step, context)


def _render_step(request, dossier, step, context):
    space = workspace(dossier, request.user, now())
    defaults = _default_forms(step, space, request)
    # A dossier never submitted (no receipt number) has no correction request nor decision.
    after_submission = step == "depot" and dossier.receipt_number is not None
    steps = steps_of(dossier.call.rules())
    step_ids = [step_id for step_id, _label in steps]
    return render(request, _step_template(step), {
        **defaults, **context, "space": space, "dossier": dossier, "step": step,
        "current_label": dict(steps)[step],
        "steps": steps, "step_number": step_ids.index(step) + 1, "step_count": len(steps),
        "completion": step_completion(space),
        "next_step": dict(zip(step_ids, [*step_ids[1:], None], strict=True))[step],
        "timeline": timeline(dossier) if step == "depot" else [],
        "correction": open_correction(dossier) if after_submission else None,
        "decision": published_decision(dossier) if after_submission else None,
    })


def _step_template(step: str) -> str:
    fixed = {step_id for step_id, _label in [*STEPS_BEFORE_SECTIONS, *STEPS_AFTER_SECTIONS]}
    return f"portal/step_{step}.html" if step in fixed else "portal/step_section.html"


def _default_forms(step, space, request) -> dict:
    dossier = space.dossier
    if step not in STEP_HANDLERS:
        return _section_form(space, step)
    categories = labels.call_choices(dossier.call.rules(), "expense_categories")
    return {
        "projet": lambda: {"form": forms.ProjectForm(initial={
            **{name: getattr(dossier, name) for name in editing.PROJECT_FIELDS},
            "version": dossier.version}, sectors=_sectors(dossier))},
        "consortium": lambda: {"form": forms.InviteForm(
            members=membership.invitable_members(dossier)),
            "invitations": membership.pending_invitations_of(dossier) if space.is_lead else [],
            "validity_days": settings.INVITATION_VALIDITY_DAYS},
        "calendrier": lambda: {"form": forms.MilestoneForm()},
        "budget": lambda: {"form": forms.ExpenseForm(
            members=_member_queryset(space), categories=categories),
            "annex_form": forms.AnnexForm()},
        "financement": lambda: {"form": forms.FinancingForm(
            members=_member_queryset(space), sources=_sources(space))},
        "documents": lambda: {"form": forms.DocumentForm(kinds=_document_kinds(space))},
        "depot": lambda: {"form": forms.SubmitForm()},
    }[step]()


def _section_form(space, section_id: str) -> dict:
    definition = space.dossier.call.rules()
    section = definition.section(section_id)
    return {"form": forms.SectionForm.for_answers(section, definition, space.answers.values,
                                                  space.answers.version),
            **_section_context(section)}


def _section_context(section) -> dict:
    in_english = labels.in_english() and section.intro_en
    return {"section": section, "section_intro": section.intro_en if in_english
            else section.intro,
            "section_files": [labels.of(q) for q in section.questions if q.type == "file"]}


def _sectors(dossier) -> list[tuple[str, str]]:
    return labels.call_choices(dossier.call.rules(), "sectors")


def _member_queryset(space):
    ids = [member.pk for member in space.editable_members]
    return space.dossier.consortium.members.filter(pk__in=ids).select_related("organisation")


def _sources(space) -> list[str]:
    if space.is_lead:
        return list(fmt.FINANCING_SOURCES)
    return list(fmt.MEMBER_CONTRIBUTIONS)


def _document_kinds(space) -> list[tuple[str, str]]:
    return labels.call_choices(space.dossier.call.rules(), "attachments")


def _project(request, dossier):
    if request.method != "POST":
        return None
    form = forms.ProjectForm(request.POST, sectors=_sectors(dossier))
    outcome = _save_valid_fields(form, lambda version, data: editing.update_project(
        dossier, request.user, version, data))
    if outcome is False:
        return {"form": _with_conflict(form, forms.ProjectForm, editing.PROJECT_FIELDS,
                                       sectors=_sectors(dossier))}
    return outcome


def _save_valid_fields(form, save, changes=dict):
    """Save what is valid in `form` even when some fields are not, so that saving as one types
    never loses anything: `save(version, changes(valid values))` returns the record's new
    version. True when all was saved; False when nothing could be (a conflict, or no version);
    otherwise the form, which keeps what was typed in the invalid fields with their errors, and
    the new version for the next save."""
    complete = form.is_valid()
    values = dict(form.cleaned_data)
    version = values.pop("version", None)
    if version is None:
        return False
    saved = []
    if not run_service(form, lambda: saved.append(save(version, changes(values)))):
        return False
    if complete:
        return True
    form.data = form.data.copy()
    form.data["version"] = saved[0]
    return {"form": form, "saved": True}


def _with_conflict(form, form_class, fields, **options):
    """After a conflict, show what the other person saved, at its current version."""
    current = getattr(form, "conflict", None)
    if current is None:
        return form
    fresh = form_class(initial={**{f: getattr(current, f) for f in fields},
                                "version": current.version}, **options)
    fresh._errors = form.errors
    fresh.conflict = current
    return fresh


def _consortium(request, dossier):
    if request.method != "POST":
        return None
    form = forms.InviteForm(request.POST, members=membership.invitable_members(dossier))
    if form.is_valid() and run_service(form, lambda: membership.invite_member(
            dossier, form.cleaned_data["email"], request.user,
            member=form.cleaned_data["member"])):
        messages.success(request, _("Invitation envoyée à %(email)s.")
                         % {"email": form.cleaned_data["email"]})
        return True
    return {"form": form}


@login_required
@require_POST
def revoke_invitation(request, pk):
    dossier = dossier_for(request.user, pk)
    invitation_id = request.POST.get("invitation", "")
    if not (invitation_id.isascii() and invitation_id.isdecimal() and len(invitation_id) < 19):
        raise Http404  # not an id (and never a number the database cannot hold)
    invitation = get_object_or_404(Invitation, consortium_id=dossier.consortium_id,
                                   pk=int(invitation_id))
    try:
        membership.revoke_invitation(dossier, invitation, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Invitation à %(email)s retirée : son lien ne fonctionne "
                                    "plus.") % {"email": invitation.email})
    return redirect("portal:step", pk=pk, step="consortium")


def _calendar(request, dossier):
    if request.method != "POST":
        return None
    form = forms.MilestoneForm(request.POST)
    if form.is_valid() and run_service(form, lambda: editing.add_milestone(
            dossier, request.user, **form.cleaned_data)):
        return True
    return {"form": form}


def _budget(request, dossier):
    if request.method != "POST":
        return None
    space = workspace(dossier, request.user, now())
    categories = labels.call_choices(dossier.call.rules(), "expense_categories")
    form = forms.ExpenseForm(request.POST, members=_member_queryset(space), categories=categories)
    if form.is_valid() and run_service(form, lambda: editing.add_expense(
            dossier, request.user, editing.ExpenseInput(**form.cleaned_data))):
        return True
    return {"form": form}


def _financing(request, dossier):
    if request.method != "POST":
        return None
    space = workspace(dossier, request.user, now())
    form = forms.FinancingForm(request.POST, members=_member_queryset(space),
                               sources=_sources(space))
    if form.is_valid() and run_service(form, lambda: editing.add_financing(
            dossier, request.user, editing.FinancingInput(**form.cleaned_data))):
        return True
    return {"form": form}


LINE_MODELS = {"calendrier": Milestone, "budget": ExpenseLine, "financement": FinancingLine}


@login_required
@require_POST
def delete_line(request, pk, step):
    """The delete buttons of a step's table post "line id:version" (one form for the table);
    htmx follows the redirect and swaps the step in."""
    dossier = dossier_for(request.user, pk)
    line_id, _sep, version = request.POST.get("line", "").partition(":")
    line = get_object_or_404(LINE_MODELS[step].objects.select_related("dossier"),
                             dossier=dossier, pk=id_or_404(line_id))
    try:
        editing.delete_line(line, request.user, id_or_404(version))
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("portal:step", pk=pk, step=step)


@login_required
@require_POST
def annex_import(request, pk):
    """The financial annex replaces the budget; its errors are shown on the budget step."""
    dossier = dossier_for(request.user, pk)
    outcome = import_annex(request, dossier)
    if outcome is True:
        return redirect("portal:step", pk=pk, step="budget")
    return _render_step(request, dossier, "budget", outcome)


def _section(request, dossier, section_id: str):
    """A section of the call's own questions: what is valid is saved as one types."""
    if request.method != "POST":
        return None
    definition = dossier.call.rules()
    section = definition.section(section_id)
    form = forms.SectionForm(request.POST, section=section, definition=definition,
                             rows=_posted_rows(request.POST, section))
    outcome = _save_valid_fields(form, lambda version, _changes: editing.update_answers(
        dossier, request.user, version, section.id, form.answers()))
    if outcome is False:
        current = getattr(form, "conflict", None)
        if current is None:
            return {"form": form, **_section_context(section)}
        fresh = forms.SectionForm.for_answers(section, definition, current.values,
                                              current.version)
        fresh._errors, fresh.conflict = form.errors, current
        return {"form": fresh, **_section_context(section)}
    return {**outcome, **_section_context(section)} if isinstance(outcome, dict) else outcome


def _posted_rows(data, section) -> dict[str, int]:
    """How many rows of each table the posted form held (the blank ones below excluded)."""
    rows = {}
    for question in section.questions:
        if question.type == "table":
            prefix = f"{question.id}__"
            indexes = [name[len(prefix):].split("__")[0] for name in data if
                       name.startswith(prefix)]
            count = max((int(i) + 1 for i in indexes if i.isdecimal() and len(i) < 4), default=0)
            rows[question.id] = max(count - forms.SectionForm.BLANK_ROWS, 0)
    return rows


def _documents(request, dossier):
    if request.method != "POST":
        return None
    space = workspace(dossier, request.user, now())
    form = forms.DocumentForm(request.POST, request.FILES, kinds=_document_kinds(space))
    if form.is_valid() and run_service(form, lambda: upload_document(
            dossier, request.user, form.cleaned_data["kind"], form.cleaned_data["file"])):
        messages.success(request, _("Pièce ajoutée."))
        return True
    return {"form": form}


def _deposit(request, dossier):
    if request.method != "POST":
        return None
    form = forms.SubmitForm(request.POST)
    if form.is_valid() and run_service(form, lambda: _submit_once(dossier, request.user)):
        return redirect("portal:receipt", pk=dossier.pk)
    return {"form": form}


def _submit_once(dossier, by) -> None:
    """Submit; a dossier submitted already (a double click, a browser or proxy retrying the
    POST after a timeout) is answered with its receipt, not an error."""
    with contextlib.suppress(AlreadySubmitted):
        submit(dossier, by=by)


@login_required
@require_POST
def document_removal(request, pk):
    dossier = dossier_for(request.user, pk)
    document = get_object_or_404(Document, dossier=dossier,
                                 pk=id_or_404(request.POST.get("document")))
    try:
        remove_document(document, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("portal:step", pk=pk, step="documents")

# Steps whose POST hands the dossier to a service that reads it again (under its lock): the
# view only checks that the person takes part in it.
STEPS_READING_THEIR_DOSSIER = frozenset({"depot"})

STEP_HANDLERS = {
    "projet": _project, "consortium": _consortium, "calendrier": _calendar, "budget": _budget,
    "financement": _financing, "documents": _documents,
    "depot": _deposit,
}


@login_required
@require_GET
def verdict_panel(request, pk):
    """The live eligibility panel alone (htmx refreshes it after every change)."""
    dossier = dossier_for(request.user, pk)
    return render(request, "portal/_verdict.html",
                  {"space": workspace(dossier, request.user, now())})


@login_required
@require_GET
def receipt(request, pk):
    dossier = dossier_for(request.user, pk)
    data = receipt_data(dossier)
    if data is None:
        raise Http404
    return render(request, "portal/receipt.html", {"dossier": dossier, "receipt": data,
                                                   "timeline": timeline(dossier)})


@login_required
@require_GET
def receipt_pdf(request, pk):
    return receipt_pdf_response(dossier_for(request.user, pk))


@login_required
@require_GET
def annex_template(request, pk):
    return template_response(dossier_for(request.user, pk))


@login_required
@require_GET
def budget_export(request, pk, extension):
    if extension not in ("xlsx", "ods"):
        raise Http404
    return budget_export_response(dossier_for(request.user, pk), extension)


@login_required
@require_GET
def document_file(request, pk, document_pk):
    """A document is served only to the dossier's participants."""
    dossier = dossier_for(request.user, pk)
    document = get_object_or_404(Document, dossier=dossier, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf")



@login_required
@require_GET
def document_preview(request, pk, document_pk):
    """The document shown inline, for the sandboxed preview frame of the recap."""
    dossier = dossier_for(request.user, pk)
    document = get_object_or_404(Document, dossier=dossier, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf", inline=True)


@login_required
@require_GET
def recap(request, pk):
    """The whole dossier as it stands, as reviewers will read it, before it is certified and
    submitted; after a correction request, with what changed since the version received."""
    dossier = dossier_for(request.user, pk)
    space = workspace(dossier, request.user, now())
    latest = dossier.submissions.order_by("-version").first()
    sheet = dossier_sheet(
        dossier.call, draft_envelope(dossier, space.documents),
        documents=space.documents, verdict=space.verdict.results,
        previous=submitted_envelope(latest.snapshot)
        if latest and dossier.status == DossierStatus.CORRECTION_REQUESTED else None,
        views=("portal:document", "portal:document-preview"), staff=False)
    return render(request, "portal/recap.html", {"dossier": dossier, "space": space,
                                                 "sheet": sheet})


@login_required
@POST_FORM
def dossier_messages(request, pk):
    """The dossier's thread with the instruction team (private notes never appear here)."""
    dossier = dossier_for(request.user, pk)
    form = MessageForm(request.POST or None)
    if form.is_valid() and run_service(form, lambda: post_message(
            dossier, request.user, form.cleaned_data["body"])):
        return redirect("portal:messages", pk=pk)
    return render(request, "portal/messages.html", {
        "dossier": dossier, "form": form, "thread": thread(dossier, request.user),
        "decision": published_decision(dossier)})


@login_required
@require_GET
def decision_letter(request, pk):
    decision = published_decision(dossier_for(request.user, pk))
    if decision is None:
        raise Http404
    return download(decision_letter_pdf(decision), PDF,
                    f"decision-{decision.dossier.receipt_number}.pdf")
