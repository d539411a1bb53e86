"""Mails about dossiers: receipt to every member, deadline reminders to draft holders."""

import datetime as dt

from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.core.clock import format_paris_instant, site_url
from guichet.dossiers.models import Dossier
from guichet.dossiers.receipt import receipt_data, render_receipt_pdf


def participants(dossier: Dossier) -> list[str]:
    """E-mail addresses of everyone acting for a confirmed member of the consortium."""
    return sorted(set(User.objects.filter(
        affiliations__organisation__memberships__consortium=dossier.consortium,
        affiliations__organisation__memberships__confirmed_at__isnull=False,
        is_active=True).values_list("email", flat=True)))


def send_receipt(dossier_pk: int) -> None:
    dossier = Dossier.objects.select_related("call").get(pk=dossier_pk)
    data = receipt_data(dossier)
    recipients = participants(dossier)
    if data is None or not recipients:
        return
    with translation.override("fr"):
        message = EmailMessage(
            _("Accusé de réception %(number)s — %(title)s")
            % {"number": data.receipt_number, "title": data.title},
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
    from guichet.audit.models import AuditEvent
    from guichet.audit.services import append_event
    from guichet.calls.services import open_wave

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
                _("Rappel : la vague se clôt le %(at)s") % {"at": closes_at},
                _("Le dossier « %(title)s » est encore en brouillon. La vague %(wave)s se clôt "
                  "le %(at)s : l'heure de réception par le serveur fait foi.\n\n%(link)s")
                % {"title": dossier.title or "—", "wave": wave.name, "link": link,
                   "at": closes_at},
                to=recipients).send()
        append_event("dossier.reminded", dossier, details={"wave": wave.code,
                                                          "recipients": len(recipients)})
        sent += 1
    return sent
