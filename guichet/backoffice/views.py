"""Back office: instruction, experts, scoring, committee and decisions (views call services)."""

import datetime as dt

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from guichet.backoffice import forms
from guichet.backoffice.selectors import (
    ListFilters,
    expert_assignments,
    instruction_list,
    staff_call,
    staff_calls,
    staff_dossier,
)
from guichet.core.clock import PARIS
from guichet.core.errors import ServiceError
from guichet.core.fields import code_or_404, id_or_404
from guichet.core.http import CSV, XLSX, download, run_service
from guichet.dossiers.documents import pdf_file_response
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import DossierStatus, Organisation
from guichet.dossiers.receipt import receipt_data
from guichet.grants import decisions
from guichet.grants.models import Decision, DecisionStatus, SelectionRun
from guichet.opendata import exports
from guichet.review import committee, experts, instruction, scoring
from guichet.review.models import Assignment, ExpertProfile, Instruction
from guichet.rules.eligibility import compute_figures
from guichet.rules.regions import REGIONS

POST_FORM = require_http_methods(["GET", "POST"])
PAGE_SIZE = 50


@login_required
@require_GET
def home(request):
    return render(request, "backoffice/home.html", {
        "calls": staff_calls(request.user), "assignments": expert_assignments(request.user)})


@login_required
@require_GET
def dossier_list(request, code):
    call = staff_call(request.user, code)
    filters = ListFilters.from_query(request.GET)
    queryset = instruction_list(call, filters)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return _export(queryset, export, call)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rules = call.rules()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "backoffice/dossier_list.html", {
        "call": call, "page_obj": page, "filters": filters, "query": query.urlencode(),
        "waves": call.waves.all(), "statuses": DossierStatus.choices,
        "regions": sorted(REGIONS.items(), key=lambda item: item[1]),
        "sectors": [(s.id, s.label) for s in rules.sectors],
        "scopes": ["national", "interregional", "regional", "local"]})


EXPORT_COLUMNS = ["numero", "titre", "vague", "etat", "chef_de_file", "region_chef_de_file",
                  "portee", "filiere", "aide_demandee", "eligible_a_reception"]


def _export_rows(queryset):
    for dossier in queryset.iterator(chunk_size=2000):
        yield (dossier.receipt_number, dossier.title, dossier.wave.code if dossier.wave else "",
               dossier.status, dossier.lead_name or "", dossier.lead_region or "", dossier.scope,
               dossier.sector, dossier.requested_aid,
               {True: "oui", False: "non"}.get(dossier.eligible_at_receipt, ""))


def _export(queryset, kind: str, call):
    """The filtered list: CSV streamed row by row, or XLSX."""
    filename = f"dossiers-{call.code}.{kind}"
    if kind == "xlsx":
        return download(exports.to_xlsx(EXPORT_COLUMNS, _export_rows(queryset),
                                        title="Dossiers"), XLSX, filename)
    response = StreamingHttpResponse(exports.stream_csv(EXPORT_COLUMNS, _export_rows(queryset)),
                                     content_type=CSV)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@POST_FORM
def dossier_detail(request, pk):
    dossier = staff_dossier(request.user, pk)
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    bound = {name: request.POST if action == name else None
             for name in ("instruct", "correct", "message", "add_expert", "decide", "revert")}
    context_forms = {
        "instruction_form": forms.InstructionForm(bound["instruct"]),
        "correction_form": forms.CorrectionForm(bound["correct"]),
        "message_form": forms.MessageForm(bound["message"]),
        "add_expert_form": forms.AddExpertForm(bound["add_expert"], experts=ExpertProfile
                                               .objects.filter(call=dossier.call)
                                               .select_related("user")),
        "decision_form": forms.DecisionForm(bound["decide"]),
        "revert_form": forms.RevertForm(bound["revert"]),
    }
    if action and _handle(request, dossier, action, context_forms):
        return redirect("backoffice:dossier", pk=pk)
    return render(request, "backoffice/dossier_detail.html", {
        **context_forms, **_dossier_context(dossier, user)})


def _handle(request, dossier, action, context_forms) -> bool:
    user = request.user
    form = {"instruct": context_forms["instruction_form"],
            "correct": context_forms["correction_form"],
            "message": context_forms["message_form"],
            "add_expert": context_forms["add_expert_form"],
            "decide": context_forms["decision_form"],
            "revert": context_forms["revert_form"]}.get(action)
    if action == "remove_expert":
        assignment = get_object_or_404(Assignment, dossier=dossier,
                                       pk=id_or_404(request.POST.get("assignment")))
        return _message_or_error(request, lambda: experts.remove_assignment(assignment, user))
    if form is None or not form.is_valid():
        return False
    data = form.cleaned_data
    actions = {
        "instruct": lambda: instruction.record_instruction(
            dossier, user, admissible=data["admissible"], eligible=data["eligible"],
            motivation=data["motivation"]),
        "correct": lambda: instruction.request_correction(
            dossier, user, data["points"], _paris_aware(data["deadline"])),
        "message": lambda: instruction.post_message(dossier, user, data["body"],
                                                    private=data["private"]),
        "add_expert": lambda: experts.add_assignment(dossier, data["expert"], user),
        "decide": lambda: decisions.prepare_decision(
            dossier, user, data["outcome"], awarded_aid=data["awarded_aid"],
            motivation=data["motivation"], redirected_to=data["redirected_to"]),
        "revert": lambda: decisions.revert_decision(_live_decision(dossier), user,
                                                    data["motivation"]),
    }
    if run_service(form, actions[action]):
        messages.success(request, _("Enregistré."))
        return True
    return False


def _message_or_error(request, action) -> bool:
    try:
        action()
    except ServiceError as refused:
        messages.error(request, refused.message)
    return True


def _paris_aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


def _live_decision(dossier):
    decision = Decision.objects.filter(dossier=dossier, status=DecisionStatus.PUBLISHED).first()
    if decision is None:
        raise Http404
    return decision


def _dossier_context(dossier, user) -> dict:
    submission = dossier.submissions.order_by("-version").first()
    frozen = submitted_dossier(submission.snapshot) if submission else None
    figures = compute_figures(frozen, dossier.call.rules()) if frozen else None
    see_scores = user.has_perm("review.view_scores", dossier)
    aggregate = scoring.aggregates(dossier.call, [dossier.pk])[dossier.pk] if see_scores else None
    return {
        "dossier": dossier, "submission": submission, "frozen": frozen, "figures": figures,
        "receipt": receipt_data(dossier) if submission else None,
        "instruction": Instruction.objects.filter(dossier=dossier).first(),
        "corrections": dossier.correction_requests.order_by("-requested_at"),
        "thread": instruction.thread(dossier, user),
        "assignments": dossier.assignments.select_related("expert__user")
        .prefetch_related("scores") if see_scores else [],
        "aggregate": aggregate, "see_scores": see_scores,
        "can_instruct": user.has_perm("review.instruct", dossier),
        "can_decide": user.has_perm("review.prepare_decision", dossier),
        "can_revert": user.has_perm("review.revert_decision", dossier),
        "can_note": user.has_perm("review.write_note", dossier),
        "can_assign": user.has_perm("review.assign_experts", dossier.call),
        "decision": Decision.objects.filter(dossier=dossier).exclude(
            status=DecisionStatus.REVERTED).first(),
    }


@login_required
@require_GET
def staff_document(request, pk, document_pk):
    dossier = staff_dossier(request.user, pk)
    document = get_object_or_404(dossier.documents, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf")


@login_required
@POST_FORM
def expert_pool(request, code):
    call = staff_call(request.user, code)
    if not request.user.has_perm("review.manage_experts", call):
        raise Http404
    sectors = [(s.id, s.label) for s in call.rules().sectors]
    form = forms.ExpertInviteForm(request.POST if request.POST.get("action") == "invite"
                                  else None, sectors=sectors)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        organisation = Organisation.objects.filter(
            siret="".join(data["siret"].split())).first() if data["siret"] else None
        if run_service(form, lambda: experts.invite_expert(
                call, data["email"], request.user, sectors=data["sectors"],
                keywords=data["keywords"], max_load=data["max_load"],
                organisation=organisation)):
            messages.success(request, _("Expert invité."))
            return redirect("backoffice:experts", code=code)
    if request.POST.get("action") == "assign":
        wave = get_object_or_404(call.waves, code=code_or_404(request.POST.get("wave")))
        try:
            result = experts.assign_experts(wave, request.user)
            messages.success(request, _(
                "Affectation optimale : %(pairs)d expertises, affinité totale %(objective).2f "
                "(borne prouvée %(bound).2f).") % {"pairs": result.pairs,
                                                    "objective": result.objective,
                                                    "bound": result.upper_bound})
        except ServiceError as refused:
            messages.error(request, refused.message)
        return redirect("backoffice:experts", code=code)
    return render(request, "backoffice/experts.html", {
        "call": call, "form": form, "pool": experts.expert_loads(call),
        "waves": call.waves.all()})


@login_required
@POST_FORM
def review_dossier(request, assignment_pk):
    """The expert's page: the frozen dossier, the grid, the conflict declaration."""
    assignment = get_object_or_404(expert_assignments(request.user), pk=assignment_pk)
    dossier = staff_dossier(request.user, assignment.dossier_id)
    grid = dossier.call.rules().selection
    form = _score_form(grid, assignment, request.POST if request.POST.get("action") in (
        "save", "submit") else None)
    conflict_form = forms.ConflictForm(request.POST if request.POST.get("action") == "conflict"
                                       else None)
    if conflict_form.is_bound and conflict_form.is_valid() and run_service(
            conflict_form, lambda: experts.declare_conflict(
                assignment.expert, dossier, conflict_form.cleaned_data["reason"])):
        messages.success(request, _("Conflit d'intérêts enregistré : ce dossier vous est "
                                    "désormais inaccessible."))
        return redirect("backoffice:home")
    if form.is_bound and form.is_valid():
        values = {c.id: (form.cleaned_data[f"score_{c.id}"], form.cleaned_data[f"comment_{c.id}"])
                  for c in grid.criteria if form.cleaned_data.get(f"score_{c.id}") is not None}
        submit = request.POST.get("action") == "submit"
        if run_service(form, lambda: scoring.save_scores(assignment, request.user, values,
                                                      submit=submit)):
            messages.success(request, _("Expertise envoyée.") if submit
                             else _("Brouillon enregistré."))
            return redirect("backoffice:review", assignment_pk=assignment.pk)
    others = []
    if request.user.has_perm("review.view_scores", dossier):
        others = dossier.assignments.exclude(pk=assignment.pk).filter(
            submitted_at__isnull=False).prefetch_related("scores")
    return render(request, "backoffice/review.html", {
        "assignment": assignment, "dossier": dossier, "form": form,
        "conflict_form": conflict_form, "others": others, "grid": grid,
        "frozen": submitted_dossier(dossier.submissions.order_by("-version").first().snapshot)})


def _score_form(grid, assignment, data):
    existing = {score.criterion: score for score in assignment.scores.all()}
    fields = {}
    choices = [("", "—")] + [(str(v), str(v)) for v in range(grid.scale_min, grid.scale_max + 1)]
    for criterion in grid.criteria:
        fields[f"score_{criterion.id}"] = django_forms.TypedChoiceField(
            label=criterion.label, choices=choices, coerce=int, empty_value=None,
            required=False)
        fields[f"comment_{criterion.id}"] = django_forms.CharField(
            label=_("Commentaire — %(criterion)s") % {"criterion": criterion.label},
            required=False, widget=django_forms.Textarea(attrs={"rows": 2}))
    form_class = type("ScoreForm", (forms.DsfrBaseForm,), fields)
    initial = {}
    for criterion, score in existing.items():
        initial[f"score_{criterion}"] = str(score.value)
        initial[f"comment_{criterion}"] = score.comment
    form = form_class(data, initial=initial)
    if assignment.submitted_at:
        for field in form.fields.values():
            field.disabled = True
    return form


@login_required
@POST_FORM
def committee_page(request, code, wave_code):
    call = staff_call(request.user, code)
    if not request.user.has_perm("review.select", call):
        raise Http404
    wave = get_object_or_404(call.waves, code=wave_code)
    form = forms.SimulationForm(request.POST if request.POST.get("action") == "simulate"
                                else None, initial={"objective": call.rules().selection.objective})
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: committee.simulate(
                wave, request.user, caps=data["caps"], floors=data["floors"],
                pinned_in=data["pinned_in"], pinned_out=data["pinned_out"],
                objective=data["objective"], normalised=data["normalised"])):
            return redirect("backoffice:committee", code=code, wave_code=wave_code)
    if request.POST.get("action") == "publish":
        try:
            published = decisions.publish_decisions(wave, request.user)
            messages.success(request, ngettext("%(n)d décision publiée.",
                                               "%(n)d décisions publiées.", len(published))
                             % {"n": len(published)})
        except ServiceError as refused:
            messages.error(request, refused.message)
        return redirect("backoffice:committee", code=code, wave_code=wave_code)
    run = SelectionRun.objects.filter(wave=wave).order_by("-created_at").first()
    return render(request, "backoffice/committee.html", {
        "call": call, "wave": wave, "form": form, "run": run,
        "ranking": committee.ranking(wave), "budget": committee.available_budget(wave),
        "objective": call.rules().selection.objective,
        "pending": Decision.objects.filter(dossier__wave=wave, status=DecisionStatus.PENDING)
        .select_related("dossier"),
        "can_publish": request.user.has_perm("review.publish_decisions", call)})
