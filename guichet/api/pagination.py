"""Cursor pagination: the cursor is the last row's id, opaque to clients. The next page seeks
past it through an index, so a deep page costs what the first one does."""

import base64
import binascii

from django.utils.translation import gettext as _

from guichet.api.problems import Problem


def next_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def cursor_after(cursor: str) -> int | None:
    """The id a cursor points after (None for the first page); a forged cursor is a 400."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _sep, value = text.partition(":")
    if kind != "after" or not value.isdigit() or len(value) > 18:
        raise Problem(400, _("Ce curseur n'a pas été donné par l'API : reprenez à la première "
                             "page."), code="invalid_cursor", field="cursor")
    return int(value)
