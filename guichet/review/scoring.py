"""Expert scores on the call's grid, and what they add up to per dossier."""

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Q,
    StdDev,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Round
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.review.models import Assignment, Score

TWO_PLACES = Decimal("0.01")


class ScoringRefused(ServiceError):
    code = "scoring_refused"


@transaction.atomic
def save_scores(assignment: Assignment, by, values: dict[str, tuple[int, str]], *,
                submit: bool = False) -> None:
    """Save the expert's draft scores (criterion -> (value, comment)); `submit` makes them
    final. Every criterion must be scored within the call's scale, with a comment under the
    threshold; a submitted review is never changed."""
    if assignment.expert.user_id != by.pk or not by.has_perm("review.score", assignment.dossier):
        raise ScoringRefused(_("Cette expertise ne vous est pas confiée."))
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.submitted_at is not None:
        raise ScoringRefused(_("Cette expertise est déjà rendue."))
    grid = assignment.dossier.call.rules().selection
    criteria = {criterion.id for criterion in grid.criteria}
    errors = _grid_errors(values, criteria, grid, complete=submit)
    if errors:
        field, message = errors[0]
        raise ScoringRefused(message, field=field, details=errors)
    for criterion, (value, comment) in values.items():
        Score.objects.update_or_create(assignment=locked, criterion=criterion,
                                       defaults={"value": value, "comment": comment.strip()})
    if submit:
        locked.submitted_at = server_now()
        locked.save(update_fields=["submitted_at"])
        append_event(AuditAction.REVIEW_SCORES_SUBMITTED, assignment.dossier, by=by,
                     details={"assignment": locked.pk})


def _grid_errors(values, criteria, grid, *, complete: bool) -> list[tuple[str, str]]:
    errors = []
    for criterion in sorted(set(values) - criteria):
        errors.append((criterion, _("Critère inconnu.")))
    for criterion in sorted(criteria):
        if criterion not in values:
            if complete:
                errors.append((criterion, _("Chaque critère doit être noté avant l'envoi.")))
            continue
        value, comment = values[criterion]
        if not grid.scale_min <= value <= grid.scale_max:
            errors.append((criterion, _("La note va de %(low)d à %(high)d.")
                           % {"low": grid.scale_min, "high": grid.scale_max}))
        elif value < grid.comment_required_below and not comment.strip():
            errors.append((criterion, _("Un commentaire est requis pour une note inférieure "
                                        "à %(n)d.") % {"n": grid.comment_required_below}))
    return errors


def weighted_mean(scores: dict[str, int], weights: dict[str, Decimal]) -> Decimal:
    total = sum(weights.values())
    return (sum(Decimal(scores[c]) * w for c, w in weights.items()) / total).quantize(
        TWO_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Aggregate:
    dossier_id: int
    expert_means: dict[int, Decimal]  # expert profile id -> weighted mean
    mean: Decimal | None
    median: Decimal | None
    spread: Decimal | None
    disagreement: bool
    normalised: Decimal | None  # mean of the experts' z-scores, rescaled to the grid


def aggregates(call, dossier_ids) -> dict[int, Aggregate]:
    """Per dossier: weighted mean, median, spread, disagreement flag and the z-score view.

    The database computes each review's weighted mean, and the experts' and the pool's
    statistics behind the z-scores: only the reviews of `dossier_ids` are read, never every
    review of the call, in three queries whatever the size of the call."""
    grid = call.rules().selection
    weights = {criterion.id: criterion.weight for criterion in grid.criteria}
    reviews = complete_reviews(call, weights)
    by_dossier = _exact_means(call, dossier_ids, weights)
    experts = {expert for means in by_dossier.values() for expert in means}
    # No complete review of these dossiers: nothing to normalise, no pool statistics to read.
    normaliser = _z_scores(reviews, experts, grid) if experts else None
    return {dossier_id: _aggregate(dossier_id, by_dossier.get(dossier_id, {}), grid, normaliser)
            for dossier_id in dossier_ids}


def _exact_means(call, dossier_ids, weights: dict[str, Decimal]) -> dict[int, dict[int, Decimal]]:
    """Each expert's weighted mean of the requested dossiers, computed exactly in Decimal from
    their scores (one query): SQLite's arithmetic is integer or binary floating point, and these
    figures are shown and compared to the cent."""
    sheets: dict[tuple[int, int, int], dict[str, int]] = {}
    for dossier_id, expert_id, assignment_id, criterion, value in Score.objects.filter(
            assignment__dossier_id__in=dossier_ids, assignment__dossier__call=call,
            assignment__submitted_at__isnull=False).values_list(
            "assignment__dossier_id", "assignment__expert_id", "assignment_id", "criterion",
            "value"):
        sheets.setdefault((dossier_id, expert_id, assignment_id), {})[criterion] = value
    by_dossier: dict[int, dict[int, Decimal]] = {}
    for (dossier_id, expert_id, _assignment), scores in sheets.items():
        if set(scores) == set(weights):  # a complete review of exactly the grid's criteria
            by_dossier.setdefault(dossier_id, {})[expert_id] = weighted_mean(scores, weights)
    return by_dossier


def complete_reviews(call, weights: dict[str, Decimal]):
    """The call's sent reviews that score exactly the grid's criteria, each annotated with its
    weighted `mean`, rounded half up to the cent as `weighted_mean` rounds it."""
    # Never an integer division: SQLite's CAST AS NUMERIC keeps integers integral (18 / 5 = 3),
    # so there the values are read as REAL; PostgreSQL's numeric stays exact.
    value = Cast("value", FloatField() if connection.vendor == "sqlite" else MEAN_FIELD)
    weighted = Sum(Case(*(When(criterion=criterion, then=ExpressionWrapper(
                              value * Value(weight), output_field=MEAN_FIELD))
                          for criterion, weight in weights.items()),
                        output_field=MEAN_FIELD))
    per_review = Score.objects.filter(assignment=OuterRef("pk")).values("assignment").annotate(
        mean=Round(weighted / Value(sum(weights.values())), 2, output_field=MEAN_FIELD),
        scored=Count("pk", filter=Q(criterion__in=list(weights))), given=Count("pk"),
    ).filter(scored=len(weights), given=len(weights)).values("mean")
    return Assignment.objects.filter(dossier__call=call, submitted_at__isnull=False).annotate(
        mean=Subquery(per_review, output_field=MEAN_FIELD)).filter(mean__isnull=False)


MEAN_FIELD = DecimalField(max_digits=20, decimal_places=6)


def _decimal(value) -> Decimal | None:
    """A figure from the database as a Decimal (SQLite answers floats)."""
    return None if value is None else Decimal(str(value)) if isinstance(value, float) else value


def _aggregate(dossier_id, means: dict[int, Decimal], grid, normaliser) -> Aggregate:
    if not means:
        return Aggregate(dossier_id, {}, None, None, None, False, None)
    values = list(means.values())
    spread = max(values) - min(values)
    mean = (sum(values) / len(values)).quantize(TWO_PLACES, ROUND_HALF_UP)
    normalised = [normaliser(expert, value) for expert, value in means.items()]
    return Aggregate(
        dossier_id, means, mean, Decimal(statistics.median(values)).quantize(TWO_PLACES),
        spread, spread > grid.disagreement_spread,
        (sum(normalised) / len(normalised)).quantize(TWO_PLACES, ROUND_HALF_UP))


def _z_scores(reviews, experts: set[int], grid):
    """Each expert's means turned into z-scores (against harsh or lenient experts), mapped
    back onto the grid around the pool's mean and spread, so the figures stay readable; the
    statistics come from the database (population standard deviations)."""
    pool = reviews.aggregate(count=Count("pk"), average=Avg("mean"),
                             deviation=StdDev("mean", sample=False))
    if pool["count"] < 2:
        return lambda expert, value: value
    pool_mean = _decimal(pool["average"])
    pool_sd = _decimal(pool["deviation"]) or Decimal(1)
    stats = {row["expert"]: (row["count"], _decimal(row["average"]), _decimal(row["deviation"]))
             for row in reviews.filter(expert__in=experts).values("expert").annotate(
                 count=Count("pk"), average=Avg("mean"), deviation=StdDev("mean", sample=False))}

    def normalise(expert: int, value: Decimal) -> Decimal:
        count, mean, sd = stats[expert]
        if count < 2 or not sd:
            return value - mean + pool_mean  # too few reviews for a spread: shift only
        return pool_mean + (value - mean) / sd * pool_sd

    return normalise
