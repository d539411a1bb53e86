"""Records as the API answers them: codes with their labels, instants in Paris time."""

import datetime as dt

from guichet.core.clock import in_paris
from guichet.dossiers.models import Dossier


def in_paris_or_none(instant: dt.datetime | None) -> dt.datetime | None:
    return None if instant is None else in_paris(instant)


def dossier_row(dossier: Dossier, call_code: str) -> dict:
    """A row of a list; the list passes its call's code (a row does not load its call)."""
    return {"id": dossier.pk, "call": call_code, "title": dossier.title,
            "status": dossier.status, "status_label": dossier.get_status_display(),
            "receipt_number": dossier.receipt_number,
            "received_at": in_paris_or_none(dossier.received_at),
            "requested_aid": dossier.requested_aid,
            "eligible_at_receipt": dossier.eligible_at_receipt,
            "wave": dossier.wave.code if dossier.wave_id else None}
