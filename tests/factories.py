"""Factories for database records (factory_boy) and interchange documents."""

import datetime as dt
import hashlib
import itertools
import json
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.files.base import ContentFile

from guichet.accounts.models import User
from guichet.core.clock import now
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import (
    Affiliation,
    Consortium,
    ConsortiumMember,
    Document,
    Dossier,
    DossierStatus,
    Organisation,
    Participant,
)
from guichet.dossiers.search import document_text
from guichet.dossiers.services import import_dossier, submit
from guichet.grants.decisions import prepare_decision, publish_decisions
from guichet.grants.models import (
    Decision,
    DecisionStatus,
    Grant,
    Outcome,
    Payment,
    Tranche,
    TrancheStatus,
)
from guichet.review.instruction import record_instruction
from guichet.review.models import Assignment, CallRole, Conflict, ExpertProfile, Role
from guichet.rules.grants import tranche_amounts
from guichet.rules.siret import make_siret

_serial = itertools.count(1)
# The refusal of guichet.core.permissions.require_perm, for pytest.raises(match=...).
NOT_ALLOWED = "Vous n'avez pas le droit de faire cette action"


def fresh_siret() -> str:
    number = next(_serial)
    return make_siret(f"{40_000_000 + number:08d}", f"{number % 10_000:04d}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    siret = factory.LazyFunction(fresh_siret)
    name = factory.Sequence(lambda n: f"Organisme {n}")


class ConsortiumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consortium

    name = factory.Sequence(lambda n: f"Consortium {n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsortiumMember

    consortium = factory.SubFactory(ConsortiumFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.SelfAttribute("organisation.name")
    kind = "training_network"
    is_lead = False


class DocumentFactory(factory.django.DjangoModelFactory):
    """An attachment record without a file (as an imported one): give `dossier`."""

    class Meta:
        model = Document

    kind = "cv"
    original_name = factory.LazyAttribute(lambda document: f"{document.kind}.pdf")
    sha256 = "0" * 64
    size = 1
    uploaded_at = factory.LazyFunction(now)


def document_with_fresh_sirets(document: dict) -> dict:
    """The same dossier with members renumbered, so several can coexist in one database."""
    renumber = {member["siret"]: fresh_siret() for member in document["members"]}
    text = json.dumps(document)
    for old, new in renumber.items():
        text = text.replace(old, new)
    return json.loads(text)


def attach_required_documents(dossier) -> None:
    """Every required attachment of the call, as a small valid PDF."""
    content = blank_pdf()
    for kind in dossier.call.rules().required_documents:
        document = Document(dossier=dossier, kind=kind.id, original_name=f"{kind.id}.pdf",
                            sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                            uploaded_at=now())
        document.file.save("document.pdf", ContentFile(content), save=True)


def make_document(dossier, kind: str, original_name: str, content: bytes | None = None):
    """A document of `dossier` stored as uploaded under `original_name` (a small valid PDF
    unless `content` is given)."""
    content = content or blank_pdf()
    document = Document(dossier=dossier, kind=kind, original_name=original_name,
                        sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                        uploaded_at=now())
    document.file.save("document.pdf", ContentFile(content), save=True)
    return document


def make_dossier(document: dict, *, with_documents: bool = True):
    """A draft dossier stored through the import service (fresh SIRETs each time), with its
    required attachments unless told otherwise."""
    payload = json.dumps(document_with_fresh_sirets(document)).encode()
    dossier = import_dossier(payload).dossier
    if with_documents:
        attach_required_documents(dossier)
    return dossier


def make_user(email: str, organisations=(), password: str = "Formation-Hybride-2021!"):
    """A confirmed account acting for `organisations`."""
    user = User.objects.create_user(email, password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    for organisation in organisations:
        Affiliation.objects.create(user=user, organisation=organisation)
    return user


def take_part(user, member, how: str = "invitation"):
    """`user` takes part in the member's consortium for `member` (what an accepted invitation,
    or the creation of the dossier for the lead, records)."""
    return Participant.objects.create(user=user, member=member, joined_at=now(), how=how)


def make_applicant(email: str, member):
    """A confirmed account acting for the member's organisation and taking part for it."""
    user = make_user(email, [member.organisation])
    take_part(user, member, "created" if member.is_lead else "invitation")
    return user


def lead_and_member(dossier):
    """Two accounts taking part in the dossier: one for the lead member, one for the first
    other member."""
    members = list(dossier.consortium.members.select_related("organisation"))
    lead = next(m for m in members if m.is_lead)
    other = next(m for m in members if not m.is_lead)
    return (make_applicant(f"lead{dossier.pk}@example.fr", lead),
            make_applicant(f"member{dossier.pk}@example.fr", other))


def bulk_submitted_dossiers(call, count: int, *, wave=None, start: int = 0) -> None:
    """Many submitted dossiers at once (list pages and benchmarks): a consortium of two,
    figures copied onto the dossier as a submission does, in a handful of bulk inserts."""
    wave = wave or call.waves.order_by("position").first()
    regions = ["11", "84", "93", "76", "32", "44"]
    sectors = [sector.id for sector in call.rules().sectors]
    organisations = Organisation.objects.bulk_create(
        Organisation(siret=make_siret(f"{60_000_000 + start + n:08d}", "0010"),
                     name=f"Organisme {start + n}", region=regions[n % len(regions)])
        for n in range(count))
    consortia = Consortium.objects.bulk_create(
        Consortium(name=f"Consortium {start + n}") for n in range(count))
    leads = ConsortiumMember.objects.bulk_create(
        ConsortiumMember(consortium=consortium, organisation=organisation, is_lead=True,
                         name=organisation.name, kind="training_network", confirmed_at=now())
        for consortium, organisation in zip(consortia, organisations, strict=True))
    received = wave.opens_at
    Dossier.objects.bulk_create(
        Dossier(call=call, consortium=consortium, wave=wave, status=DossierStatus.SUBMITTED,
                receipt_number=f"{call.code.upper()}-{wave.code.upper()}-B{start + n:07d}",
                title=f"Projet {start + n}", scope="national", sector=sectors[n % len(sectors)],
                requested_aid=Decimal(350_000 + (n * 7919) % 4_000_000),
                eligible_at_receipt=n % 9 != 0,
                received_at=received + dt.timedelta(minutes=(n * 7907) % 100_000),
                search_text=document_text(f"Projet {start + n}", "", [lead]))
        for n, (consortium, lead) in enumerate(zip(consortia, leads, strict=True)))


def give_roles(user, call, *roles: str) -> None:
    """`user` holds `roles` on `call`."""
    for role in roles:
        CallRole.objects.create(user=user, call=call, role=role)


def staff(call, email: str, *roles: str, password: str = "Formation-Hybride-2021!"):
    """A confirmed account with staff roles on `call`."""
    user = make_user(email, password=password)
    give_roles(user, call, *roles)
    return user


def expert_profile(user, call, *, sectors=("btp",), **fields) -> ExpertProfile:
    """`user` in the call's pool of experts (the expert role and a profile), stored directly:
    no automatic conflict refresh, as the services would do."""
    give_roles(user, call, Role.EXPERT)
    return ExpertProfile.objects.create(user=user, call=call, sectors=list(sectors), **fields)


def make_expert(call, email: str, **profile) -> ExpertProfile:
    """A new confirmed account in the call's pool of experts (see expert_profile)."""
    return expert_profile(make_user(email), call, **profile)


def assign(dossier, expert: ExpertProfile, created_at=None) -> Assignment:
    """The expert assigned to review the dossier, stored directly (not through add_assignment,
    which checks conflicts and the wave)."""
    return Assignment.objects.create(dossier=dossier, expert=expert,
                                     created_at=created_at or now())


def declare_conflict(expert: ExpertProfile, dossier, reason: str = "Ancien salarié.") -> Conflict:
    """A conflict of interest the expert declared on the dossier."""
    return Conflict.objects.create(expert=expert, dossier=dossier,
                                   source=Conflict.Source.DECLARED, reason=reason)


def database_state() -> dict[str, list[dict]]:
    """Every row of every Guichet table, to show that a request or a refused action changed
    nothing (sessions and other framework tables are left out)."""
    return {model._meta.label: list(model.objects.order_by("pk").values())
            for model in apps.get_models() if model.__module__.startswith("guichet.")}


def decided_dossier(call, document: dict):
    """A dossier submitted in the call's first wave, instructed, selected for its full aid and
    published by staff made for it: its grant is committed."""
    dossier = make_dossier(document)
    first_wave = call.waves.order_by("position").first()
    team = {role: staff(call, f"{role}.{dossier.pk}@example.fr", role)
            for role in (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)}
    submit(dossier, now=first_wave.closes_at - dt.timedelta(days=1))
    record_instruction(dossier, team[Role.INSTRUCTOR], admissible=True, eligible=True)
    dossier.refresh_from_db()
    prepare_decision(dossier, team[Role.COMMITTEE], Outcome.SELECTED,
                     awarded_aid=dossier.requested_aid)
    publish_decisions(first_wave, team[Role.ADMINISTRATOR])
    dossier.refresh_from_db()
    return dossier


def published_decision(dossier, by, at, **fields) -> Decision:
    """A published decision selecting the dossier, stored directly (no commitment, no grant):
    for tests that set a grant's state and instants themselves."""
    fields.setdefault("awarded_aid", dossier.requested_aid)
    return Decision.objects.create(dossier=dossier, outcome=Outcome.SELECTED,
                                   status=DecisionStatus.PUBLISHED, prepared_by=by,
                                   prepared_at=at, published_at=at, **fields)


def stored_grant(decision, by, *, paid: int = 0, first_paid_on=None, **fields) -> Grant:
    """The grant of a published decision stored directly, with the call's tranches; the first
    `paid` of them paid, recorded by `by` (tranche n on `first_paid_on` + n − 1 years)."""
    dossier = decision.dossier
    grant = Grant.objects.create(dossier=dossier, decision=decision, wave=dossier.wave,
                                 award=decision.awarded_aid, **fields)
    rules = dossier.call.rules().tranches
    amounts = tranche_amounts(grant.award, [tranche.share for tranche in rules])
    for number, (tranche, amount) in enumerate(zip(rules, amounts, strict=True), start=1):
        row = Tranche.objects.create(
            grant=grant, number=number, label=tranche.label, trigger=tranche.trigger,
            scheduled_amount=amount, amount=amount if number <= paid else None,
            status=TrancheStatus.PAID if number <= paid else TrancheStatus.SCHEDULED)
        if number <= paid:
            make_payment(row, amount, by,
                         paid_on=first_paid_on.replace(year=first_paid_on.year + number - 1),
                         reference=f"VIR-{dossier.pk}-{number}",
                         recorded_at=grant.signed_at or grant.committed_at)
    return grant


def make_payment(tranche, amount, by, **fields) -> Payment:
    """A payment (or, negative, a reversal) of the tranche stored directly, recorded by `by`."""
    fields.setdefault("recorded_at", now())
    return Payment.objects.create(tranche=tranche, amount=amount, recorded_by=by, **fields)


PORTAL_STEPS = ("projet", "consortium", "calendrier", "budget", "financement", "hybridation",
                "documents", "depot")


def portal_addresses(dossier) -> list[str]:
    """Every address of the applicant portal about one dossier (the first of its documents)."""
    base = f"/dossiers/{dossier.pk}"
    document = dossier.documents.first()
    return [base + "/", *(f"{base}/etape/{step}/" for step in PORTAL_STEPS),
            f"{base}/verdict/", f"{base}/messages/", f"{base}/decision.pdf",
            f"{base}/subvention/", *(f"{base}/subvention/{kind}.pdf"
                                     for kind in ("convention", "convention-signee",
                                                  "reversement")),
            f"{base}/accuse/", f"{base}/accuse.pdf", f"{base}/annexe.xlsx",
            f"{base}/budget.xlsx", f"{base}/budget.ods", f"{base}/pieces/{document.pk}/"]


def portal_action_addresses(dossier) -> list[str]:
    """The addresses of the portal's actions on one dossier (POST only, one per action)."""
    base = f"/dossiers/{dossier.pk}"
    return [f"{base}/{action}/" for action in (
        "invitations/retrait", "jalons/suppression", "depenses/suppression",
        "financement/suppression", "annexe", "pieces/retrait", "subvention/signature",
        "subvention/rapport")]
