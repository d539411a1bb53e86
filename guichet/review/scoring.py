"""Expert scores on the call's grid, and what they add up to per dossier."""

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
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
    """Per dossier: weighted mean, median, spread, disagreement flag and the z-score view."""
    grid = call.rules().selection
    weights = {criterion.id: criterion.weight for criterion in grid.criteria}
    submitted = Assignment.objects.filter(dossier__call=call, submitted_at__isnull=False)\
        .prefetch_related("scores")
    by_dossier: dict[int, dict[int, Decimal]] = {}
    by_expert: dict[int, list[Decimal]] = {}
    for assignment in submitted:
        scores = {score.criterion: score.value for score in assignment.scores.all()}
        if set(scores) != set(weights):
            continue
        mean = weighted_mean(scores, weights)
        by_dossier.setdefault(assignment.dossier_id, {})[assignment.expert_id] = mean
        by_expert.setdefault(assignment.expert_id, []).append(mean)
    normaliser = _z_scores(by_expert, grid)
    return {dossier_id: _aggregate(dossier_id, by_dossier.get(dossier_id, {}), grid, normaliser)
            for dossier_id in dossier_ids}


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


def _z_scores(by_expert: dict[int, list[Decimal]], grid):
    """Each expert's means turned into z-scores (against harsh or lenient experts), mapped
    back onto the grid around the pool's mean and spread, so the figures stay readable."""
    everything = [v for values in by_expert.values() for v in values]
    if len(everything) < 2:
        return lambda expert, value: value
    pool_mean = Decimal(statistics.mean(everything))
    pool_sd = Decimal(statistics.pstdev(everything)) or Decimal(1)
    stats = {expert: (Decimal(statistics.mean(v)), Decimal(statistics.pstdev(v)))
             for expert, v in by_expert.items()}

    def normalise(expert: int, value: Decimal) -> Decimal:
        mean, sd = stats[expert]
        if len(by_expert[expert]) < 2 or not sd:
            return value - mean + pool_mean  # too few reviews for a spread: shift only
        return pool_mean + (value - mean) / sd * pool_sd

    return normalise
