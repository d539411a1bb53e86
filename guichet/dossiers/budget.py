"""The budget as the financial annex sees it, and its import (all or nothing)."""

from django.db import transaction

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core import labels
from guichet.dossiers.annex import reader
from guichet.dossiers.annex import schema as annexes
from guichet.dossiers.editing import require
from guichet.dossiers.format import content_hash, dossier_queryset
from guichet.dossiers.models import Dossier, ExpenseLine, FinancingLine


def annex_members(dossier: Dossier) -> list[annexes.AnnexMember]:
    return [annexes.AnnexMember(siret=m.organisation.siret, name=m.name)
            for m in dossier.consortium.members.all() if m.confirmed_at]


def annex_categories(dossier: Dossier) -> list[annexes.AnnexCategory]:
    return [annexes.AnnexCategory(id=c.id, label=labels.of(c))
            for c in dossier.call.rules().expense_categories]


def annex_content(dossier: Dossier) -> annexes.AnnexContent:
    return annexes.AnnexContent(
        expenses=[annexes.AnnexExpense(member=e.member.organisation.siret, category=e.category,
                                       label=e.label, amount=e.amount, eligible=e.eligible)
                  for e in dossier.expenses.all()],
        financing=[annexes.AnnexFinancing(
            source=f.source, member=f.member.organisation.siret if f.member else None,
            amount=f.amount) for f in dossier.financing.all()])


@transaction.atomic
def import_annex(dossier: Dossier, user, data: bytes) -> annexes.AnnexContent:
    """Replace the budget and financing lines with the annex, only if every cell is valid
    (`AnnexInvalid` lists every error, and nothing changes)."""
    require(user, "dossiers.import_annex", dossier)
    content = reader.parse_annex(data, annex_members(dossier), annex_categories(dossier))
    before = content_hash(dossier_queryset().get(pk=dossier.pk))
    members = {m.organisation.siret: m for m in dossier.consortium.members.all()}
    dossier.expenses.all().delete()
    dossier.financing.all().delete()
    ExpenseLine.objects.bulk_create(
        ExpenseLine(dossier=dossier, member=members[e.member], category=e.category,
                    label=e.label, amount=e.amount, eligible=e.eligible, position=i)
        for i, e in enumerate(content.expenses))
    FinancingLine.objects.bulk_create(
        FinancingLine(dossier=dossier, source=f.source, amount=f.amount, position=i,
                      member=members[f.member] if f.member else None)
        for i, f in enumerate(content.financing))
    append_event(AuditAction.DOSSIER_ANNEX_IMPORTED, dossier, by=user, hash_before=before,
                 hash_after=content_hash(dossier_queryset().get(pk=dossier.pk)),
                 details={"expenses": len(content.expenses),
                          "financing": len(content.financing)})
    return content
