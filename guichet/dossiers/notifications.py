"""Mails about dossiers: invitations, receipt to every participant, deadline reminders."""

import datetime as dt

from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.models import AuditEvent
from guichet.audit.services import append_event
from guichet.calls.services import open_wave
from guichet.core.clock import format_paris_instant, site_url
from guichet.core.text import mail_subject
from guichet.dossiers.models import Dossier, Invitation
from guichet.dossiers.receipt import receipt_data, render_receipt_pdf


def participants(dossier: Dossier) -> list[str]:
    """E-mail addresses of everyone taking part in the consortium (participations only: acting
    for a member organisation is not enough)."""
    return sorted(set(User.objects.filter(
        participations__member__consortium_id=dossier.consortium_id,
        is_active=True).values_list("email", flat=True)))


def send_invitation(invitation_pk: int) -> None:
    invitation = Invitation.objects.select_related("invited_by", "member").get(pk=invitation_pk)
    dossier = invitation.consortium.dossiers.select_related("call").first()
    link = site_url(reverse("portal:invitation", args=[invitation.token]))
    values = {"inviter": invitation.invited_by.email, "title": dossier.title,
              "call": dossier.call.name, "link": link,
              "until": format_paris_instant(invitation.expires_at)}
    with translation.override("fr"):
        role = (_("pour le compte de %(member)s") % {"member": invitation.member.name}
                if invitation.member else _("comme nouvel organisme partenaire"))
        EmailMessage(
            mail_subject(_("Invitation à rejoindre le consortium « %(title)s »") % values),
            _("%(inviter)s vous invite à rejoindre le consortium du projet « %(title)s » "
              "(appel %(call)s), %(role)s.\n\nPour confirmer votre participation, connectez-vous "
              "avec cette adresse et suivez ce lien avant le %(until)s :\n"
              "%(link)s") % {**values, "role": role},
            to=[invitation.email]).send()


def send_receipt(dossier_pk: int) -> None:
    dossier = Dossier.objects.select_related("call").get(pk=dossier_pk)
    data = receipt_data(dossier)
    recipients = participants(dossier)
    if data is None or not recipients:
        return
    with translation.override("fr"):
        message = EmailMessage(
            mail_subject(_("Accusé de réception %(number)s — %(title)s")
                         % {"number": data.receipt_number, "title": data.title}),
            _("Le dossier « %(title)s » a été déposé le %(at)s sous le numéro %(number)s.\n\n"
              "Empreinte SHA-256 du dossier gelé : %(hash)s\n\n"
              "L'accusé de réception est joint à ce message.")
            % {"title": data.title, "number": data.receipt_number, "hash": data.sha256,
               "at": format_paris_instant(data.received_at)},
            to=recipients)
        message.attach(f"accuse-reception-{data.receipt_number}.pdf", render_receipt_pdf(data),
                       "application/pdf")
        message.send()


def remind_drafts(now: dt.datetime, days: int) -> int:
    """Tell the holders of draft dossiers that their call's open wave closes within `days`.

    Each dossier is reminded once per wave (recorded in the audit log)."""
    sent = 0
    for dossier in Dossier.objects.filter(status="draft").select_related("call"):
        wave = open_wave(dossier.call, now)
        if wave is None or dossier.call.is_closed or wave.closes_at - now > dt.timedelta(days):
            continue
        already = AuditEvent.objects.filter(
            action="dossier.reminded", object_type="dossiers.dossier", object_id=str(dossier.pk),
            details__contains=f'"wave":"{wave.code}"').exists()
        recipients = participants(dossier)
        if already or not recipients:
            continue
        link = site_url(reverse("portal:step", args=[dossier.pk, "depot"]))
        closes_at = format_paris_instant(wave.closes_at)
        with translation.override("fr"):
            EmailMessage(
                mail_subject(_("Rappel : la vague se clôt le %(at)s") % {"at": closes_at}),
                _("Le dossier « %(title)s » est encore en brouillon. La vague %(wave)s se clôt "
                  "le %(at)s : l'heure de réception par le serveur fait foi.\n\n%(link)s")
                % {"title": dossier.title or "—", "wave": wave.name, "link": link,
                   "at": closes_at},
                to=recipients).send()
        append_event("dossier.reminded", dossier, details={"wave": wave.code,
                                                          "recipients": len(recipients)})
        sent += 1
    return sent
