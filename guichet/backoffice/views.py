"""Back office: instruction, experts, scoring, committee and decisions (views call services)."""

import datetime as dt

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.text import capfirst
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
from guichet.core import labels, spreadsheets
from guichet.core.clock import PARIS
from guichet.core.errors import ServiceError
from guichet.core.fields import id_or_404
from guichet.core.http import CSV, XLSX, download, run_service
from guichet.dossiers.documents import pdf_file_response
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import DossierStatus, Organisation
from guichet.dossiers.receipt import receipt_data
from guichet.grants import decisions
from guichet.grants.models import Decision, DecisionStatus, SelectionRun
from guichet.review import committee, experts, instruction, scoring
from guichet.review.models import Assignment, ExpertProfile, Instruction
from guichet.rules.eligibility import compute_figures

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
        "regions": labels.REGION_CHOICES,
        "sectors": labels.call_choices(rules, "sectors"), "scopes": labels.SCOPE_CHOICES})


def _export_header() -> list[str]:
    return [_("Numéro"), _("Titre"), _("Vague"), _("État"), _("Chef de file"),
            _("Région du chef de file"), _("Portée"), _("Filière"), _("Aide demandée (€)"),
            _("Verdict à réception")]


def _export_rows(queryset, rules, language: str):
    """The list's rows as people read them: labels, never codes (the language is fixed here
    because a streamed response is read after the view returns)."""
    with translation.override(language):
        verdicts = {True: _("éligible"), False: _("non éligible")}
        for dossier in queryset.iterator(chunk_size=2000):
            yield (dossier.receipt_number, dossier.title,
                   dossier.wave.name if dossier.wave else "", dossier.get_status_display(),
                   dossier.lead_name or "", labels.label("region", dossier.lead_region),
                   labels.label("scope", dossier.scope),
                   labels.call_label(rules, "sectors", dossier.sector), dossier.requested_aid,
                   verdicts.get(dossier.eligible_at_receipt, ""))


def _export(queryset, kind: str, call):
    """The filtered list: CSV streamed row by row, or XLSX."""
    filename = f"dossiers-{call.code}.{kind}"
    rows = _export_rows(queryset, call.rules(), translation.get_language())
    if kind == "xlsx":
        return download(spreadsheets.to_xlsx(_export_header(), rows, title=_("Dossiers")), XLSX,
                        filename)
    response = StreamingHttpResponse(spreadsheets.stream_csv(_export_header(), rows),
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
    """The call's experts and their loads, the assignment of a wave, expert invitations; the
    wave chosen stays chosen from one action to the next (`?vague=`)."""
    call = staff_call(request.user, code, "review.manage_experts")
    waves = list(call.waves.all())
    chosen = request.POST.get("wave") or request.GET.get("vague")
    wave = next((w for w in waves if w.code == chosen), None)
    sectors = labels.call_choices(call.rules(), "sectors")
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
            return _experts_page(code, wave)
    if request.POST.get("action") == "assign":
        if wave is None:
            raise Http404
        try:
            summary = experts.assign_experts(wave, request.user)
        except ServiceError as refused:
            messages.error(request, refused.message)
        else:
            for level, text in assignment_report(summary, wave):
                messages.add_message(request, level, text)
        return _experts_page(code, wave)
    return render(request, "backoffice/experts.html", {
        "call": call, "form": form, "pool": experts.expert_loads(call),
        "waves": waves, "wave": wave})


def _experts_page(code: str, wave):
    url = reverse("backoffice:experts", kwargs={"code": code})
    return redirect(f"{url}?{urlencode({'vague': wave.code})}" if wave else url)


def assignment_report(summary, wave) -> list[tuple[int, str]]:
    """What an assignment run did, and which dossiers got no expert and why, as messages."""
    done = _("%(wave)s : %(pairs)s.") % {"wave": wave.name, "pairs": ngettext(
        "%(n)d expertise affectée", "%(n)d expertises affectées", summary.pairs)
        % {"n": summary.pairs}}
    parts = [
        ngettext("%(n)d expertise en cours conservée", "%(n)d expertises en cours conservées",
                 summary.kept) % {"n": summary.kept} if summary.kept else "",
        ngettext("%(n)d affectation inchangée", "%(n)d affectations inchangées",
                 summary.unchanged) % {"n": summary.unchanged} if summary.unchanged else "",
        ngettext("%(n)d nouvelle affectation", "%(n)d nouvelles affectations",
                 summary.created) % {"n": summary.created} if summary.created
        else _("aucune nouvelle affectation"),
        ngettext("%(n)d affectation non commencée retirée",
                 "%(n)d affectations non commencées retirées", summary.removed)
        % {"n": summary.removed} if summary.removed else _("aucune affectation retirée"),
    ]
    detail = ", ".join(part for part in parts if part)
    quality = _("Affinité totale %(objective)s (borne prouvée %(bound)s).") % {
        "objective": number_format(summary.objective, 2),
        "bound": number_format(summary.upper_bound, 2)}
    report = [(messages.SUCCESS, f"{done} {capfirst(detail)}. {quality}")]
    if summary.unassigned:
        reasons = " ; ".join(_unassigned_text(item, summary.reviews_per_dossier)
                            for item in summary.unassigned)
        report.append((messages.WARNING, ngettext(
            "%(n)d dossier sans expert : %(reasons)s.",
            "%(n)d dossiers sans expert : %(reasons)s.", len(summary.unassigned))
            % {"n": len(summary.unassigned), "reasons": reasons}))
    return report


def _unassigned_text(item, reviews: int) -> str:
    reason = str(experts.NoExpert(item.reason).label)
    if item.reason in (experts.NoExpert.CONFLICTS, experts.NoExpert.LOADS_EXHAUSTED):
        reason += " " + _("(%(free)d sur %(needed)d nécessaires)") % {
            "free": item.free_experts, "needed": reviews}
    return f"{item.receipt_number} — {reason}"


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
    """The wave's ranking, the funding-line simulation and the publication of decisions; once
    every ranked dossier is decided, the ranking and the last simulation stay, read-only."""
    call = staff_call(request.user, code, "review.select")
    wave = get_object_or_404(call.waves, code=wave_code)
    if request.POST.get("action") == "publish":
        try:
            published = decisions.publish_decisions(wave, request.user)
            messages.success(request, ngettext("%(n)d décision publiée.",
                                               "%(n)d décisions publiées.", len(published))
                             % {"n": len(published)})
        except ServiceError as refused:
            messages.error(request, refused.message)
        return redirect("backoffice:committee", code=code, wave_code=wave_code)
    ranking = committee.ranking(wave, decided=True)
    run = SelectionRun.objects.filter(wave=wave).order_by("-created_at", "-pk").first()
    undecided = [row for row in ranking if row.dossier.status == DossierStatus.INSTRUCTED]
    form = _simulation_form(request, call, run, {
        row.dossier.receipt_number: row.dossier.pk for row in undecided
        if row.aggregate.mean is not None})
    if undecided and form.is_bound and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: committee.simulate(
                wave, request.user, caps=data["caps"], floors=data["floors"],
                pinned_in=data["pinned_in"], pinned_out=data["pinned_out"],
                objective=data["objective"], normalised=data["normalised"])):
            return redirect("backoffice:committee", code=code, wave_code=wave_code)
    return render(request, "backoffice/committee.html", {
        "call": call, "wave": wave, "form": form if undecided else None,
        "run": committee.describe(run) if run else None, "ranking": ranking,
        "read_only": bool(ranking) and not undecided,
        "budget": committee.available_budget(wave),
        "objective": labels.label("objective", call.rules().selection.objective),
        "pending": Decision.objects.filter(dossier__wave=wave, status=DecisionStatus.PENDING)
        .select_related("dossier"),
        "can_publish": request.user.has_perm("review.publish_decisions", call)})


def _simulation_form(request, call, run, dossiers: dict[str, int]) -> forms.SimulationForm:
    """The simulation form: as posted, or showing the options of the wave's last run."""
    options = {"groups": forms.selection_groups(call.rules()), "dossiers": dossiers}
    if request.POST.get("action") == "simulate":
        return forms.SimulationForm(
            request.POST, caps=max(forms.SimulationForm.rows_in(request.POST, "cap"), 1),
            floors=max(forms.SimulationForm.rows_in(request.POST, "floor"), 1), **options)
    if run is None:
        return forms.SimulationForm(initial={"objective": call.rules().selection.objective},
                                    **options)
    return forms.SimulationForm(
        initial=forms.simulation_initial(run, committee.names_of(run.instance)),
        caps=len(run.instance["caps"]) + 1, floors=len(run.instance["floors"]) + 1, **options)
