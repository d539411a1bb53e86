"""Back office for grants: list, detail (payments, reports, amendments), closure, dashboard."""


from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from dsfr.forms import DsfrBaseForm

from guichet.backoffice.selectors import refuse_page, staff_call, staff_calls
from guichet.calls.models import Programme
from guichet.calls.services import close_call
from guichet.core import labels, spreadsheets
from guichet.core.clock import in_paris, now
from guichet.core.fields import AmountField, DateField, id_or_404
from guichet.core.http import CSV, ODS, PDF, XLSX, download, run_service_and_confirm
from guichet.dossiers.documents import pdf_file_response
from guichet.dossiers.models import HybridProfile
from guichet.grants import dashboard
from guichet.grants.amendments import amend_grant, move_budget
from guichet.grants.documents import agreement_pdf, recovery_order_pdf
from guichet.grants.models import Grant, Payment, RecoveryOrder, Report, Tranche
from guichet.grants.payments import record_payment, reverse_payment
from guichet.grants.reports import review_report
from guichet.grants.selectors import current_budget, paid_total
from guichet.opendata import exports
from guichet.opendata.scdl import scdl_csv
from guichet.rules.money import format_eur_fr

POST_FORM = require_http_methods(["GET", "POST"])


class PaymentForm(DsfrBaseForm):
    paid_on = DateField(label=gettext_lazy("Date du virement"),
                        widget=django_forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reference = django_forms.CharField(label=gettext_lazy("Référence du virement"),
                                       max_length=100)


class ReversalForm(DsfrBaseForm):
    reason = django_forms.CharField(label=gettext_lazy("Motif de l'annulation du versement"),
                                    widget=django_forms.Textarea(attrs={"rows": 2}))


class ReviewForm(DsfrBaseForm):
    decision = django_forms.ChoiceField(label=gettext_lazy("Décision"), choices=[
        ("approve", gettext_lazy("Approuver")),
        ("changes", gettext_lazy("Demander des compléments"))])
    comment = django_forms.CharField(label=gettext_lazy("Commentaire"), required=False,
                                     widget=django_forms.Textarea(attrs={"rows": 2}))


class AmendmentForm(DsfrBaseForm):
    duration_months = django_forms.IntegerField(label=gettext_lazy("Nouvelle durée (mois)"),
                                                min_value=1, max_value=120)
    reason = django_forms.CharField(label=gettext_lazy("Motif de l'avenant"),
                                    widget=django_forms.Textarea(attrs={"rows": 2}))


class BudgetMoveForm(DsfrBaseForm):
    from_line = django_forms.TypedChoiceField(label=gettext_lazy("Ligne d'origine"), coerce=int)
    to_line = django_forms.TypedChoiceField(label=gettext_lazy("Ligne de destination"),
                                            coerce=int)
    amount = AmountField(label=gettext_lazy("Montant déplacé (€)"))
    reason = django_forms.CharField(label=gettext_lazy("Motif de l'avenant"),
                                    widget=django_forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_line"].choices = self.fields["to_line"].choices = lines


class ClosureForm(DsfrBaseForm):
    message = django_forms.CharField(label=gettext_lazy("Message publié sur l'appel"),
                                     widget=django_forms.Textarea(attrs={"rows": 3}))


def _staff_grant(user, pk) -> Grant:
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
@POST_FORM
def grant_detail(request, pk):
    grant = _staff_grant(request.user, pk)
    action = request.POST.get("action")
    payment_form = PaymentForm(request.POST if action == "pay" else None)
    reversal_form = ReversalForm(request.POST if action == "reverse" else None)
    review_form = ReviewForm(request.POST if action == "review" else None)
    amendment_form = AmendmentForm(request.POST if action == "amend" else None,
                                   initial={"duration_months": grant.duration_months})
    move_form = BudgetMoveForm(request.POST if action == "move" else None,
                               lines=_budget_lines(grant))
    if action == "move" and move_form.is_valid() and run_service_and_confirm(
            request, move_form, lambda: move_budget(
                grant, request.user, **move_form.cleaned_data)):
        return redirect("backoffice:grant", pk=pk)
    if action == "reverse" and reversal_form.is_valid():
        payment = get_object_or_404(Payment, tranche__grant=grant,
                                    pk=id_or_404(request.POST.get("payment")))
        if run_service_and_confirm(request, reversal_form, lambda: reverse_payment(
                payment, request.user, **reversal_form.cleaned_data)):
            return redirect("backoffice:grant", pk=pk)
    if action and _handle_grant_action(request, grant, action, payment_form, review_form,
                                       amendment_form):
        return redirect("backoffice:grant", pk=pk)
    return render(request, "backoffice/grant_detail.html", {
        "grant": grant, "tranches": grant.tranches.prefetch_related("payments").order_by("number"),
        "reports": grant.reports.prefetch_related("expenses__member").order_by("due_on"),
        "amendments": grant.amendments.order_by("version"),
        "paid": paid_total(grant), "payment_form": payment_form,
        "reversal_form": reversal_form,
        "move_form": move_form,
        "indicators": _indicators_with_targets(grant),
        "review_form": review_form, "amendment_form": amendment_form,
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
    targets = HybridProfile.objects.filter(dossier=grant.dossier).values_list(
        "indicator_targets", flat=True).first() or {}
    return [{"id": i.id, "label": i.label, "target": targets.get(i.id)}
            for i in grant.dossier.call.rules().indicators]


def _handle_grant_action(request, grant, action, payment_form, review_form,
                         amendment_form) -> bool:
    user = request.user
    if action == "pay" and payment_form.is_valid():
        tranche = get_object_or_404(Tranche, grant=grant, pk=id_or_404(request.POST.get("tranche")))
        return run_service_and_confirm(request, payment_form, lambda: record_payment(
            tranche, user, **payment_form.cleaned_data))
    if action == "review" and review_form.is_valid():
        report = get_object_or_404(Report, grant=grant, pk=id_or_404(request.POST.get("report")))
        data = review_form.cleaned_data
        return run_service_and_confirm(request, review_form, lambda: review_report(
            report, user, approve=data["decision"] == "approve", comment=data["comment"]))
    if action == "amend" and amendment_form.is_valid():
        data = amendment_form.cleaned_data
        return run_service_and_confirm(request, amendment_form, lambda: amend_grant(
            grant, user, reason=data["reason"], duration_months=data["duration_months"]))
    return False


@login_required
@require_GET
def grant_document(request, pk, kind):
    grant = _staff_grant(request.user, pk)
    return grant_pdf_response(grant, kind)


def grant_pdf_response(grant: Grant, kind: str) -> HttpResponse:
    """The agreement, the signed agreement or the recovery order of a grant, as a PDF."""
    number = grant.dossier.receipt_number
    if kind == "convention":
        return download(agreement_pdf(grant), PDF, f"convention-{number}.pdf")
    if kind == "convention-signee" and grant.signed_sha256:
        return pdf_file_response(grant.signed_file, f"convention-signee-{number}.pdf")
    if kind == "reversement" and RecoveryOrder.objects.filter(grant=grant).exists():
        return download(recovery_order_pdf(grant), PDF,
                         f"ordre-de-reversement-{number}.pdf")
    raise Http404


@login_required
@POST_FORM
def close_call_early(request, code):
    call = staff_call(request.user, code, "review.publish_decisions")
    form = ClosureForm(request.POST or None)
    if form.is_valid() and run_service_and_confirm(request, form, lambda: close_call(
            call, request.user, form.cleaned_data["message"])):
        return redirect("backoffice:home")
    return render(request, "backoffice/close_call.html", {"call": call, "form": form})


@login_required
@require_GET
def money_dashboard(request):
    calls = list(staff_calls(request.user))
    if not calls:
        raise refuse_page("review.view_call")
    programmes = Programme.objects.filter(calls__in=calls).distinct()
    today = in_paris(now()).date()
    sections = [{"call": call, "funnel": dashboard.funnel(call),
                 "regions": dashboard.committed_by_region(call),
                 "sectors": dashboard.committed_by_sector(call),
                 "late": dashboard.late_reports(call, today)} for call in calls]
    lines = [line for programme in programmes
             for line in dashboard.money_lines(programme, calls)]
    download = request.GET.get("csv")
    if download:
        return _dashboard_csv(download, lines, sections)
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
