"""What views share: downloads, and running a service on behalf of a form."""

import tempfile

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from guichet.core.errors import ServiceError

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
CSV = "text/csv; charset=utf-8"
ZIP = "application/zip"


def mark_private(response):
    """`Cache-Control: private, no-store`: for one person's eyes, kept by no cache."""
    patch_cache_control(response, private=True, no_store=True)
    return response


def download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return mark_private(response)


def file_download(write, content_type: str, filename: str) -> FileResponse:
    """A download too large to hold in memory: `write(file)` fills a temporary file, which is
    then streamed (and deleted when the response closes it)."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    try:
        write(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return mark_private(FileResponse(file, as_attachment=True, filename=filename,
                                     content_type=content_type))


def run_service(form, action) -> bool:
    """Call `action`; a refusal becomes an error on the form (on its field when known) and
    False is returned. A refusal that carries what another person saved meanwhile (`current`)
    leaves it on the form as `conflict`, for the page to show."""
    try:
        action()
    except ServiceError as refused:
        field = refused.field if refused.field in form.fields else None
        form.add_error(field, refused.message)
        form.conflict = getattr(refused, "current", None)
        return False
    return True


def run_service_and_confirm(request, form, action, confirmation: str | None = None) -> bool:
    """`run_service`, telling the person it is saved (or `confirmation`) when it is."""
    if run_service(form, action):
        messages.success(request, confirmation or _("Enregistré."))
        return True
    return False


def form_action(request, form, service, done: str, again, confirmation: str | None = None):
    """One action of a page with one form: `service(cleaned_data)` when the form is valid, then
    to `done` (a URL); otherwise `again(form)`, the page with the form and its errors."""
    if form.is_valid() and run_service_and_confirm(
            request, form, lambda: service(form.cleaned_data), confirmation):
        return redirect(done)
    return again(form)
