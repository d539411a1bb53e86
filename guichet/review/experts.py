"""The expert pool of a call, conflicts of interest, and the optimal assignment."""

import datetime as dt
import json
from dataclasses import asdict, dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, Wave
from guichet.core.clock import in_paris
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.dossiers.models import ConsortiumMember, Dossier, DossierStatus, Organisation
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
from guichet.review.models import Assignment, CallRole, Conflict, ExpertProfile, Role
from guichet.rules.assignment import parse_assignment_instance, solve_assignment


class ExpertRefused(ServiceError):
    code = "expert_refused"


def review_due_on(assigned_at) -> dt.date:
    """The day a review assigned at `assigned_at` is expected: REVIEW_DAYS later (Paris)."""
    return in_paris(assigned_at).date() + dt.timedelta(days=settings.REVIEW_DAYS)


def keyword_set(text: str) -> frozenset[str]:
    return frozenset(word.strip().lower() for word in text.split(",") if word.strip())


def affinity(expert: ExpertProfile, dossier: Dossier, selection) -> float:
    """How well an expert fits a dossier, in [0, 1] (a matching score, not money): the call's
    weight for sharing the dossier's sector, plus its keyword weight × the Jaccard index
    (`selection` is the call definition's selection settings)."""
    score = Decimal(0)
    if dossier.sector and dossier.sector in expert.sectors:
        score += selection.affinity_sector_weight
    ours, theirs = keyword_set(expert.keywords), keyword_set(dossier.keywords)
    if ours and theirs:
        score += selection.affinity_keyword_weight * len(ours & theirs) / len(ours | theirs)
    return float(score.quantize(Decimal("0.0001")))


@transaction.atomic
def invite_expert(call: Call, email: str, by, *, sectors: list[str], keywords: str = "",
                  max_load: int = 8, organisation: Organisation | None = None) -> ExpertProfile:
    """Add an expert to the call's pool; a new person gets an account and a mail to set a
    password (through the password reset page)."""
    require_perm(by, "review.manage_experts", call)
    known = {sector.id for sector in call.rules().sectors}
    unknown = sorted(set(sectors) - known)
    if unknown:
        raise ExpertRefused(_("Filière inconnue : %(ids)s.") % {"ids": ", ".join(unknown)},
                            field="sectors")
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password=None)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    profile, _created = ExpertProfile.objects.update_or_create(
        user=user, call=call, defaults={"sectors": sorted(set(sectors)), "keywords": keywords,
                                        "max_load": max_load, "organisation": organisation})
    CallRole.objects.get_or_create(user=user, call=call, role=Role.EXPERT)
    refresh_automatic_conflicts(call, experts=[profile])
    notify(Kind.EXPERT_INVITED, call=call.pk, email=email)
    append_event(AuditAction.CALL_EXPERT_INVITED, call, by=by, details={"email": email})
    return profile


def refresh_automatic_conflicts(call: Call, experts=None) -> int:
    """An expert whose organisation shares a SIREN with a consortium member is in conflict."""
    experts = experts or ExpertProfile.objects.filter(call=call, organisation__isnull=False)
    created = 0
    for expert in experts:
        if expert.organisation is None:
            continue
        siren = expert.organisation.siret[:9]
        dossier_ids = ConsortiumMember.objects.filter(
            organisation__siret__startswith=siren, consortium__dossiers__call=call
        ).values_list("consortium__dossiers", flat=True)
        for dossier_id in set(dossier_ids):
            _conflict, was_created = Conflict.objects.get_or_create(
                expert=expert, dossier_id=dossier_id,
                defaults={"source": Conflict.Source.AUTOMATIC,
                          "reason": _("même SIREN %(siren)s") % {"siren": siren}})
            created += was_created
    return created


@transaction.atomic
def declare_conflict(expert: ExpertProfile, dossier: Dossier, reason: str) -> Conflict:
    """The expert declares a conflict: the dossier disappears from their reach at once."""
    if not reason.strip():
        raise ExpertRefused(_("Indiquez la nature du conflit d'intérêts."), field="reason")
    conflict, _created = Conflict.objects.get_or_create(
        expert=expert, dossier=dossier,
        defaults={"source": Conflict.Source.DECLARED, "reason": reason.strip()})
    Assignment.objects.filter(expert=expert, dossier=dossier, submitted_at__isnull=True).delete()
    append_event(AuditAction.REVIEW_CONFLICT_DECLARED, dossier, by=expert.user,
                 details={"expert": expert.pk})
    return conflict


def reviewable_dossiers(wave: Wave):
    """Dossiers whose instruction confirmed admissibility and eligibility."""
    return Dossier.objects.filter(wave=wave, status=DossierStatus.INSTRUCTED,
                                  instruction__admissible=True, instruction__eligible=True)


def assignment_instance(wave: Wave, kept: frozenset[tuple[int, int]] = frozenset(),
                        dossiers: list[Dossier] | None = None) -> dict:
    """The wave's assignment problem in the contract's format (auditable with `guichet
    assign`): pairs with a positive affinity are listed, unlisted ones allowed at 0.

    `kept` (dossier id, expert id) pairs are reviews already under way: they get a bonus larger
    than all other affinities together, so that every optimal assignment keeps them and
    optimises the rest. Loads are what the experts have left on the call after other waves.
    `dossiers`: the ones to assign (by default every reviewable dossier of the wave).
    """
    call = wave.call
    if dossiers is None:
        dossiers = list(reviewable_dossiers(wave).order_by("pk"))
    experts = list(ExpertProfile.objects.filter(call=call).order_by("pk"))
    selection = call.rules().selection
    reviews = selection.reviews_per_dossier
    bonus = keep_bonus(len(dossiers), reviews)
    loads = remaining_loads(wave, experts)
    conflicts = Conflict.objects.filter(expert__call=call, dossier__in=dossiers)
    affinities = []
    for d in dossiers:
        for e in experts:
            score = affinity(e, d, selection) + (bonus if (d.pk, e.pk) in kept else 0)
            if score > 0:
                affinities.append([f"d{d.pk}", f"e{e.pk}", score])
    return {
        "reviews_per_dossier": reviews,
        "max_load": max((e.max_load for e in experts), default=0),
        "loads": {f"e{e.pk}": loads[e.pk] for e in experts},
        "dossiers": [f"d{d.pk}" for d in dossiers], "experts": [f"e{e.pk}" for e in experts],
        "affinity": affinities, "allow_unlisted": True,
        "conflicts": [[f"d{c.dossier_id}", f"e{c.expert_id}"] for c in conflicts],
    }


def remaining_loads(wave: Wave, experts) -> dict[int, int]:
    """What each expert can still take in this wave: their load on the call less the reviews
    they have in other waves."""
    elsewhere = dict(Assignment.objects.filter(dossier__call=wave.call)
                     .exclude(dossier__wave=wave).values("expert")
                     .annotate(n=Count("pk")).values_list("expert", "n"))
    return {e.pk: max(e.max_load - elsewhere.get(e.pk, 0), 0) for e in experts}


class NoExpert(models.TextChoices):
    """Why a dossier of the wave got no expert from an assignment run."""

    AWAITING_INSTRUCTION = "awaiting_instruction", _("instruction pas encore terminée")
    NOT_ELIGIBLE = "not_eligible", _("déclaré irrecevable ou inéligible à l'instruction")
    CONFLICTS = "conflicts", _("pas assez d'experts libres de conflit d'intérêts")
    LOADS_EXHAUSTED = "loads_exhausted", _("les experts libres de conflit ont atteint leur "
                                           "charge maximale")


@dataclass(frozen=True)
class Unassigned:
    dossier: int
    receipt_number: str
    reason: str  # a NoExpert value
    free_experts: int  # experts free of conflict (with load left, for LOADS_EXHAUSTED)


@dataclass(frozen=True)
class AssignmentSummary:
    """What a run did: reviews kept because under way, assignments unchanged, made, removed;
    and the dossiers of the wave left without the reviews they need, with the reason."""

    pairs: int
    kept: int
    unchanged: int
    created: int
    removed: int
    objective: float
    upper_bound: float
    optimal: bool
    weakest_dossier: tuple[str, float] | None
    reviews_per_dossier: int = 0
    unassigned: tuple[Unassigned, ...] = ()


def keep_bonus(dossiers: int, reviews: int) -> int:
    """More than the largest total affinity of all other pairs (each affinity is at most 1)."""
    return dossiers * reviews + 1


@transaction.atomic
def assign_experts(wave: Wave, by) -> AssignmentSummary:
    """Solve the wave's assignment optimally and store it.

    Reviews already under way (with scores, or sent) are kept and count toward the dossier's
    reviews and the expert's load. Other assignments are re-optimised: those the optimum keeps
    are left untouched, the others removed. A dossier that cannot get its reviews (not
    reviewable yet, too few experts free of conflict, loads exhausted) gets none and is
    reported with the reason, so that the others are still assigned."""
    require_perm(by, "review.assign_experts", wave.call)
    refresh_automatic_conflicts(wave.call)
    reviews = wave.call.rules().selection.reviews_per_dossier
    existing = list(Assignment.objects.filter(dossier__wave=wave).annotate(
        scored=Count("scores")).values_list("pk", "dossier_id", "expert_id", "submitted_at",
                                            "scored"))
    started = frozenset((d, e) for _pk, d, e, sent, scored in existing if sent or scored)
    dossiers, unassigned = _assignable(wave, started, reviews)
    instance = assignment_instance(wave, started, dossiers)
    result = solve_assignment(parse_assignment_instance(json.dumps(instance)))
    if result.status == "infeasible":
        raise ExpertRefused(_("Affectation impossible : les experts libres de conflit n'ont "
                              "pas assez de charge disponible pour donner %(n)d expertises à "
                              "chacun des %(count)d dossiers à expertiser.")
                            % {"n": reviews, "count": len(dossiers)})
    bonus = keep_bonus(len(instance["dossiers"]), reviews)
    scores = {(d, e): a for d, e, a in instance["affinity"]}
    chosen = {(int(d[1:]), int(e[1:])) for d, e in result.pairs}
    unstarted = {(d, e): pk for pk, d, e, sent, scored in existing if not (sent or scored)}
    removed = [pk for pair, pk in unstarted.items() if pair not in chosen]
    Assignment.objects.filter(pk__in=removed).delete()
    created = chosen - started - set(unstarted)
    now = server_now()
    Assignment.objects.bulk_create(
        Assignment(dossier_id=d, expert_id=e, affinity=scores.get((f"d{d}", f"e{e}"), 0),
                   created_at=now, due_on=review_due_on(now)) for d, e in sorted(created))
    for expert in sorted({e for _d, e in created}):
        notify(Kind.EXPERT_ASSIGNED, expert=expert,
               dossiers=sorted(d for d, e in created if e == expert))
    kept_in_result = len(chosen & started)
    summary = AssignmentSummary(
        pairs=len(chosen), kept=kept_in_result, unchanged=len(chosen & set(unstarted)),
        created=len(created), removed=len(removed), optimal=result.optimal,
        objective=result.objective - bonus * kept_in_result,
        upper_bound=result.upper_bound - bonus * kept_in_result,
        weakest_dossier=result.weakest_dossier, reviews_per_dossier=reviews,
        unassigned=tuple(unassigned))
    append_event(AuditAction.REVIEW_EXPERTS_ASSIGNED, wave.call, by=by,
                 details={"wave": wave.code, **asdict(summary)})
    return summary


def _assignable(wave: Wave, started: frozenset[tuple[int, int]],
                reviews: int) -> tuple[list[Dossier], list[Unassigned]]:
    """The wave's dossiers the assignment can serve, and those it cannot, with the reason.

    Loads are shared: dossiers are served in turn (those with reviews under way first, then
    in order of receipt), each reserving `reviews` experts free of conflict with load left (its
    started reviews first, then the experts with the most load left). The reservations are an
    assignment, so the dossiers kept can all be assigned; the optimiser then finds the best."""
    waiting = Dossier.objects.filter(wave=wave).exclude(
        status__in=[DossierStatus.DRAFT, DossierStatus.SELECTED, DossierStatus.REJECTED,
                    DossierStatus.REDIRECTED]).select_related("instruction").order_by("pk")
    experts = list(ExpertProfile.objects.filter(call=wave.call).order_by("pk"))
    load_left = remaining_loads(wave, experts)
    conflicts = set(Conflict.objects.filter(dossier__wave=wave)
                    .values_list("dossier_id", "expert_id"))
    under_way = {dossier for dossier, _expert in started}
    assignable, unassigned = [], []

    def left_out(dossier, reason, free=0):
        unassigned.append(Unassigned(dossier.pk, dossier.receipt_number or "", reason, free))

    for dossier in sorted(waiting, key=lambda d: (d.pk not in under_way, d.pk)):
        instruction = getattr(dossier, "instruction", None)
        if dossier.status != DossierStatus.INSTRUCTED or instruction is None:
            left_out(dossier, NoExpert.AWAITING_INSTRUCTION)
            continue
        if not (instruction.admissible and instruction.eligible):
            left_out(dossier, NoExpert.NOT_ELIGIBLE)
            continue
        free = [e.pk for e in experts if (dossier.pk, e.pk) not in conflicts]
        if len(free) < reviews:
            left_out(dossier, NoExpert.CONFLICTS, len(free))
            continue
        available = sorted((e for e in free if load_left[e] > 0),
                           key=lambda e: ((dossier.pk, e) not in started, -load_left[e], e))
        if len(available) < reviews:
            left_out(dossier, NoExpert.LOADS_EXHAUSTED, len(available))
            continue
        for e in available[:reviews]:
            load_left[e] -= 1
        assignable.append(dossier)
    unassigned.sort(key=lambda item: item.dossier)
    return sorted(assignable, key=lambda d: d.pk), unassigned


@transaction.atomic
def add_assignment(dossier: Dossier, expert: ExpertProfile, by) -> Assignment:
    """A manual adjustment: conflicts and the expert's load are still enforced."""
    require_perm(by, "review.assign_experts", dossier.call)
    if Conflict.objects.filter(expert=expert, dossier=dossier).exists() or _same_siren(
            expert, dossier):
        raise ExpertRefused(_("Cet expert est en conflit d'intérêts avec ce dossier."))
    load = Assignment.objects.filter(expert=expert, dossier__call=dossier.call).count()
    if load >= expert.max_load:
        raise ExpertRefused(_("Cet expert a atteint sa charge maximale (%(n)d dossiers).")
                            % {"n": expert.max_load})
    assignment, created = Assignment.objects.get_or_create(
        dossier=dossier, expert=expert,
        defaults={"affinity": affinity(expert, dossier, dossier.call.rules().selection),
                  "manual": True,
                  "created_at": server_now(), "due_on": review_due_on(server_now())})
    if created:
        append_event(AuditAction.REVIEW_EXPERT_ADDED, dossier, by=by, details={"expert": expert.pk})
        notify(Kind.EXPERT_ASSIGNED, expert=expert.pk, dossiers=[dossier.pk])
    return assignment


@transaction.atomic
def remove_assignment(assignment: Assignment, by) -> None:
    require_perm(by, "review.assign_experts", assignment.dossier.call)
    if assignment.submitted_at is not None:
        raise ExpertRefused(_("Cette expertise est déjà rendue."))
    append_event(AuditAction.REVIEW_EXPERT_REMOVED, assignment.dossier, by=by,
                 details={"expert": assignment.expert_id})
    assignment.delete()


def _same_siren(expert: ExpertProfile, dossier: Dossier) -> bool:
    if expert.organisation is None:
        return False
    return dossier.consortium.members.filter(
        organisation__siret__startswith=expert.organisation.siret[:9]).exists()


def expert_loads(call: Call):
    return ExpertProfile.objects.filter(call=call).select_related("user").annotate(
        load=Count("assignments", filter=Q(assignments__dossier__call=call)))

