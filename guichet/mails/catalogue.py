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
from django.utils.translation import ngettext

from guichet.accounts.models import User
from guichet.accounts.services import language_of
from guichet.calls.models import Call, Wave
from guichet.calls.selectors import account_holders
from guichet.core.clock import format_paris_instant, site_url
from guichet.core.labels import money
from guichet.core.text import mail_subject
from guichet.dossiers.models import Dossier, Invitation, WaveArchive
from guichet.dossiers.receipt import receipt_data
from guichet.dossiers.receipt_store import receipt_pdf
from guichet.dossiers.selectors import participants
from guichet.grants.decisions import decision_letter_pdf
from guichet.grants.models import Decision, Grant, Payment, Report
from guichet.mails import custom
from guichet.notifications.kinds import Kind
from guichet.notifications.models import Notification
from guichet.notifications.outbox import message_id
from guichet.notifications.selectors import kind_label
from guichet.notifications.services import record_in_app
from guichet.review.models import Assignment, ExpertProfile, Role
from guichet.review.selectors import call_staff

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
    # What the recipients' in-app list shows: the dossier or grant in words, and a path here.
    about: str = ""
    path: str = ""
    in_app: bool = True
    # The call whose own text of the mail, if it wrote one, replaces the platform's.
    call: int | None = None


def _instant(instant: dt.datetime) -> str:
    """In Paris time, written in the language the mail is being built in."""
    return format_paris_instant(instant, translation.get_language() or settings.LANGUAGE_CODE)


def _participants(dossier) -> list[str]:
    return participants(dossier)


def _dossier_path(dossier) -> str:
    return reverse("portal:step", args=[dossier.pk, "depot"])


def _dossier_link(dossier) -> str:
    return site_url(_dossier_path(dossier))


def _about(dossier) -> str:
    return f"{dossier.receipt_number or dossier.pk} — {dossier.title or '—'}"


def _applicants(dossier, values: dict, path: str | None = None) -> Mail:
    """A mail to the dossier's participants, whose in-app notification opens `path` (the
    dossier's page unless told)."""
    path = path or _dossier_path(dossier)
    return Mail(_participants(dossier), {"link": site_url(path), **values},
                about=_about(dossier), path=path, call=dossier.call_id)


def _invitation(invitation: int) -> Mail:
    invitation = Invitation.objects.select_related("invited_by", "member").get(pk=invitation)
    dossier = invitation.consortium.dossiers.select_related("call").first()
    path = reverse("portal:invitation", args=[invitation.token])
    return Mail([invitation.email], {
        "inviter": invitation.invited_by.email, "title": dossier.title,
        "call": dossier.call.name, "member": invitation.member.name if invitation.member else "",
        "link": site_url(path), "until": _instant(invitation.expires_at)},
        about=dossier.title or dossier.call.name, path=path, call=dossier.call_id)


def _receipt(dossier: int, version: int) -> Mail:
    dossier = Dossier.objects.select_related("call").get(pk=dossier)
    data = receipt_data(dossier, version=version)
    return Mail(_participants(dossier), {
        "title": data.title, "number": data.receipt_number, "hash": data.sha256,
        "at": _instant(data.received_at)},
        [(f"accuse-reception-{data.receipt_number}.pdf", receipt_pdf(dossier, version),
          "application/pdf")], about=_about(dossier),
        path=reverse("portal:receipt", args=[dossier.pk]), call=dossier.call_id)


def _draft_reminder(dossier: int, wave: int) -> Mail:
    dossier, wave = Dossier.objects.get(pk=dossier), Wave.objects.get(pk=wave)
    return Mail(_participants(dossier), {
        "title": dossier.title or "—", "wave": wave.name, "link": _dossier_link(dossier),
        "at": _instant(wave.closes_at)}, about=_about(dossier), path=_dossier_path(dossier),
        call=dossier.call_id)


def _correction_requested(dossier: int, deadline: str, points: str) -> Mail:
    dossier = Dossier.objects.get(pk=dossier)
    return _applicants(dossier, {
        "number": dossier.receipt_number or str(dossier.pk), "points": points,
        "deadline": _instant(dt.datetime.fromisoformat(deadline)),
        "link": _dossier_link(dossier)})


def _message_posted(dossier: int, author: str, audience: str = "participants") -> Mail:
    """Participants are told of a message by anyone else; the call's instructors, each
    separately, of a message by an applicant (audience "instructors")."""
    dossier = Dossier.objects.get(pk=dossier)
    values = {"number": dossier.receipt_number or str(dossier.pk)}
    if audience == "instructors":
        path = reverse("backoffice:dossier", args=[dossier.pk])
        return Mail(call_staff(dossier.call, Role.INSTRUCTOR),
                    {**values, "link": site_url(path)}, separately=True,
                    about=_about(dossier), path=path, call=dossier.call_id)
    mail = _applicants(dossier, values)
    return dataclasses.replace(
        mail, recipients=[email for email in mail.recipients if email != author])


def _expert_invited(call: int, email: str) -> Mail:
    name = Call.objects.get(pk=call).name
    return Mail([email], {"call": name, "link": site_url(reverse("account_reset_password"))},
                about=name, path=reverse("backoffice:home"), call=call)


def _call_closed(call: int) -> Mail:
    call = Call.objects.get(pk=call)
    return Mail(account_holders(call), {"call": call.name, "message": call.closed_message},
                separately=True, about=call.name, path=reverse("web:call", args=[call.code]),
                call=call.pk)


def _decision_published(decision: int) -> Mail:
    decision = Decision.objects.select_related("dossier__call").get(pk=decision)
    number = decision.dossier.receipt_number
    mail = _applicants(decision.dossier, {
        "number": number, "title": decision.dossier.title,
        "outcome": decision.get_outcome_display()})
    return dataclasses.replace(mail, attachments=[
        (f"decision-{number}.pdf", decision_letter_pdf(decision), "application/pdf")])


def _grant_path(dossier) -> str:
    return reverse("portal:grant", args=[dossier.pk])


def _report(report: int) -> Mail:
    """A mail about one report (a reminder, or its review) to the grant's participants,
    opening the grant's page."""
    report = Report.objects.select_related("grant__dossier").get(pk=report)
    dossier = report.grant.dossier
    return _applicants(dossier, {
        "report": report.get_kind_display(), "number": dossier.receipt_number,
        "due": f"{report.due_on:%d/%m/%Y}", "comment": report.review_comment},
        _grant_path(dossier))


def _report_requested(grant: int) -> Mail:
    grant = Grant.objects.select_related("dossier").get(pk=grant)
    reports = "\n".join(f"- {report.get_kind_display()} : {report.due_on:%d/%m/%Y}"
                        for report in grant.reports.order_by("due_on"))
    return _applicants(grant.dossier, {"number": grant.dossier.receipt_number,
                                       "reports": reports}, _grant_path(grant.dossier))


def _payment_made(payment: int) -> Mail:
    payment = Payment.objects.select_related("tranche__grant__dossier").get(pk=payment)
    dossier = payment.tranche.grant.dossier
    return _applicants(dossier, {
        "number": dossier.receipt_number, "tranche": payment.tranche.number,
        "amount": money(payment.amount), "paid_on": f"{payment.paid_on:%d/%m/%Y}",
        "reference": payment.reference}, _grant_path(dossier))


def _instruction_done(dossier: int) -> Mail:
    dossier = Dossier.objects.get(pk=dossier)
    return _applicants(dossier, {"number": dossier.receipt_number or str(dossier.pk)})


def _expert_assigned(expert: int, dossiers: list[int]) -> Mail:
    expert = ExpertProfile.objects.select_related("user", "call").get(pk=expert)
    assignments = list(expert.assignments.filter(dossier_id__in=dossiers)
                       .select_related("dossier").order_by("dossier_id"))
    if not assignments:  # removed again before the mail left
        return Mail([], {})
    lines = "\n".join(f"- {_about(a.dossier)} : {site_url(_review_path(a))}"
                      for a in assignments)
    path = _review_path(assignments[0]) if len(assignments) == 1 else reverse(
        "backoffice:home")
    about = (_about(assignments[0].dossier) if len(assignments) == 1
             else ngettext("%(call)s — %(count)d dossier", "%(call)s — %(count)d dossiers",
                           len(assignments)) % {"call": expert.call.name,
                                                "count": len(assignments)})
    return Mail([expert.user.email], {
        "call": expert.call.name, "count": len(assignments), "dossiers": lines,
        "due": f"{assignments[0].due_on:%d/%m/%Y}" if assignments[0].due_on else "—"},
        about=about, path=path, call=expert.call_id)


def _review_path(assignment) -> str:
    return reverse("backoffice:review", args=[assignment.pk])


def _review_deadline(assignment: int) -> Mail:
    """A review due soon or overdue (both kinds say the same things to the expert)."""
    assignment = Assignment.objects.select_related("expert__user", "dossier").filter(
        pk=assignment, submitted_at__isnull=True).first()
    if assignment is None:  # sent or removed in the meantime: nothing to say
        return Mail([], {})
    path = _review_path(assignment)
    return Mail([assignment.expert.user.email], {
        "number": assignment.dossier.receipt_number, "title": assignment.dossier.title,
        "due": f"{assignment.due_on:%d/%m/%Y}", "link": site_url(path)},
        about=_about(assignment.dossier), path=path, call=assignment.dossier.call_id)


def _wave_archive_ready(archive: int) -> Mail:
    """To the staff member who asked for a wave's archive: it can be downloaded."""
    archive = WaveArchive.objects.select_related("wave__call", "requested_by").get(pk=archive)
    call, wave = archive.wave.call, archive.wave
    path = reverse("backoffice:dossiers", args=[call.code])
    return Mail([archive.requested_by.email], {
        "call": call.name, "wave": wave.name, "count": archive.dossiers,
        "link": site_url(path)}, about=f"{call.name} — {wave.name}", path=path, call=call.pk)


def _daily_digest(person: int, day: str) -> Mail:
    """One mail listing what `person` was told on `day` (guichet.notifications.digest)."""
    person = User.objects.get(pk=person)
    rows = Notification.objects.filter(recipient=person,
                                       digested_on=dt.date.fromisoformat(day)).order_by(
        "created_at", "pk")
    lines = "\n".join(f"- {kind_label(row.kind)} : {row.about}"
                      + (f" ({site_url(row.link)})" if row.link else "") for row in rows)
    return Mail([person.email] if lines else [], {
        "day": f"{dt.date.fromisoformat(day):%d/%m/%Y}", "lines": lines,
        "link": site_url(reverse("web:notifications"))}, in_app=False)


CATALOGUE: dict[Kind, Callable[..., Mail]] = {
    Kind.INVITATION: _invitation,
    Kind.RECEIPT: _receipt,
    Kind.DRAFT_REMINDER: _draft_reminder,
    Kind.CORRECTION_REQUESTED: _correction_requested,
    Kind.MESSAGE_POSTED: _message_posted,
    Kind.EXPERT_INVITED: _expert_invited,
    Kind.CALL_CLOSED: _call_closed,
    Kind.DECISION_PUBLISHED: _decision_published,
    Kind.REPORT_REMINDER: _report,
    Kind.EXPERT_ASSIGNED: _expert_assigned,
    Kind.REVIEW_DUE: _review_deadline,
    Kind.REVIEW_OVERDUE: _review_deadline,
    Kind.REPORT_REQUESTED: _report_requested,
    Kind.REPORT_CHANGES_REQUESTED: _report,
    Kind.REPORT_APPROVED: _report,
    Kind.PAYMENT_MADE: _payment_made,
    Kind.INSTRUCTION_DONE: _instruction_done,
    Kind.WAVE_ARCHIVE_READY: _wave_archive_ready,
    Kind.DAILY_DIGEST: _daily_digest,
}


def render(kind: Kind, values: dict, language: str, call: int | None = None) -> tuple[str, str]:
    """The subject (not yet made safe: see `mail_subject`) and body of `kind` in `language`:
    the call's own text when it wrote one, else the platform's."""
    if call is not None and (own := custom.own_text(call, kind, language)) is not None:
        return custom.render_text(own.subject, values), custom.render_text(own.body, values)
    text = ENGINE.get_template(f"{kind}.{language}.txt").render(Context(values, autoescape=False))
    subject, _blank, body = text.partition("\n\n")
    return subject, body.removesuffix("\n")


def send_notification(kind: str, context: dict, language: str | None = None) -> int:
    """Build and send the mail of one notification (the outbox task), and write the in-app
    notification of each recipient with an account: each recipient reads it in the language of
    their account (the site's language for an address with no account), or all in `language`
    when it is given. Returns how many messages left; nobody to tell is not an error."""
    kind = Kind(kind)
    first_language = language or settings.LANGUAGE_CODE
    mail = _built(kind, context, first_language)
    messages = []
    for reader_language, group in _by_language(mail.recipients, language).items():
        # Labels, dates, attachments and the in-app text are in the reader's language.
        localised = (mail if reader_language == first_language
                     else _built(kind, context, reader_language))
        mailed_now = (record_in_app(kind, group, localised.about, localised.path)
                      if mail.in_app else group)
        if mailed_now:
            messages += _messages(kind, localised, mailed_now, reader_language)
    if not messages:
        return 0
    for index, message in enumerate(messages):
        if (stable_id := message_id(index)) is not None:
            message.extra_headers["Message-ID"] = stable_id
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
        subject, body = render(kind, mail.values, language, mail.call)
    groups = [[email] for email in recipients] if mail.separately else [recipients]
    return [EmailMessage(mail_subject(subject), body, to=group, attachments=mail.attachments)
            for group in groups]
