"""Instruction of submitted dossiers: admissibility and eligibility, corrections, messages."""

import datetime as dt

from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from guichet.audit.services import append_event
from guichet.core.clock import format_paris_instant, site_url
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.core.tasks import run_after_commit
from guichet.core.text import mail_subject
from guichet.dossiers.models import CorrectionRequest, Dossier, DossierStatus
from guichet.dossiers.notifications import participants
from guichet.review.models import Instruction, Message

INSTRUCTABLE = (DossierStatus.SUBMITTED, DossierStatus.INSTRUCTED)


class InstructionRefused(ServiceError):
    code = "instruction_refused"


def automatic_verdict(dossier: Dossier) -> bool | None:
    latest = dossier.submissions.order_by("-version").first()
    return None if latest is None else latest.eligible


@transaction.atomic
def record_instruction(dossier: Dossier, by, *, admissible: bool, eligible: bool,
                       motivation: str = "") -> Instruction:
    """Confirm admissibility and eligibility; departing from the automatic verdict needs a
    written motivation, which is logged."""
    require_perm(by, "review.instruct", dossier)
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if locked.status not in INSTRUCTABLE:
        raise InstructionRefused(_("Ce dossier n'est pas en attente d'instruction."))
    automatic = automatic_verdict(locked)
    overridden = eligible != automatic
    if overridden and not motivation.strip():
        raise InstructionRefused(
            _("Une motivation écrite est requise pour s'écarter du verdict automatique."),
            field="motivation")
    instruction, _created = Instruction.objects.update_or_create(dossier=locked, defaults={
        "admissible": admissible, "eligible": eligible, "overridden": overridden,
        "motivation": motivation.strip(), "instructed_by": by, "instructed_at": server_now()})
    locked.status = DossierStatus.INSTRUCTED
    locked.save(update_fields=["status", "updated_at"])
    append_event("dossier.instructed", locked, by=by, details={
        "admissible": admissible, "eligible": eligible, "automatic": automatic,
        "overridden": overridden, "motivation": motivation.strip()})
    return instruction


@transaction.atomic
def request_correction(dossier: Dossier, by, points: str, deadline: dt.datetime,
                       now=None) -> CorrectionRequest:
    """Send the dossier back to the lead with the points to correct and a deadline."""
    require_perm(by, "review.instruct", dossier)
    now = now or server_now()
    if not points.strip():
        raise InstructionRefused(_("Listez les points à corriger."), field="points")
    if deadline <= now:
        raise InstructionRefused(_("La date limite doit être dans le futur."), field="deadline")
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if locked.status not in INSTRUCTABLE:
        raise InstructionRefused(_("Ce dossier n'est pas en attente d'instruction."))
    request = CorrectionRequest.objects.create(dossier=locked, points=points.strip(),
                                               deadline=deadline, requested_by=by,
                                               requested_at=now)
    locked.status = DossierStatus.CORRECTION_REQUESTED
    locked.save(update_fields=["status", "updated_at"])
    append_event("dossier.correction_requested", locked, by=by,
                 details={"deadline": deadline.isoformat()})
    run_after_commit(_mail_participants, locked.pk,
                     _("Corrections demandées sur votre dossier %(number)s"),
                     _("L'instruction demande des corrections avant le %(deadline)s :\n\n%(points)s"
                       "\n\nCorrigez puis déposez à nouveau le dossier : %(link)s"),
                     {"deadline": format_paris_instant(deadline),
                      "points": points.strip()})
    return request


def open_correction(dossier: Dossier) -> CorrectionRequest | None:
    return dossier.correction_requests.filter(answered_at__isnull=True).order_by(
        "-requested_at").first()


@transaction.atomic
def post_message(dossier: Dossier, author, body: str, *, private: bool = False) -> Message:
    """A message in the dossier's thread (applicants and staff are told by e-mail), or a
    private note that applicants never see."""
    if not body.strip():
        raise InstructionRefused(_("Le message est vide."), field="body")
    staff = author.has_perm("review.write_note", dossier)
    applicant = author.has_perm("dossiers.view_dossier", dossier)
    if private and not staff:
        raise InstructionRefused(_("Seule l'équipe d'instruction écrit des notes privées."))
    if not (staff or applicant):
        raise InstructionRefused(_("Vous n'avez pas accès à ce dossier."))
    message = Message.objects.create(dossier=dossier, author=author, body=body.strip(),
                                     private=private, created_at=server_now())
    append_event("dossier.note_written" if private else "dossier.message_posted", dossier,
                 by=author, details={"message": message.pk})
    if not private:
        run_after_commit(_mail_participants, dossier.pk,
                         _("Nouveau message sur le dossier %(number)s"),
                         _("Un nouveau message a été publié sur le dossier :\n\n%(link)s"), {},
                         exclude=author.email)
    return message


def thread(dossier: Dossier, user):
    """Messages the user may read: applicants never see private notes."""
    messages = dossier.messages.select_related("author").order_by("created_at", "pk")
    if not user.has_perm("review.write_note", dossier):
        messages = messages.filter(private=False)
    return messages


def _mail_participants(dossier_pk: int, subject: str, body: str, values: dict,
                       exclude: str = "") -> None:
    dossier = Dossier.objects.get(pk=dossier_pk)
    link = site_url(reverse("portal:step", args=[dossier.pk, "depot"]))
    recipients = [email for email in participants(dossier) if email != exclude]
    if recipients:
        number = dossier.receipt_number or str(dossier.pk)
        send_mail(mail_subject(subject % {"number": number}), body % {**values, "link": link},
                  None, recipients)
