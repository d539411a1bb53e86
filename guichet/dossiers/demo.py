"""Demo data for `make run`: organisations, consortia, a draft and submitted dossiers."""

import datetime as dt
from decimal import Decimal

import msgspec
from django.db import transaction

from guichet.calls.models import Call
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import import_dossier, submit
from guichet.rules import dossier as fmt
from guichet.rules.siret import make_siret

DEMO_PROJECTS = [
    ("Campus hybride des métiers du bâtiment", "training_network", "btp"),
    ("Parcours immersifs des métiers du soin", "cfa_network", "sante"),
    ("Tiers-lieux apprenants de l'industrie", "branch", "industrie"),
    ("Positionnement numérique des compétences clés", "training_operator", "transverse"),
]
PARTNER_KINDS = ("edtech", "content_publisher", "research_lab", "company", "siae", "opco")


def demo_document(index: int, title: str, lead_kind: str) -> fmt.Dossier:
    """An eligible consortium dossier (3 to 6 members) for the demo."""
    sirets = [make_siret(f"{91 + index:02d}{member:06d}", f"{10 + member:04d}")
              for member in range(3 + index)]
    members = [fmt.Member(siret=siret, name=f"{title.split()[0]} — membre {n + 1}",
                          kind=lead_kind if n == 0 else PARTNER_KINDS[n % len(PARTNER_KINDS)],
                          lead=n == 0) for n, siret in enumerate(sirets)]
    expenses = [fmt.Expense(member=siret, category=category, label=label,
                            amount=Decimal(amount) + index * 10_000, eligible=True)
                for siret in sirets
                for category, label, amount in (("staff", "Ingénierie pédagogique", "180000.00"),
                                                ("digital_resources", "Ressources", "60000.00"))]
    base = sum(line.amount for line in expenses)
    aid = (base * Decimal("0.70")).quantize(Decimal("1"))
    in_kind = ((base - aid) * Decimal("0.25")).quantize(Decimal("0.01"))
    return fmt.Dossier(
        format=fmt.FORMAT_ID, call="deffinum", title=title,
        summary="Hybridation des parcours de formation : temps synchrones et asynchrones, "
                "tiers-lieux, situations de travail et outils immersifs.",
        scope="national" if index % 2 == 0 else "interregional", pooling_commitment=True,
        start_date=dt.date(2022, 1, 1), duration_months=36, members=members,
        milestones=[fmt.Milestone(month=12, kind="first_results", label="Premiers résultats"),
                    fmt.Milestone(month=36, kind="final", label="Bilan final")],
        expenses=expenses,
        financing=[fmt.Financing(source="aid", amount=aid),
                   fmt.Financing(source="own_cash", member=sirets[0],
                                 amount=base - aid - in_kind),
                   fmt.Financing(source="own_in_kind", member=sirets[1], amount=in_kind)],
    )


@transaction.atomic
def seed_demo() -> list[Dossier]:
    """Create the demo dossiers once: the first two submitted in the first wave, the rest drafts."""
    call = Call.objects.get(code="deffinum")
    if Dossier.objects.filter(call=call).exists():
        return []
    first_wave = call.waves.order_by("position").first()
    created = []
    for index, (title, lead_kind, _sector) in enumerate(DEMO_PROJECTS):
        document = msgspec.json.encode(demo_document(index, title, lead_kind))
        dossier = import_dossier(document).dossier
        if index < 2:
            submit(dossier, now=first_wave.closes_at - dt.timedelta(days=3 - index))
        created.append(dossier)
    return created
