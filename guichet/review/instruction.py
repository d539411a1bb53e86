"""Instruction of submitted dossiers: admissibility and eligibility, corrections, messages."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.dossiers.lifecycle import DossierAction, apply_dossier_transition
from guichet.dossiers.models import CorrectionRequest, Dossier, DossierStatus
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
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
    apply_dossier_transition(locked, DossierAction.INSTRUCT, updated_at=timezone.now())
    append_event(AuditAction.DOSSIER_INSTRUCTED, locked, by=by, details={
        "admissible": admissible, "eligible": eligible, "automatic": automatic,
        "overridden": overridden, "motivation": motivation.strip()})
    notify(Kind.INSTRUCTION_DONE, dossier=locked.pk)
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
    apply_dossier_transition(locked, DossierAction.REQUEST_CORRECTION,
                             updated_at=timezone.now())
    append_event(AuditAction.DOSSIER_CORRECTION_REQUESTED, locked, by=by,
                 details={"deadline": deadline.isoformat()})
    notify(Kind.CORRECTION_REQUESTED, dossier=locked.pk, deadline=deadline.isoformat(),
           points=points.strip())
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
    append_event(AuditAction.DOSSIER_NOTE_WRITTEN if private
                 else AuditAction.DOSSIER_MESSAGE_POSTED, dossier,
                 by=author, details={"message": message.pk})
    if not private:
        notify(Kind.MESSAGE_POSTED, dossier=dossier.pk, author=author.email)
    if applicant and not private:  # an answer the instructors wait for
        notify(Kind.MESSAGE_POSTED, dossier=dossier.pk, author=author.email,
               audience="instructors")
    return message


def thread(dossier: Dossier, user):
    """Messages the user may read: applicants never see private notes."""
    messages = dossier.messages.select_related("author").order_by("created_at", "pk")
    if not user.has_perm("review.write_note", dossier):
        messages = messages.filter(private=False)
    return messages
