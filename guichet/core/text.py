"""Text that must hold on one line: mail subjects, titles, names, labels.

A CR or LF in a mail subject makes Django refuse the whole message (header injection), and a
tab or another control character in a title has no business in a form or a PDF: single-line
fields refuse them on input, and every mail subject goes through `mail_subject`.
"""

import re

from django.utils.translation import gettext as _

from guichet.core.errors import ServiceError

# C0 and C1 control characters (CR, LF, tab, NUL…), DEL, and the Unicode line separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class TextRefused(ServiceError):
    code = "text_refused"


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def single_line_message(label: str) -> str:
    return _("« %(field)s » doit tenir sur une ligne : retirez les retours à la ligne, "
             "tabulations et autres caractères de contrôle.") % {"field": label}


def require_single_line(value: str, *, field: str, label: str) -> None:
    """Refuse `value` (the field `field`, shown to people as `label`) if it spans lines."""
    if has_control_characters(value or ""):
        raise TextRefused(single_line_message(label), field=field)


def mail_subject(text: str) -> str:
    """Any text made safe as a mail subject: on one line, every run of spaces, line breaks
    and other control characters collapsed into one space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", str(text)).split())
