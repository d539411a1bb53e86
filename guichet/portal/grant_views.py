"""The winner's side of a grant: the agreement to sign, the tranches, the reports to hand in."""

from collections import defaultdict
from decimal import Decimal

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from dsfr.forms import DsfrBaseForm

from guichet.core.fields import AmountField
from guichet.core.http import form_action
from guichet.core.uploads import max_size
from guichet.dossiers.models import DossierAnswers
from guichet.dossiers.pdf_check import MAX_DOCUMENT_BYTES
from guichet.grants.agreement import sign_agreement
from guichet.grants.models import Grant, Report, ReportStatus
from guichet.grants.reports import submit_report
from guichet.grants.selectors import paid_total
from guichet.portal.selectors import dossier_for
from guichet.rules.money import format_eur_fr
from guichet.rules.sections import indicator_targets
from guichet.web.documents import grant_pdf_response


class SignatureForm(DsfrBaseForm):
    file = django_forms.FileField(label=gettext_lazy("Convention signée (PDF, 20 Mo au plus)"),
                                  validators=[max_size(MAX_DOCUMENT_BYTES)])


def _grant_of(user, pk) -> Grant:
    dossier = dossier_for(user, pk)
    grant = Grant.objects.filter(dossier=dossier).select_related("dossier__call").first()
    if grant is None:
        raise Http404
    return grant


def budget_rows(grant: Grant) -> list[tuple[int, str, str, Decimal]]:
    """(member id, member name, category, budgeted eligible amount) of the grant's budget."""
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    names = {}
    for line in grant.dossier.expenses.select_related("member").filter(eligible=True):
        totals[(line.member_id, line.category)] += line.amount
        names[line.member_id] = line.member.name
    return [(member, names[member], category, amount)
            for (member, category), amount in sorted(totals.items())]


def report_form(grant: Grant, report: Report, data=None):
    """Narrative, the call's indicators (with the dossier's targets) and the statement of
    actual eligible expenses per member and category, against the budget."""
    rules = grant.dossier.call.rules()
    targets = indicator_targets(rules.sections, DossierAnswers.objects.filter(
        dossier=grant.dossier).values_list("values", flat=True).first() or {})
    categories = {c.id: c.label for c in rules.expense_categories}
    fields = {"narrative": django_forms.CharField(
        label=_("Résultats obtenus"), widget=django_forms.Textarea(attrs={"rows": 5}))}
    for indicator in rules.indicators:
        target = targets.get(indicator.id)
        fields[f"indicator_{indicator.id}"] = django_forms.IntegerField(
            label=indicator.label + (f" ({_('cible')} {target})" if target is not None else ""),
            min_value=0, required=False)
    for member, name, category, budget in budget_rows(grant):
        fields[f"expense_{member}_{category}"] = AmountField(
            label=_("%(member)s — %(category)s (budget %(budget)s)")
            % {"member": name, "category": categories.get(category, category),
               "budget": format_eur_fr(budget)}, required=False)
    form_class = type("ReportForm", (DsfrBaseForm,), fields)
    initial = {"narrative": report.narrative,
               **{f"indicator_{k}": v for k, v in report.indicators.items()},
               **{f"expense_{e.member_id}_{e.category}": e.amount
                  for e in report.expenses.all()}}
    return form_class(data, initial=initial)


@login_required
@require_GET
def grant_page(request, pk):
    return _grant_page(request, _grant_of(request.user, pk))


def _open_report(grant) -> Report | None:
    return grant.reports.filter(status__in=[ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED]
                                ).order_by("due_on").first()


def _grant_page(request, grant, signature_form=None, form=None):
    open_report = _open_report(grant)
    if form is None and open_report:
        form = report_form(grant, open_report)
    return render(request, "portal/grant.html", {
        "dossier": grant.dossier, "grant": grant,
        "signature_form": signature_form or SignatureForm(),
        "tranches": grant.tranches.prefetch_related("payments").order_by("number"),
        "reports": grant.reports.order_by("due_on"), "open_report": open_report,
        "report_form": form, "paid": paid_total(grant)})


@login_required
@require_POST
def sign(request, pk):
    grant = _grant_of(request.user, pk)
    form = SignatureForm(request.POST, request.FILES)
    return form_action(request, form,
                       lambda data: sign_agreement(grant, request.user, data["file"]),
                       reverse("portal:grant", kwargs={"pk": pk}),
                       lambda form: _grant_page(request, grant, signature_form=form))


@login_required
@require_POST
def hand_in_report(request, pk):
    """Hand in the report that is due (the open one)."""
    grant = _grant_of(request.user, pk)
    open_report = _open_report(grant)
    if open_report is None:
        raise Http404
    form = report_form(grant, open_report, request.POST)
    return form_action(request, form, lambda data: _submit_report(request.user, open_report, data),
                       reverse("portal:grant", kwargs={"pk": pk}),
                       lambda form: _grant_page(request, grant, form=form))


def _submit_report(user, report: Report, data) -> None:
    indicators = {name.removeprefix("indicator_"): value for name, value in data.items()
                  if name.startswith("indicator_") and value is not None}
    expenses = []
    for name, value in data.items():
        if name.startswith("expense_") and value is not None:
            member, category = name.removeprefix("expense_").split("_", 1)
            expenses.append((int(member), category, value))
    submit_report(report, user, narrative=data["narrative"], indicators=indicators,
                           expenses=expenses)


@login_required
@require_GET
def grant_document(request, pk, kind):
    return grant_pdf_response(_grant_of(request.user, pk), kind)

