"""The receipt PDF as a download."""

from django.http import Http404, HttpResponse

from guichet.core.http import PDF, download
from guichet.dossiers.models import Dossier
from guichet.dossiers.receipt import receipt_data, render_receipt_pdf


def receipt_pdf_response(dossier: Dossier) -> HttpResponse:
    data = receipt_data(dossier)
    if data is None:
        raise Http404
    return download(render_receipt_pdf(data), PDF,
                    f"accuse-reception-{data.receipt_number}.pdf")
