"""Grant documents as downloads, for the winner's pages and the back office alike."""

from django.http import Http404, HttpResponse

from guichet.core.http import PDF, download
from guichet.dossiers.documents import pdf_file_response
from guichet.grants.documents import agreement_pdf, recovery_order_pdf
from guichet.grants.models import Grant, RecoveryOrder


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
