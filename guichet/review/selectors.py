"""Reads of the review app that other layers need: who serves a call, what waits for whom."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Exists, OuterRef

from guichet.dossiers.models import CorrectionRequest, Dossier, DossierStatus
from guichet.grants.models import (
    Grant,
    GrantStatus,
    Report,
    ReportStatus,
    Tranche,
    TrancheStatus,
)
from guichet.review.models import Assignment, CallRole, Conflict, Role


def call_staff(call, role: str) -> list[str]:
    """The e-mail addresses of the people holding `role` on `call`, in a stable order."""
    return list(CallRole.objects.filter(call=call, role=role).order_by("user__email")
                .values_list("user__email", flat=True))


@dataclass(frozen=True)
class Waiting:
    """What waits for one person, per role they hold (None: they do not hold it). One
    query per figure, whatever the number of calls or dossiers."""

    to_instruct: int | None = None
    corrections_overdue: int | None = None
    answers_received: int | None = None
    reviews_to_do: int | None = None
    next_review_due: object = None
    waves_to_decide: int | None = None
    agreements_to_sign: int | None = None
    tranches_due: int | None = None
    reports_to_review: int | None = None


def waiting_work(user, now) -> Waiting:
    roles = set(CallRole.objects.filter(user=user).values_list("role", flat=True))
    figures = {}

    def calls(role):
        return CallRole.objects.filter(user=user, role=role).values("call_id")

    if Role.INSTRUCTOR in roles:
        mine = calls(Role.INSTRUCTOR)
        figures["to_instruct"] = Dossier.objects.filter(
            call__in=mine, status=DossierStatus.SUBMITTED).count()
        figures["corrections_overdue"] = CorrectionRequest.objects.filter(
            dossier__call__in=mine, dossier__status=DossierStatus.CORRECTION_REQUESTED,
            answered_at__isnull=True, deadline__lt=now).count()
        figures["answers_received"] = Dossier.objects.filter(
            call__in=mine, status=DossierStatus.SUBMITTED,
            correction_requests__answered_at__isnull=False).distinct().count()
    if Role.EXPERT in roles:
        conflicted = Conflict.objects.filter(expert=OuterRef("expert"),
                                             dossier=OuterRef("dossier"))
        open_reviews = Assignment.objects.filter(
            expert__user=user, submitted_at__isnull=True).exclude(Exists(conflicted))
        figures["reviews_to_do"] = open_reviews.count()
        figures["next_review_due"] = open_reviews.filter(due_on__isnull=False).order_by(
            "due_on").values_list("due_on", flat=True).first()
    if Role.COMMITTEE in roles:
        figures["waves_to_decide"] = Dossier.objects.filter(
            call__in=calls(Role.COMMITTEE), status=DossierStatus.INSTRUCTED,
            wave__isnull=False).values("wave_id").distinct().count()
    if Role.ADMINISTRATOR in roles:
        mine = calls(Role.ADMINISTRATOR)
        figures["agreements_to_sign"] = Grant.objects.filter(
            dossier__call__in=mine, status=GrantStatus.COMMITTED).count()
        figures["tranches_due"] = Tranche.objects.filter(
            grant__dossier__call__in=mine, status=TrancheStatus.DUE).count()
        figures["reports_to_review"] = Report.objects.filter(
            grant__dossier__call__in=mine, status=ReportStatus.SUBMITTED).count()
    return Waiting(**figures)


# The header's count is on every staff page; its ten counts over the call's dossiers are made
# at most once a minute per person (in the cache the app servers share). The home counts live.
HEADER_COUNT_SECONDS = 60


def waiting_total(user, now) -> int:
    """Everything that waits for the person, all roles together (the header's count)."""
    return cache.get_or_set(f"waiting-total:{user.pk}",
                            lambda: total(waiting_work(user, now)), HEADER_COUNT_SECONDS)


def total(figures: Waiting) -> int:
    return sum(value for value in vars(figures).values() if isinstance(value, int))
