"""The expert pool of a call, conflicts of interest, and the optimal assignment."""

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.services import append_event
from guichet.calls.models import Call, Wave
from guichet.core.clock import now as server_now
from guichet.core.clock import site_url
from guichet.core.errors import ServiceError
from guichet.dossiers.models import ConsortiumMember, Dossier, DossierStatus, Organisation
from guichet.review.instruction import require_perm
from guichet.review.models import Assignment, CallRole, Conflict, ExpertProfile, Role
from guichet.rules.assignment import parse_assignment_instance, solve_assignment


class ExpertRefused(ServiceError):
    code = "expert_refused"


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
    send_mail(_("Invitation à expertiser les dossiers de l'appel %(call)s") % {"call": call.name},
              _("Vous êtes invité(e) comme expert(e). Connectez-vous (ou choisissez un mot de "
                "passe) : %(link)s") % {"link": site_url(reverse("account_reset_password"))},
              None, [email])
    append_event("call.expert_invited", call, by=by, details={"email": email})
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
    append_event("review.conflict_declared", dossier, by=expert.user,
                 details={"expert": expert.pk})
    return conflict


def reviewable_dossiers(wave: Wave):
    """Dossiers whose instruction confirmed admissibility and eligibility."""
    return Dossier.objects.filter(wave=wave, status=DossierStatus.INSTRUCTED,
                                  instruction__admissible=True, instruction__eligible=True)


def assignment_instance(wave: Wave, kept: frozenset[tuple[int, int]] = frozenset()) -> dict:
    """The wave's assignment problem in the contract's format (auditable with `guichet
    assign`): pairs with a positive affinity are listed, unlisted ones allowed at 0.

    `kept` (dossier id, expert id) pairs are reviews already under way: they get a bonus larger
    than all other affinities together, so that every optimal assignment keeps them and
    optimises the rest. Loads are what the experts have left on the call after other waves.
    """
    call = wave.call
    dossiers = list(reviewable_dossiers(wave).order_by("pk"))
    experts = list(ExpertProfile.objects.filter(call=call).order_by("pk"))
    selection = call.rules().selection
    reviews = selection.reviews_per_dossier
    bonus = keep_bonus(len(dossiers), reviews)
    elsewhere = dict(Assignment.objects.filter(dossier__call=call).exclude(dossier__wave=wave)
                     .values("expert").annotate(n=Count("pk")).values_list("expert", "n"))
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
        "loads": {f"e{e.pk}": max(e.max_load - elsewhere.get(e.pk, 0), 0) for e in experts},
        "dossiers": [f"d{d.pk}" for d in dossiers], "experts": [f"e{e.pk}" for e in experts],
        "affinity": affinities, "allow_unlisted": True,
        "conflicts": [[f"d{c.dossier_id}", f"e{c.expert_id}"] for c in conflicts],
    }


@dataclass(frozen=True)
class AssignmentSummary:
    pairs: int
    kept: int
    objective: float
    upper_bound: float
    optimal: bool
    weakest_dossier: tuple[str, float] | None


def keep_bonus(dossiers: int, reviews: int) -> int:
    """More than the largest total affinity of all other pairs (each affinity is at most 1)."""
    return dossiers * reviews + 1


@transaction.atomic
def assign_experts(wave: Wave, by):
    """Solve the wave's assignment optimally and store it; reviews already under way (with
    scores) are kept and count toward the dossier's reviews and the expert's load."""
    require_perm(by, "review.assign_experts", wave.call)
    refresh_automatic_conflicts(wave.call)
    Assignment.objects.filter(dossier__wave=wave, submitted_at__isnull=True,
                              scores__isnull=True).delete()
    kept = frozenset(Assignment.objects.filter(dossier__wave=wave)
                     .values_list("dossier_id", "expert_id"))
    instance = assignment_instance(wave, kept)
    result = solve_assignment(parse_assignment_instance(json.dumps(instance)))
    if result.status == "infeasible":
        raise ExpertRefused(_("Affectation impossible : %(reason)s") % {"reason": result.reason})
    bonus = keep_bonus(len(instance["dossiers"]), instance["reviews_per_dossier"])
    scores = {(d, e): a for d, e, a in instance["affinity"]}
    new_pairs = [(int(d[1:]), int(e[1:])) for d, e in result.pairs]
    now = server_now()
    Assignment.objects.bulk_create(
        Assignment(dossier_id=d, expert_id=e, affinity=scores.get((f"d{d}", f"e{e}"), 0),
                   created_at=now)
        for d, e in new_pairs if (d, e) not in kept)
    kept_in_result = sum(1 for pair in new_pairs if pair in kept)
    summary = AssignmentSummary(
        pairs=len(new_pairs), kept=kept_in_result, optimal=result.optimal,
        objective=result.objective - bonus * kept_in_result,
        upper_bound=result.upper_bound - bonus * kept_in_result,
        weakest_dossier=result.weakest_dossier)
    append_event("review.experts_assigned", wave.call, by=by,
                 details={"wave": wave.code, **asdict(summary)})
    return summary


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
                  "created_at": server_now()})
    if created:
        append_event("review.expert_added", dossier, by=by, details={"expert": expert.pk})
    return assignment


@transaction.atomic
def remove_assignment(assignment: Assignment, by) -> None:
    require_perm(by, "review.assign_experts", assignment.dossier.call)
    if assignment.submitted_at is not None:
        raise ExpertRefused(_("Cette expertise est déjà rendue."))
    append_event("review.expert_removed", assignment.dossier, by=by,
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

