"""The agreement: the lead signs it (a checked, hashed PDF) and tranche 1 becomes due."""

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import WebhookEvent
from guichet.calls.webhooks import emit
from guichet.core.clock import now as server_now
from guichet.dossiers.pdf_check import DocumentRefused, check_pdf
from guichet.dossiers.permissions import is_lead
from guichet.grants.errors import GrantRefused
from guichet.grants.lifecycle.grant import GrantAction, apply_grant_transition
from guichet.grants.models import Grant, GrantStatus
from guichet.grants.payments import TRIGGER_SIGNED, make_due
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify


@transaction.atomic
def sign_agreement(grant: Grant, by, upload, now=None) -> Grant:
    """The lead uploads the signed agreement (a PDF, checked and hashed); tranche 1 becomes due."""
    if not is_lead(by, grant.dossier):
        raise GrantRefused(_("Seul le chef de file signe la convention."))
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    if locked.status != GrantStatus.COMMITTED:
        raise GrantRefused(_("La convention est déjà signée."))
    try:
        checked = check_pdf(upload)
    except DocumentRefused as refused:
        raise GrantRefused(refused.reason, field="file") from None
    upload.seek(0)
    now = now or server_now()
    locked.signed_sha256 = checked.sha256  # names the stored file
    locked.signed_file.save("signed.pdf", ContentFile(upload.read()), save=False)
    apply_grant_transition(locked, GrantAction.SIGN, signed_sha256=checked.sha256,
                           signed_at=now, signed_active_content=list(checked.active_content),
                           signed_file=locked.signed_file.name)
    make_due(locked, TRIGGER_SIGNED, now)
    append_event(AuditAction.GRANT_SIGNED, grant.dossier, by=by, at=now,
                 details={"sha256": checked.sha256, **checked.audit_details()})
    # The reports can be handed in from now on: the participants learn when each is due.
    notify(Kind.REPORT_REQUESTED, key=f"report_requested:{locked.pk}", grant=locked.pk)
    emit(grant.dossier.call, WebhookEvent.AGREEMENT_SIGNED,
         {"dossier": grant.dossier_id, "grant": locked.pk, "sha256": checked.sha256})
    return locked
