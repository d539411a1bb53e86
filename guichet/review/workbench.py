"""The instruction workbench: labels, saved filters, private annotations, follows, the
instructor in charge, and bulk actions on a selection of dossiers (all or nothing)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Outcome
from guichet.review.instruction import request_correction
from guichet.review.models import (
    Annotation,
    AnnotationKind,
    BadgeColour,
    CallRole,
    DossierInstructor,
    Follow,
    Label,
    Role,
    SavedFilter,
)

MAX_BULK = 500


class WorkbenchRefused(ServiceError):
    code = "workbench_refused"


# --- labels ------------------------------------------------------------------------------

@transaction.atomic
def create_label(call, by, name: str, colour: str) -> Label:
    """A label of the call, with a colour of the DSFR badge palette."""
    require_perm(by, "review.label", call)
    name = name.strip()
    if not name:
        raise WorkbenchRefused(_("Nommez l'étiquette."), field="name")
    if colour not in BadgeColour.values:
        raise WorkbenchRefused(_("Choisissez une couleur de la palette."), field="colour")
    # Compared in Python: SQLite folds the case of ASCII letters only ("À" and "à").
    if name.casefold() in {other.casefold() for other in
                           Label.objects.filter(call=call).values_list("name", flat=True)}:
        raise WorkbenchRefused(_("Une étiquette porte déjà ce nom."), field="name")
    label = Label.objects.create(call=call, name=name, colour=colour)
    append_event(AuditAction.CALL_LABEL_CREATED, call, by=by,
                 details={"label": label.pk, "name": name, "colour": colour})
    return label


@transaction.atomic
def set_label(dossier: Dossier, by, label: Label, *, present: bool) -> None:
    """Put `label` on the dossier (`present`) or take it off."""
    require_perm(by, "review.label", dossier)
    if label.call_id != dossier.call_id:
        raise WorkbenchRefused(_("Cette étiquette n'appartient pas à l'appel du dossier."),
                               field="label")
    if present:
        label.dossiers.add(dossier)
    else:
        label.dossiers.remove(dossier)
    append_event(AuditAction.DOSSIER_LABELS_CHANGED, dossier, by=by,
                 details={"label": label.pk, "present": present})


# --- saved filters -----------------------------------------------------------------------

@transaction.atomic
def save_filter(call, by, name: str, query: str) -> SavedFilter:
    """The list's current filters (its query string), saved under a name for this person (a
    name already used is replaced)."""
    require_perm(by, "review.view_call", call)
    name = name.strip()
    if not name:
        raise WorkbenchRefused(_("Nommez ce filtre."), field="name")
    saved, _created = SavedFilter.objects.update_or_create(
        user=by, call=call, name=name,
        defaults={"query": query[:1000], "created_at": server_now()})
    return saved


@transaction.atomic
def delete_filter(saved: SavedFilter, by) -> None:
    if saved.user_id != by.pk:
        raise WorkbenchRefused(_("Ce filtre ne vous appartient pas."))
    saved.delete()


# --- annotations and follows -------------------------------------------------------------

@transaction.atomic
def annotate(dossier: Dossier, by, kind: str, body: str) -> Annotation:
    """A private, structured note of the staff (never shown to applicants nor experts)."""
    require_perm(by, "review.annotate", dossier)
    if kind not in AnnotationKind.values:
        raise WorkbenchRefused(_("Choisissez la nature de l'annotation."), field="kind")
    if not body.strip():
        raise WorkbenchRefused(_("L'annotation est vide."), field="body")
    annotation = Annotation.objects.create(dossier=dossier, kind=kind, body=body.strip(),
                                           author=by, created_at=server_now())
    append_event(AuditAction.DOSSIER_ANNOTATED, dossier, by=by,
                 details={"annotation": annotation.pk, "kind": kind})
    return annotation


@transaction.atomic
def follow(dossier: Dossier, by, *, following: bool = True) -> None:
    """Follow the dossier (or stop following it); following twice changes nothing."""
    require_perm(by, "review.follow", dossier)
    if following:
        _follow, created = Follow.objects.get_or_create(
            dossier=dossier, user=by, defaults={"created_at": server_now()})
        changed = created
    else:
        changed = Follow.objects.filter(dossier=dossier, user=by).delete()[0] > 0
    if changed:
        append_event(AuditAction.DOSSIER_FOLLOWED if following
                     else AuditAction.DOSSIER_UNFOLLOWED, dossier, by=by)


@transaction.atomic
def assign_instructor(dossier: Dossier, by, instructor) -> DossierInstructor:
    """Put an instructor of the call in charge of the dossier (replacing the previous one)."""
    require_perm(by, "review.assign_instructor", dossier)
    if not CallRole.objects.filter(user=instructor, call_id=dossier.call_id,
                                   role=Role.INSTRUCTOR).exists():
        raise WorkbenchRefused(_("Cette personne n'instruit pas les dossiers de l'appel."),
                               field="instructor")
    assignment, _created = DossierInstructor.objects.update_or_create(
        dossier=dossier, defaults={"instructor": instructor, "assigned_by": by,
                                   "assigned_at": server_now()})
    append_event(AuditAction.DOSSIER_INSTRUCTOR_ASSIGNED, dossier, by=by,
                 details={"instructor": instructor.pk})
    return assignment


# --- bulk actions ------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkAction:
    permission: str
    act: Callable  # act(dossier, by, **params): one service call on one dossier


def _prepare(dossier, by, *, outcome: str, motivation: str = "", redirected_to: str = ""):
    """A pending decision; a selection awards the aid requested."""
    aid = dossier.requested_aid if outcome == Outcome.SELECTED else None
    return prepare_decision(dossier, by, outcome, awarded_aid=aid, motivation=motivation,
                            redirected_to=redirected_to)


def _request_documents(dossier, by, *, points: str, deadline: dt.datetime):
    return request_correction(dossier, by, points, deadline)


BULK_ACTIONS = {
    "add_label": BulkAction("review.label",
                            lambda d, by, label: set_label(d, by, label, present=True)),
    "remove_label": BulkAction("review.label",
                               lambda d, by, label: set_label(d, by, label, present=False)),
    "assign_instructor": BulkAction("review.assign_instructor", assign_instructor),
    "request_documents": BulkAction("review.instruct", _request_documents),
    "prepare_decision": BulkAction("review.prepare_decision", _prepare),
}


@transaction.atomic
def bulk_apply(call, by, dossier_ids: list[int], action: str, **params) -> int:
    """`action` on each selected dossier of the call, one service call per dossier (each
    audited), all in one transaction: if the person may not act on one of them, or the action
    is refused on one, nothing is changed and the message names every refused dossier. Returns
    how many dossiers were changed."""
    bulk = BULK_ACTIONS.get(action)
    if bulk is None:
        raise WorkbenchRefused(_("Action inconnue."), field="action")
    ids = list(dict.fromkeys(dossier_ids))
    if not ids:
        raise WorkbenchRefused(_("Cochez au moins un dossier."), field="ids")
    if len(ids) > MAX_BULK:
        raise WorkbenchRefused(_("Au plus %(n)d dossiers à la fois.") % {"n": MAX_BULK},
                               field="ids")
    dossiers = list(Dossier.objects.filter(call=call, pk__in=ids).exclude(
        status=DossierStatus.DRAFT).select_related("call").order_by("receipt_number", "pk"))
    if len(dossiers) != len(ids):
        raise WorkbenchRefused(_("Certains dossiers cochés n'existent pas dans cet appel."),
                               field="ids")
    not_allowed = [d.receipt_number for d in dossiers if not by.has_perm(bulk.permission, d)]
    if not_allowed:
        raise WorkbenchRefused(_("Vous n'avez pas le droit de faire cette action sur : "
                                 "%(numbers)s. Rien n'a été modifié.")
                               % {"numbers": ", ".join(not_allowed)})
    refused = []
    for dossier in dossiers:
        try:
            with transaction.atomic():
                bulk.act(dossier, by, **params)
        except ServiceError as error:
            refused.append(f"{dossier.receipt_number} ({error.message})")
    if refused:
        raise WorkbenchRefused(_("Action refusée pour : %(refused)s. Rien n'a été modifié.")
                               % {"refused": "; ".join(refused)})
    return len(dossiers)

