"""A call's own texts for its mails: what its administrators may write, and how it is checked,
saved, previewed and rendered.

A text is Django's template syntax cut down to what a mail needs: `{{ variable }}` and
`{% if variable %}…{% else %}…{% endif %}`, over the variables that the platform's text of the
same mail uses (read from `mails/texts/`, so that the list cannot drift from what the catalogue
gives). Nothing else gets through: no filter, no attribute, no other tag (`{% debug %}` would
print the whole context, `{% include %}` read a file of the server).
"""

import dataclasses
import functools
import re
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, CallMailText
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.core.text import require_single_line
from guichet.grants.models import Outcome, ReportKind
from guichet.notifications.kinds import Kind
from guichet.notifications.selectors import kind_label

TEXTS = Path(__file__).resolve().parent / "texts"
ENGINE = Engine(autoescape=False)  # mails are plain text
# Every kind of mail a call sends: the daily digest belongs to no call.
EDITABLE = tuple(kind for kind in Kind if kind != Kind.DAILY_DIGEST)
SUBJECT_MAX = 200
BODY_MAX = 10_000
# Line breaks and tabs are a body's own; any other control character (a NUL…) is refused.
BODY_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
ALLOWED_TAGS = {"else", "endif"}

# What each variable holds, in words, and the value a preview shows for it.
VARIABLES = {
    "amount": (gettext_lazy("montant versé"), "150 000,00 €"),
    "at": (gettext_lazy("date et heure (Paris)"), "31/08/2026 à 11:00:00"),
    "call": (gettext_lazy("nom de l'appel"), "Deffinum"),
    "comment": (gettext_lazy("commentaire de l'instruction"),
                gettext_lazy("Précisez le calendrier du jalon 2.")),
    "count": (gettext_lazy("nombre de dossiers"), "3"),
    "deadline": (gettext_lazy("date limite (Paris)"), "15/09/2026 à 12:00:00"),
    "dossiers": (gettext_lazy("liste des dossiers, avec leurs liens"),
                 "- DEF-2026-000123 — Campus hybride : https://guichet.example.fr/…"),
    "due": (gettext_lazy("échéance"), "30/09/2026"),
    "hash": (gettext_lazy("empreinte SHA-256 du dossier"), "3f5a…9c1e"),
    "inviter": (gettext_lazy("adresse de la personne qui invite"), "chef.de.file@example.fr"),
    "link": (gettext_lazy("lien vers la page concernée"), "https://guichet.example.fr/…"),
    "member": (gettext_lazy("organisme que la personne représentera (vide : un nouvel "
                            "organisme)"), "Atelier Lenoir"),
    "message": (gettext_lazy("message de clôture de l'appel"),
                gettext_lazy("L'enveloppe de l'appel est épuisée.")),
    "number": (gettext_lazy("numéro du dossier"), "DEF-2026-000123"),
    "outcome": (gettext_lazy("décision"), Outcome.SELECTED.label),
    "paid_on": (gettext_lazy("date du versement"), "02/12/2026"),
    "points": (gettext_lazy("points à corriger"), gettext_lazy("- Budget : annexe manquante")),
    "reference": (gettext_lazy("référence du versement"), "VIR-2026-0042"),
    "report": (gettext_lazy("rapport"), ReportKind.INTERMEDIATE.label),
    "reports": (gettext_lazy("rapports attendus et leurs échéances"),
                format_lazy("- {} : 30/09/2027", ReportKind.INTERMEDIATE.label)),
    "title": (gettext_lazy("titre du projet"), "Campus hybride"),
    "tranche": (gettext_lazy("numéro de la tranche"), "2"),
    "until": (gettext_lazy("date d'expiration de l'invitation (Paris)"), "15/09/2026 à 12:00:00"),
    "wave": (gettext_lazy("nom de la vague"), gettext_lazy("Vague 1")),
}


class MailTextRefused(ServiceError):
    code = "mail_text_refused"


@dataclasses.dataclass(frozen=True)
class Text:
    subject: str
    body: str


def default_text(kind: Kind, language: str) -> Text:
    """The platform's text of the mail `kind` in `language`."""
    subject, _blank, body = (TEXTS / f"{Kind(kind)}.{language}.txt").read_text().partition("\n\n")
    return Text(subject, body.removesuffix("\n"))


@functools.cache
def variables(kind: Kind) -> tuple[str, ...]:
    """The variables a text of the mail `kind` may use: those of the platform's texts."""
    used = set()
    for language, _name in settings.LANGUAGES:
        text = default_text(kind, language)
        for token in Lexer(f"{text.subject}\n{text.body}").tokenize():
            if token.token_type == TokenType.VAR:
                used.add(token.contents)
    return tuple(sorted(used))


def problem(source: str, allowed: tuple[str, ...]) -> str | None:
    """Why `source` cannot be a mail text, in words (None when it can)."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.VAR and token.contents not in allowed:
            return _("« {{ %(text)s }} » n'est pas une variable de ce courriel : utilisez "
                     "l'une de celles listées.") % {"text": token.contents}
        if token.token_type == TokenType.BLOCK and not _allowed_tag(token, allowed):
            return _("« {%% %(text)s %%} » n'est pas permis : seuls {%% if variable %%}, "
                     "{%% else %%} et {%% endif %%} le sont.") % {"text": token.contents}
    try:
        ENGINE.from_string(source)
    except TemplateSyntaxError:
        return _("Chaque « if » doit être fermé par un « endif ».")
    return None


def _allowed_tag(token, allowed: tuple[str, ...]) -> bool:
    words = token.contents.split()
    return (words in ([tag] for tag in ALLOWED_TAGS)
            or (len(words) == 2 and words[0] == "if" and words[1] in allowed))


def render_text(source: str, values: dict) -> str:
    """A checked text with the mail's values filled in."""
    return ENGINE.from_string(source).render(Context(values, autoescape=False))


def checked(kind: Kind, subject: str, body: str) -> Text:
    """The text as written, or MailTextRefused naming the field at fault."""
    require_single_line(subject, field="subject", label=_("Objet"))
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        raise MailTextRefused(_("L'objet doit compter entre 1 et %(max)d caractères.")
                              % {"max": SUBJECT_MAX}, field="subject")
    if not body.strip() or len(body) > BODY_MAX:
        raise MailTextRefused(_("Le texte doit compter entre 1 et %(max)d caractères.")
                              % {"max": BODY_MAX}, field="body")
    if BODY_CONTROL_CHARACTERS.search(body):
        raise MailTextRefused(_("Le texte contient un caractère de contrôle (un caractère nul, "
                                "par exemple) : retirez-le."), field="body")
    for field, source in (("subject", subject), ("body", body)):
        if (why := problem(source, variables(kind))) is not None:
            raise MailTextRefused(why, field=field)
    return Text(subject, body.replace("\r\n", "\n"))


def preview(kind: Kind, text: Text) -> Text:
    """`text` filled with example values, as a recipient would read it."""
    examples = {name: str(VARIABLES[name][1]) for name in variables(kind)}
    return Text(render_text(text.subject, examples), render_text(text.body, examples))


def own_text(call_id: int, kind: Kind, language: str) -> CallMailText | None:
    return CallMailText.objects.filter(call_id=call_id, kind=kind, language=language).first()


def current_text(call_id: int, kind: Kind, language: str) -> Text:
    """The text the call's mail is sent with: its own, or the platform's."""
    own = own_text(call_id, kind, language)
    return Text(own.subject, own.body) if own else default_text(kind, language)


def texts_of(call: Call) -> list[dict]:
    """Each mail the call sends, in words, with the languages whose text is the call's own."""
    own = set(call.mail_texts.values_list("kind", "language"))
    return [{"kind": kind, "label": kind_label(kind),
             "languages": [(code, name, (kind, code) in own)
                           for code, name in settings.LANGUAGES]}
            for kind in EDITABLE]


def _require_editable(call: Call, kind: Kind, language: str, by) -> None:
    require_perm(by, "calls.manage_mail_texts", call)
    if kind not in EDITABLE or language not in dict(settings.LANGUAGES):
        raise MailTextRefused(_("Ce courriel n'existe pas dans cette langue."))


@transaction.atomic
def save_text(call: Call, kind: Kind, language: str, subject: str, body: str, by) -> CallMailText:
    """The call's administrator replaces the platform's text of one mail in one language."""
    _require_editable(call, kind, language, by)
    text = checked(kind, subject, body)
    row, _created = CallMailText.objects.update_or_create(
        call=call, kind=kind, language=language,
        defaults={"subject": text.subject, "body": text.body, "updated_at": server_now(),
                  "updated_by": by})
    append_event(AuditAction.CALL_MAIL_TEXT_SAVED, call, by=by,
                 details={"kind": str(kind), "language": language})
    return row


@transaction.atomic
def reset_text(call: Call, kind: Kind, language: str, by) -> bool:
    """Back to the platform's text; False when the call had none of its own."""
    _require_editable(call, kind, language, by)
    deleted, _rows = call.mail_texts.filter(kind=kind, language=language).delete()
    if deleted:
        append_event(AuditAction.CALL_MAIL_TEXT_RESET, call, by=by,
                     details={"kind": str(kind), "language": language})
    return bool(deleted)
