"""The financial annex pages: template download, upload, budget export."""

from django.contrib import messages
from django.http import HttpResponse
from django.utils.translation import gettext as _

from guichet.core.errors import ServiceError
from guichet.core.http import ODS, XLSX, download
from guichet.dossiers import budget
from guichet.dossiers.annex import export, template
from guichet.dossiers.annex.schema import AnnexInvalid
from guichet.dossiers.models import Dossier
from guichet.portal import forms

# The errors listed on the page; a file can have tens of thousands (the count says how many).
SHOWN_ERRORS = 100


def template_response(dossier: Dossier) -> HttpResponse:
    data = template.build_template(budget.annex_members(dossier),
                                  budget.annex_categories(dossier), budget.annex_content(dossier))
    return download(data, XLSX, f"annexe-financiere-{dossier.pk}.xlsx")


def budget_export_response(dossier: Dossier, extension: str) -> HttpResponse:
    write = export.export_budget_xlsx if extension == "xlsx" else export.export_budget_ods
    data = write(budget.annex_members(dossier), budget.annex_categories(dossier),
                  budget.annex_content(dossier))
    return download(data, XLSX if extension == "xlsx" else ODS,
                     f"budget-{dossier.pk}.{extension}")


def import_annex(request, dossier: Dossier):
    form = forms.AnnexForm(request.POST, request.FILES)
    if not form.is_valid():
        return {"annex_form": form}
    try:
        budget.import_annex(dossier, request.user, form.cleaned_data["file"].read())
    except AnnexInvalid as invalid:
        return {"annex_form": form, "annex_errors": invalid.errors[:SHOWN_ERRORS],
                "annex_error_count": len(invalid.errors),
                "annex_errors_not_shown": max(0, len(invalid.errors) - SHOWN_ERRORS)}
    except ServiceError as refused:
        form.add_error(None, refused.message)
        return {"annex_form": form}
    messages.success(request, _("Annexe financière importée."))
    return True
