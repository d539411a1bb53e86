"""Deadline reminders to the holders of draft dossiers (a periodic job)."""

import datetime as dt

from django.db import transaction

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.audit.services import append_event
from guichet.calls.services import open_wave
from guichet.dossiers.models import Dossier
from guichet.dossiers.selectors import participants
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify


def remind_drafts(now: dt.datetime, days: int) -> int:
    """Tell the holders of draft dossiers that their call's open wave closes within `days`.

    Each dossier is reminded once per wave (recorded in the audit log, in the transaction that
    writes the mail to the outbox)."""
    sent = 0
    for dossier in Dossier.objects.filter(status="draft").select_related("call"):
        wave = open_wave(dossier.call, now)
        if wave is None or dossier.call.is_closed or wave.closes_at - now > dt.timedelta(days):
            continue
        already = AuditEvent.objects.filter(
            action=AuditAction.DOSSIER_REMINDED, object_type="dossiers.dossier",
            object_id=str(dossier.pk),
            details__contains=f'"wave":"{wave.code}"').exists()
        recipients = participants(dossier)
        if already or not recipients:
            continue
        with transaction.atomic():
            notify(Kind.DRAFT_REMINDER, key=f"draft_reminder:{dossier.pk}:{wave.code}",
                   dossier=dossier.pk, wave=wave.pk)
            append_event(AuditAction.DOSSIER_REMINDED, dossier,
                         details={"wave": wave.code, "recipients": len(recipients)})
        sent += 1
    return sent
