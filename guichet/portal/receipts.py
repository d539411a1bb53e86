"""The receipt PDF as a download."""

from django.http import Http404, HttpResponse

from guichet.dossiers.models import Dossier
from guichet.dossiers.receipt import receipt_data, render_receipt_pdf


def receipt_pdf_response(dossier: Dossier) -> HttpResponse:
    data = receipt_data(dossier)
    if data is None:
        raise Http404
    response = HttpResponse(render_receipt_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="accuse-reception-{data.receipt_number}.pdf"')
    return response
