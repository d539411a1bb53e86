"""The receipt PDF as a download: the one the worker stored, or rendered now if it has not yet
(guichet.dossiers.receipt_store), so an applicant never waits for a worker for their proof."""

from django.http import Http404, HttpResponse

from guichet.core.http import PDF, download
from guichet.dossiers.models import Dossier
from guichet.dossiers.receipt_store import receipt_pdf


def receipt_pdf_response(dossier: Dossier) -> HttpResponse:
    try:
        pdf = receipt_pdf(dossier)
    except LookupError:
        raise Http404 from None
    return download(pdf, PDF, f"accuse-reception-{dossier.receipt_number}.pdf")
