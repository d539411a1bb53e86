"""Every mail the platform sends, in one catalogue.

A kind names a mail; its entry says who receives it (a rule over the context the service gave
to `notify`), what values its templates get, and what it attaches. The subject and text body
are one template per language in `mails/<kind>.<language>.txt`: the subject on the first line,
then a blank line, then the body. Instants are written in Paris time and links go through
`site_url`, as everywhere else.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template import Context, Engine
from django.urls import reverse
from django.utils import translation

from guichet.accounts.services import language_of
from guichet.calls.models import Call, Wave
from guichet.calls.selectors import account_holders
from guichet.core.clock import format_paris_instant, site_url
from guichet.core.text import mail_subject
from guichet.dossiers.models import Dossier, Invitation
from guichet.dossiers.receipt import receipt_data
from guichet.dossiers.receipt_store import receipt_pdf
from guichet.dossiers.selectors import participants
from guichet.grants.decisions import decision_letter_pdf
from guichet.grants.models import Decision, Report
from guichet.notifications.kinds import Kind

MAILS = Path(__file__).resolve().parent / "texts"
# Mails are plain text: nothing is HTML-escaped.
ENGINE = Engine(dirs=[str(MAILS)], autoescape=False)


@dataclasses.dataclass(frozen=True)
class Mail:
    """What one notification sends: its recipients, template values and attachments."""

    recipients: list[str]
    values: dict
    attachments: list[tuple[str, bytes, str]] = dataclasses.field(default_factory=list)
    # One message per recipient (people who do not know each other), else one for all.
    separately: bool = False


def _instant(instant: dt.datetime) -> str:
    """In Paris time, written in the language the mail is being built in."""
    return format_paris_instant(instant, translation.get_language() or settings.LANGUAGE_CODE)


def _participants(dossier) -> list[str]:
    return participants(dossier)


def _dossier_link(dossier) -> str:
    return site_url(reverse("portal:step", args=[dossier.pk, "depot"]))


def _invitation(invitation: int) -> Mail:
    invitation = Invitation.objects.select_related("invited_by", "member").get(pk=invitation)
    dossier = invitation.consortium.dossiers.select_related("call").first()
    return Mail([invitation.email], {
        "inviter": invitation.invited_by.email, "title": dossier.title,
        "call": dossier.call.name, "member": invitation.member.name if invitation.member else "",
        "link": site_url(reverse("portal:invitation", args=[invitation.token])),
        "until": _instant(invitation.expires_at)})


def _receipt(dossier: int, version: int) -> Mail:
    dossier = Dossier.objects.select_related("call").get(pk=dossier)
    data = receipt_data(dossier, version=version)
    return Mail(_participants(dossier), {
        "title": data.title, "number": data.receipt_number, "hash": data.sha256,
        "at": _instant(data.received_at)},
        [(f"accuse-reception-{data.receipt_number}.pdf", receipt_pdf(dossier, version),
          "application/pdf")])


def _draft_reminder(dossier: int, wave: int) -> Mail:
    dossier, wave = Dossier.objects.get(pk=dossier), Wave.objects.get(pk=wave)
    return Mail(_participants(dossier), {
        "title": dossier.title or "—", "wave": wave.name, "link": _dossier_link(dossier),
        "at": _instant(wave.closes_at)})


def _correction_requested(dossier: int, deadline: str, points: str) -> Mail:
    dossier = Dossier.objects.get(pk=dossier)
    return Mail(_participants(dossier), {
        "number": dossier.receipt_number or str(dossier.pk), "points": points,
        "deadline": _instant(dt.datetime.fromisoformat(deadline)),
        "link": _dossier_link(dossier)})


def _message_posted(dossier: int, author: str) -> Mail:
    dossier = Dossier.objects.get(pk=dossier)
    return Mail([email for email in _participants(dossier) if email != author], {
        "number": dossier.receipt_number or str(dossier.pk), "link": _dossier_link(dossier)})


def _expert_invited(call: int, email: str) -> Mail:
    return Mail([email], {"call": Call.objects.get(pk=call).name,
                          "link": site_url(reverse("account_reset_password"))})


def _call_closed(call: int) -> Mail:
    call = Call.objects.get(pk=call)
    return Mail(account_holders(call), {"call": call.name, "message": call.closed_message},
                separately=True)


def _decision_published(decision: int) -> Mail:
    decision = Decision.objects.select_related("dossier__call").get(pk=decision)
    number = decision.dossier.receipt_number
    return Mail(_participants(decision.dossier), {
        "number": number, "title": decision.dossier.title,
        "outcome": decision.get_outcome_display()},
        [(f"decision-{number}.pdf", decision_letter_pdf(decision), "application/pdf")])


def _report_reminder(report: int) -> Mail:
    report = Report.objects.select_related("grant__dossier").get(pk=report)
    return Mail(_participants(report.grant.dossier), {
        "report": report.get_kind_display(), "number": report.grant.dossier.receipt_number,
        "due": f"{report.due_on:%d/%m/%Y}"})


CATALOGUE: dict[Kind, Callable[..., Mail]] = {
    Kind.INVITATION: _invitation,
    Kind.RECEIPT: _receipt,
    Kind.DRAFT_REMINDER: _draft_reminder,
    Kind.CORRECTION_REQUESTED: _correction_requested,
    Kind.MESSAGE_POSTED: _message_posted,
    Kind.EXPERT_INVITED: _expert_invited,
    Kind.CALL_CLOSED: _call_closed,
    Kind.DECISION_PUBLISHED: _decision_published,
    Kind.REPORT_REMINDER: _report_reminder,
}


def render(kind: Kind, values: dict, language: str) -> tuple[str, str]:
    """The subject (not yet made safe: see `mail_subject`) and body of `kind` in `language`."""
    text = ENGINE.get_template(f"{kind}.{language}.txt").render(Context(values, autoescape=False))
    subject, _blank, body = text.partition("\n\n")
    return subject, body.removesuffix("\n")


def send_notification(kind: str, context: dict, language: str | None = None) -> int:
    """Build and send the mail of one notification (the outbox task): each recipient reads it
    in the language of their account (the site's language for an address with no account), or
    all in `language` when it is given. Returns how many messages left; nobody to tell is not
    an error."""
    kind = Kind(kind)
    first_language = language or settings.LANGUAGE_CODE
    mail = _built(kind, context, first_language)
    messages = []
    for reader_language, recipients in _by_language(mail.recipients, language).items():
        # Labels, dates and attachments are written in the reader's language.
        localised = (mail if reader_language == first_language
                     else _built(kind, context, reader_language))
        messages += _messages(kind, localised, recipients, reader_language)
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def _built(kind: Kind, context: dict, language: str) -> Mail:
    with translation.override(language):
        return CATALOGUE[kind](**context)


def _by_language(recipients: list[str], forced: str | None) -> dict[str, list[str]]:
    """The recipients grouped by the language they read, each group in their order."""
    known = {} if forced else language_of(recipients)
    groups: dict[str, list[str]] = {}
    for email in recipients:
        reader = forced or known.get(email.lower(), settings.LANGUAGE_CODE)
        groups.setdefault(reader, []).append(email)
    return groups


def _messages(kind: Kind, mail: Mail, recipients: list[str], language: str) -> list[EmailMessage]:
    with translation.override(language):
        subject, body = render(kind, mail.values, language)
    groups = [[email] for email in recipients] if mail.separately else [recipients]
    return [EmailMessage(mail_subject(subject), body, to=group, attachments=mail.attachments)
            for group in groups]
