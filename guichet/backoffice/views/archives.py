"""ZIP archives for staff: one dossier (built while streaming), a wave's (in the background)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice.selectors import refuse_page, staff_call, staff_dossier
from guichet.core.errors import ServiceError
from guichet.core.http import ZIP, file_download, mark_private
from guichet.dossiers import archives
from guichet.dossiers.models import WaveArchive


@login_required
@require_GET
def dossier_archive(request, pk):
    """The dossier's ZIP, for the staff of its call (not for an expert who reviews it)."""
    dossier = staff_dossier(request.user, pk)
    if not request.user.has_perm("review.view_call", dossier.call):
        raise refuse_page("review.view_call")
    return file_download(lambda file: archives.write_dossier_zip(dossier, file), ZIP,
                         archives.dossier_zip_name(dossier))


@login_required
@require_POST
def request_wave_archive(request, code, wave_code):
    call = staff_call(request.user, code)
    wave = get_object_or_404(call.waves, code=wave_code)
    try:
        archives.request_wave_archive(wave, request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("L'archive de la vague est en préparation : elle sera "
                                    "proposée sur cette page dès qu'elle sera prête."))
    return redirect("backoffice:dossiers", code=code)


@login_required
@require_GET
def wave_archive(request, code, pk):
    """A ready wave archive of a call the person serves, from the private storage."""
    call = staff_call(request.user, code)
    archive = get_object_or_404(WaveArchive.objects.select_related("wave"), pk=pk,
                                wave__call=call, ready_at__isnull=False)
    return mark_private(FileResponse(archive.file.open("rb"), as_attachment=True,
                                     filename=f"{call.code}-{archive.wave.code}.zip",
                                     content_type=ZIP))
