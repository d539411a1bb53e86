"""Staff exports of a call's grants and payments: their tables, for `core.spreadsheets`.

`grant_rows` and `payment_rows` read the database in chunks and, with the streaming writers of
`guichet.core.spreadsheets` (`stream_csv`, the write-only `to_xlsx`), serve large volumes without
holding them in memory (e.g. in a `StreamingHttpResponse`); the `*_table` functions return lists.
Column titles and the kind of each payment entry are in the active language.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import Call
from guichet.core.labels import localised_name
from guichet.core.spreadsheets import Header
from guichet.dossiers.models import ConsortiumMember
from guichet.grants.models import Grant, GrantStatus, Payment
from guichet.rules.money import CENT, ZERO

GRANTS_HEADER = (
    _("Numéro de dossier"),
    _("Titre"),
    _("Chef de file"),
    _("Vague"),
    _("Aide attribuée (€)"),
    _("Date de signature"),
    _("Total versé (€)"),
    _("Statut"),
)
PAYMENTS_HEADER = (
    _("Numéro de dossier"),
    _("Tranche"),
    _("Montant (€)"),
    _("Date de versement"),
    _("Référence"),
    _("Écriture"),
    _("Motif d'annulation"),
)
PAYMENT, REVERSAL = gettext_noop("versement"), gettext_noop("annulation")
CHUNK = 500


def grant_rows(call: Call) -> Iterator[tuple]:
    """One row per grant of the call (every status), by receipt number: receipt number, title,
    lead, wave, award, signature date (in the call's time zone), total paid, status."""
    zone = call.rules().zone
    lead = ConsortiumMember.objects.filter(
        consortium=OuterRef("dossier__consortium"), is_lead=True).values("name")[:1]
    paid = (Payment.objects.filter(tranche__grant=OuterRef("pk")).order_by()
            .values("tranche__grant").annotate(total=Sum("amount")).values("total"))
    money = DecimalField(max_digits=14, decimal_places=2)
    grants = (Grant.objects.filter(dossier__call=call).select_related("dossier", "wave")
              .annotate(lead_name=Subquery(lead),
                        paid_total=Coalesce(Subquery(paid, output_field=money),
                                            Value(ZERO), output_field=money))
              .order_by("dossier__receipt_number", "pk"))
    for grant in grants.iterator(chunk_size=CHUNK):
        yield (
            grant.dossier.receipt_number or "",
            grant.dossier.title,
            grant.lead_name or "",
            localised_name(grant.wave),
            grant.award,
            grant.signed_at.astimezone(zone).date() if grant.signed_at else None,
            grant.paid_total.quantize(CENT),
            str(GrantStatus(grant.status).label),
        )


def payment_rows(call: Call) -> Iterator[tuple]:
    """One row per entry of the call's payments, by receipt number, tranche and time: receipt
    number, tranche number, amount, date, transfer reference, entry ("versement", or
    "annulation" for the reversal of a mistaken payment, its amount negative) and the reason
    of a reversal. A reversed payment keeps its row: both entries show."""
    payments = (Payment.objects.filter(tranche__grant__dossier__call=call)
                .select_related("tranche__grant__dossier")
                .order_by("tranche__grant__dossier__receipt_number", "tranche__grant",
                          "tranche__number", "recorded_at", "pk"))
    for payment in payments.iterator(chunk_size=CHUNK):
        yield (
            payment.tranche.grant.dossier.receipt_number or "",
            payment.tranche.number,
            payment.amount,
            payment.paid_on,
            payment.reference,
            gettext(REVERSAL if payment.reverses_id else PAYMENT),
            payment.reason,
        )


def grants_table(call: Call) -> tuple[Header, list[tuple]]:
    return GRANTS_HEADER, list(grant_rows(call))


def payments_table(call: Call) -> tuple[Header, list[tuple]]:
    return PAYMENTS_HEADER, list(payment_rows(call))
