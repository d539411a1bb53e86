"""Grants in the back office: the list and its exports, a grant's page and its actions
(payments, reversals, report reviews, amendments), the early closure of a call, the money
dashboard."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import refuse_page, staff_call, staff_calls
from guichet.calls.models import Programme
from guichet.calls.selectors import closure_preview
from guichet.calls.services import close_call
from guichet.core import labels, spreadsheets
from guichet.core.clock import in_paris, now
from guichet.core.http import CSV, ODS, XLSX, download, form_action, run_service_and_confirm
from guichet.dossiers.models import DossierAnswers
from guichet.grants import amendments, dashboard, payments, reports
from guichet.grants.models import Grant, Payment, RecoveryOrder
from guichet.grants.selectors import current_budget, paid_total
from guichet.opendata import exports
from guichet.opendata.scdl import scdl_csv
from guichet.review.forecast import wave_forecast
from guichet.rules.money import format_eur_fr
from guichet.rules.sections import indicator_targets
from guichet.web.documents import grant_pdf_response


def _staff_grant(user, pk) -> Grant:
    """A grant whose dossier the person may open and follow as instructor or committee."""
    grant = get_object_or_404(Grant.objects.select_related("dossier__call", "wave"), pk=pk)
    if not user.has_perm("review.view_dossier", grant.dossier) or not user.has_perm(
            "review.write_note", grant.dossier):
        raise Http404
    return grant


@login_required
@require_GET
def grant_list(request, code):
    call = staff_call(request.user, code)
    export = request.GET.get("export")
    if export == "scdl":
        return download(scdl_csv(call), CSV, f"subventions-{call.code}-scdl.csv")
    if export:
        return _table_export(call, export, request.GET.get("table", "grants"))
    grants = Grant.objects.filter(wave__call=call).select_related("dossier", "wave")\
        .order_by("dossier__receipt_number")
    return render(request, "backoffice/grants.html", {"call": call, "grants": grants})


def _table_export(call, kind: str, table: str):
    header, rows = ((exports.PAYMENTS_HEADER, exports.payment_rows(call)) if table == "payments"
                    else (exports.GRANTS_HEADER, exports.grant_rows(call)))
    writers = {"csv": (spreadsheets.to_csv, CSV), "xlsx": (spreadsheets.to_xlsx, XLSX),
               "ods": (spreadsheets.to_ods, ODS)}
    if kind not in writers:
        raise Http404
    write, content_type = writers[kind]
    return download(write(header, rows), content_type, f"{table}-{call.code}.{kind}")


@login_required
@require_GET
def grant_detail(request, pk):
    return _grant_page(request, _staff_grant(request.user, pk))


def _grant_page(request, grant, **bound_forms):
    """The grant's page with every action's form: blank, or as posted with its errors."""
    page_forms = {
        "payment_form": forms.PaymentForm(), "reversal_form": forms.ReversalForm(),
        "review_form": forms.ReportReviewForm(),
        "amendment_form": forms.AmendmentForm(initial={
            "duration_months": grant.duration_months}),
        "move_form": forms.BudgetMoveForm(lines=_budget_lines(grant)),
        **bound_forms}
    return render(request, "backoffice/grant_detail.html", {
        **page_forms, "grant": grant,
        "tranches": grant.tranches.prefetch_related("payments").order_by("number"),
        "reports": grant.reports.prefetch_related("expenses__member").order_by("due_on"),
        "amendments": grant.amendments.order_by("version"),
        "paid": paid_total(grant), "indicators": _indicators_with_targets(grant),
        "recovery": RecoveryOrder.objects.filter(grant=grant).first()})


def _budget_lines(grant: Grant) -> list[tuple[int, str]]:
    names = {m.organisation.siret: m.name
             for m in grant.dossier.consortium.members.select_related("organisation")}
    rules = grant.dossier.call.rules()
    return [(index, f"{names.get(line.member, line.member)} — "
                    f"{labels.call_label(rules, 'expense_categories', line.category)} — "
                    f"{line.label} ({format_eur_fr(line.amount)})")
            for index, line in enumerate(current_budget(grant))]


def _indicators_with_targets(grant: Grant) -> list[dict]:
    rules = grant.dossier.call.rules()
    targets = indicator_targets(rules.sections, DossierAnswers.objects.filter(
        dossier=grant.dossier).values_list("values", flat=True).first() or {})
    return [{"id": i.id, "label": i.label, "target": targets.get(i.id)}
            for i in rules.indicators]


def _grant_action(request, grant, form, slot: str, service):
    """An action of the grant page: back to it, or the page with `form` (in `slot`) and its
    errors."""
    return form_action(request, form, service, reverse("backoffice:grant", args=[grant.pk]),
                       lambda bound: _grant_page(request, grant, **{slot: bound}))


@login_required
@require_POST
def pay(request, pk, tranche_pk):
    grant = _staff_grant(request.user, pk)
    tranche = get_object_or_404(grant.tranches, pk=tranche_pk)
    return _grant_action(request, grant, forms.PaymentForm(request.POST), "payment_form",
                         lambda data: payments.record_payment(tranche, request.user, **data))


@login_required
@require_POST
def reverse_payment(request, pk, payment_pk):
    grant = _staff_grant(request.user, pk)
    payment = get_object_or_404(Payment, tranche__grant=grant, pk=payment_pk)
    return _grant_action(request, grant, forms.ReversalForm(request.POST), "reversal_form",
                         lambda data: payments.reverse_payment(payment, request.user, **data))


@login_required
@require_POST
def review_report(request, pk, report_pk):
    grant = _staff_grant(request.user, pk)
    report = get_object_or_404(grant.reports, pk=report_pk)
    return _grant_action(request, grant, forms.ReportReviewForm(request.POST), "review_form",
                         lambda data: reports.review_report(
                             report, request.user, approve=data["decision"] == "approve",
                             comment=data["comment"]))


@login_required
@require_POST
def amend(request, pk):
    grant = _staff_grant(request.user, pk)
    return _grant_action(request, grant, forms.AmendmentForm(request.POST), "amendment_form",
                         lambda data: amendments.amend_grant(
                             grant, request.user, reason=data["reason"],
                             duration_months=data["duration_months"]))


@login_required
@require_POST
def move_budget(request, pk):
    grant = _staff_grant(request.user, pk)
    return _grant_action(request, grant, forms.BudgetMoveForm(request.POST,
                                                              lines=_budget_lines(grant)),
                         "move_form", lambda data: amendments.move_budget(grant, request.user,
                                                                          **data))


@login_required
@require_GET
def grant_document(request, pk, kind):
    return grant_pdf_response(_staff_grant(request.user, pk), kind)


@login_required
@require_http_methods(["GET", "POST"])
def close_call_early(request, code):
    """A page of its own with one form: the closure is serious enough to be asked for."""
    call = staff_call(request.user, code, "review.publish_decisions")
    form = forms.ClosureForm(request.POST or None)
    if form.is_valid() and run_service_and_confirm(request, form, lambda: close_call(
            call, request.user, form.cleaned_data["message"])):
        return redirect("backoffice:home")
    return render(request, "backoffice/close_call.html", {
        "call": call, "form": form, **closure_preview(call, now())})


@login_required
@require_GET
def money_dashboard(request):
    calls = list(staff_calls(request.user))
    if not calls:
        raise refuse_page("review.view_call")
    programmes = Programme.objects.filter(calls__in=calls).distinct()
    instant = now()
    today = in_paris(instant).date()
    sections = [{"call": call, "funnel": dashboard.funnel(call),
                 "regions": dashboard.committed_by_region(call),
                 "sectors": dashboard.committed_by_sector(call),
                 "late": dashboard.late_reports(call, today),
                 "forecast": wave_forecast(call, instant)} for call in calls]
    lines = [line for programme in programmes
             for line in dashboard.money_lines(programme, calls)]
    table = request.GET.get("csv")
    if table:
        return _dashboard_csv(table, lines, sections)
    return render(request, "backoffice/dashboard.html", {"lines": lines, "sections": sections})


def _dashboard_csv(table: str, lines, sections) -> HttpResponse:
    if table == "money":
        header = [_("Périmètre"), _("Enveloppe"), _("Engagé"), _("Versé"), _("Reste à engager")]
        rows = [[line.label, line.envelope, line.committed, line.paid, line.remaining]
                for line in lines]
    elif table in ("funnel", "regions", "sectors"):
        header = [_("Appel"), _("Libellé"), _("Valeur")]
        rows = [[section["call"].name, bar.label, bar.value]
                for section in sections for bar in section[table]]
    elif table == "late":
        header = [_("Appel"), _("Dossier"), _("Rapport"), _("Échéance")]
        rows = [[section["call"].name, report.grant.dossier.receipt_number,
                 report.get_kind_display(), report.due_on]
                for section in sections for report in section["late"]]
    else:
        raise Http404
    return download(spreadsheets.to_csv(header, rows), CSV, f"tableau-de-bord-{table}.csv")
