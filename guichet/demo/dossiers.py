"""Demo data for `make run`: accounts, organisations, consortia, draft and submitted dossiers."""

import datetime as dt
from decimal import Decimal

import msgspec
from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.db import transaction

from guichet.accounts.models import User
from guichet.calls.models import Call
from guichet.core.clock import in_paris, now
from guichet.dossiers.documents import upload_document
from guichet.dossiers.models import Affiliation, Dossier, Organisation
from guichet.dossiers.services import import_dossier, submit
from guichet.rules import dossier as fmt
from guichet.rules.definition import CallDefinition
from guichet.rules.sections import all_questions
from guichet.rules.siret import make_siret

DEMO_PROJECTS = [
    ("Campus hybride des métiers du bâtiment", "training_network", "btp"),
    ("Parcours immersifs des métiers du soin", "cfa_network", "sante"),
    ("Tiers-lieux apprenants de l'industrie", "branch", "industrie"),
    ("Positionnement numérique des compétences clés", "training_operator", "transverse"),
]
DEMO_REGIONS = ("11", "84", "76", "32")
PARTNER_KINDS = ("edtech", "content_publisher", "research_lab", "company", "siae", "opco")


REGIONAL_EXAMPLE = "deffinov-exemple"
REGIONAL_PROJECTS = [
    ("Ateliers numériques des métiers de l'artisanat", "cfa_network", "commerce"),
    ("Formations hybrides aux métiers de l'agriculture", "training_operator", "agriculture"),
]
REGIONAL_LEAD_EMAILS = [f"porteur.region{n}@demo.guichet.test"
                        for n in range(1, len(REGIONAL_PROJECTS) + 1)]


def demo_document(index: int, title: str, lead_kind: str, start_date: dt.date,
                  rules: CallDefinition | None = None) -> fmt.Dossier:
    """An eligible consortium dossier (3 to 6 members) for the demo, under the rules of
    `rules` (Deffinum when not given): its scope, longest duration, first results and aid cap
    are read from the definition, so that any call's demo dossiers are eligible."""
    limits = rules.eligibility if rules else None
    sirets = [make_siret(f"{91 + index:02d}{member:06d}", f"{10 + member:04d}")
              for member in range(3 + index % 4)]
    members = [fmt.Member(siret=siret, name=f"{title.split()[0]} — membre {n + 1}",
                          kind=lead_kind if n == 0 else PARTNER_KINDS[n % len(PARTNER_KINDS)],
                          lead=n == 0) for n, siret in enumerate(sirets)]
    expenses = [fmt.Expense(member=siret, category=category, label=label,
                            amount=Decimal(amount) + index * 10_000, eligible=True)
                for siret in sirets
                for category, label, amount in (("staff", "Ingénierie pédagogique", "180000.00"),
                                                ("digital_resources", "Ressources", "60000.00"))]
    base = sum(line.amount for line in expenses)
    aid = (base * (limits.aid_cap_rate if limits else Decimal("0.70"))).quantize(Decimal("1"))
    in_kind = ((base - aid) * Decimal("0.25")).quantize(Decimal("0.01"))
    duration = limits.max_duration_months if limits else 36
    scopes = limits.allowed_scopes if limits else ["national", "interregional"]
    return fmt.Dossier(
        format=fmt.FORMAT_ID, call=rules.id if rules else "deffinum", title=title,
        summary="Hybridation des parcours de formation : temps synchrones et asynchrones, "
                "tiers-lieux, situations de travail et outils immersifs.",
        scope=scopes[index % len(scopes)], pooling_commitment=True,
        start_date=start_date, duration_months=duration, members=members,
        milestones=[fmt.Milestone(month=limits.first_results_month if limits else 12,
                                  kind="first_results", label="Premiers résultats"),
                    fmt.Milestone(month=duration, kind="final", label="Bilan final")],
        expenses=expenses,
        financing=[fmt.Financing(source="aid", amount=aid),
                   fmt.Financing(source="own_cash", member=sirets[0],
                                 amount=base - aid - in_kind),
                   fmt.Financing(source="own_in_kind", member=sirets[1], amount=in_kind)],
        answers=demo_answers(rules) if rules else msgspec.UNSET,
    )


def demo_answers(rules: CallDefinition) -> dict:
    """Answers to the call's required questions (read from its definition), and targets for
    its indicators."""
    answers = {}
    for question in all_questions(rules.sections):
        if question.type == "indicators":
            answers[question.id] = {indicator.id: 100 for indicator in rules.indicators}
        elif question.required and question.when is None:
            answers[question.id] = {
                "text": "Réponse de démonstration.",
                "number": int(question.minimum or 0),
                "choice": question.choices[0].id if question.choices else None,
                "table": [{column.id: "1" if column.type == "number" else "Démonstration"
                           for column in question.columns}],
            }.get(question.type)
    return {key: value for key, value in answers.items() if value is not None}


def blank_pdf(pages: int = 1) -> bytes:
    """A small but well-formed PDF (correct xref offsets), written by hand."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


DEMO_PASSWORD = "demo-guichet-2021"
DEMO_LEAD_EMAIL = "porteur@demo.guichet.test"


def demo_user(email: str, organisations=()) -> User:
    """A confirmed account acting for `organisations` (log in with DEMO_PASSWORD)."""
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, DEMO_PASSWORD)
    EmailAddress.objects.get_or_create(user=user, email=email,
                                       defaults={"verified": True, "primary": True})
    for organisation in organisations:
        Affiliation.objects.get_or_create(user=user, organisation=organisation)
    return user


def lead_user(dossier: Dossier) -> User:
    """The (first) account taking part in the dossier for its lead member."""
    return User.objects.filter(participations__member__consortium_id=dossier.consortium_id,
                               participations__member__is_lead=True).order_by("pk").first()


def attach_required_documents(dossier: Dossier, user) -> None:
    for document in dossier.call.rules().required_documents:
        upload = ContentFile(blank_pdf(), name=f"{document.id}.pdf")
        upload_document(dossier, user, document.id, upload)


def demo_start_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    """Project start dates consistent with `today`: the projects of the decided wave started on
    the first day of this month (their reports fall due in the months ahead), the drafts start
    on the first day of a month two to three months ahead."""
    ahead = today + dt.timedelta(days=62)
    return today.replace(day=1), (ahead.replace(day=1) + dt.timedelta(days=31)).replace(day=1)


@transaction.atomic
def seed_demo(today: dt.date | None = None) -> list[Dossier]:
    """Create the demo dossiers once: the first two submitted in the first wave, the rest drafts.
    Dates follow `today` (Paris), as the waves do after `loadcall --demo`."""
    call = Call.objects.get(code="deffinum")
    if Dossier.objects.filter(call=call).exists():
        return []
    first_wave = call.waves.order_by("position").first()
    started, starting = demo_start_dates(today or in_paris(now()).date())
    created = []
    for index, (title, lead_kind, sector) in enumerate(DEMO_PROJECTS):
        email = DEMO_LEAD_EMAIL if index == 0 else f"porteur{index + 1}@demo.guichet.test"
        dossier, user = _demo_dossier(call, index, (title, lead_kind, sector), email,
                                      started if index < 2 else starting)
        if index < 2:
            submit(dossier, by=user, now=first_wave.closes_at - dt.timedelta(days=3 - index))
        created.append(dossier)
    return created


@transaction.atomic
def seed_regional_demo(today: dt.date | None = None) -> list[Dossier]:
    """The regional example call's demo (when `loadcall calls/deffinov-exemple.toml --demo`
    loaded it): one dossier submitted yesterday in its open wave, one draft, each led by its own
    account; built from the call's definition alone."""
    call = Call.objects.filter(code=REGIONAL_EXAMPLE).first()
    if call is None or Dossier.objects.filter(call=call).exists():
        return []
    today = today or in_paris(now()).date()
    _started, starting = demo_start_dates(today)
    created = []
    for offset, project in enumerate(REGIONAL_PROJECTS):
        dossier, user = _demo_dossier(call, len(DEMO_PROJECTS) + offset, project,
                                      REGIONAL_LEAD_EMAILS[offset], starting)
        if offset == 0:
            submit(dossier, by=user, now=now() - dt.timedelta(days=1))
        created.append(dossier)
    return created


def _demo_dossier(call: Call, index: int, project: tuple[str, str, str], email: str,
                  start_date: dt.date) -> tuple[Dossier, User]:
    """A draft of `call` led by the demo account `email`, with its required documents."""
    title, lead_kind, sector = project
    document = msgspec.json.encode(demo_document(index, title, lead_kind, start_date,
                                                 call.rules()))
    user = demo_user(email)
    dossier = import_dossier(document, lead_email=email).dossier  # the account leads it
    Dossier.objects.filter(pk=dossier.pk).update(sector=sector, keywords="hybridation, immersif")
    dossier.refresh_from_db()
    lead = dossier.consortium.members.get(is_lead=True).organisation
    Organisation.objects.filter(pk=lead.pk).update(region=DEMO_REGIONS[index % len(DEMO_REGIONS)])
    attach_required_documents(dossier, user)
    return dossier, user
