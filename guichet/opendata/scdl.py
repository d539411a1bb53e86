"""Open data: the SCDL "subventions" 2.1.1 file of a call (RULES.md, "Transparency: open data").

One row per beneficiary: a consortium grant is published as one row per member of the frozen
dossier. As the SCDL defines them, `montant` is the total grant before it is split between the
beneficiaries ("Montant total de la subvention avant répartition entre les bénéficiaires"),
repeated on each member's row, and `pourcentageSubvention` is the member's share of it (a
fraction with 6 decimals, from `rules.grants.member_shares`, weighted by each member's eligible
expenses, adding up exactly to 1). A grant paid in tranches ("échelonné") gives the period of its
payments, first tranche to last, in `datesPeriodeVersement`. Every signed grant of the call is
exported (status signed or closed); publishing within 3 months of the signature is the funder's
duty.

UTF-8, comma separated, dot decimals, every value written from `Decimal` (never a float); the
schema (a Table Schema, `scdl-subventions-2.1.1.schema.json` next to this module) validates it.
Cells are written like every other CSV export (`core.spreadsheets.csv_cell`): texts quoted,
never read as a formula (a beneficiary's name is typed by applicants), numbers bare.
"""

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from django.db.models import OuterRef, Subquery

from guichet.calls.models import Call
from guichet.core.spreadsheets import csv_cell, csv_writer
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Submission
from guichet.grants.models import Grant, GrantStatus, Payment
from guichet.rules import dossier as fmt
from guichet.rules.grants import FRACTION_PLACES, final_report_due, member_shares
from guichet.rules.money import CENT

SCHEMA_PATH = Path(__file__).resolve().parent / "scdl-subventions-2.1.1.schema.json"
SCDL_COLUMNS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)
# Written as numbers (the schema's type "number"); the other columns are text.
NUMBER_COLUMNS = frozenset({"montant", "pourcentageSubvention"})
PUBLISHED_STATUSES = (GrantStatus.SIGNED, GrantStatus.CLOSED)
NATURE = "aide en numéraire"
SINGLE_PAYMENT, INSTALMENTS = "unique", "échelonné"
NOT_NOTIFIED_TO_EU = "false"  # the schema's boolean: "oui"/"true"/"1" or "non"/"false"/"0"
TITLE_SEPARATOR = " — "
_FRACTION = Decimal(1).scaleb(-FRACTION_PLACES)


def scdl_rows(call: Call) -> Iterator[dict[str, str]]:
    """The SCDL rows of the call's signed grants: one dict per member, keyed by `SCDL_COLUMNS`,
    every value a string ("" for an empty cell). Grants in order of signature."""
    definition = call.rules()
    zone = definition.zone
    body = definition.attributing_body
    payment = INSTALMENTS if len(definition.tranches) > 1 else SINGLE_PAYMENT
    delay = definition.reporting.final_report_delay_months
    programme = call.name
    short_name = call.name.partition(TITLE_SEPARATOR)[0].strip() or call.name
    for grant in _published_grants(call, len(definition.tranches)).iterator(chunk_size=200):
        frozen = submitted_dossier(grant.snapshot)
        signed_on = grant.signed_at.astimezone(zone).date()
        title = frozen.title or grant.dossier.title
        common = {
            "nomAttribuant": body.name,
            "idAttribuant": body.siret,
            "dateConvention": signed_on.isoformat(),
            "referenceDecision": grant.dossier.receipt_number or "",
            "rnaBeneficiaire": "",
            "objet": f"{short_name}{TITLE_SEPARATOR}{title}" if title else short_name,
            "nature": NATURE,
            "conditionsVersement": payment,
            "datesPeriodeVersement": _payment_period(grant, signed_on, delay,
                                                     instalments=payment == INSTALMENTS),
            "idRAE": "",
            "notificationUE": NOT_NOTIFIED_TO_EU,
            "dispositifAide": programme,
        }
        members = frozen.members
        _amounts, fractions = member_shares(grant.award, _weights(frozen))
        total = _decimal_text(grant.award, CENT)
        for member, fraction in zip(members, fractions, strict=True):
            row = {
                **common,
                "nomBeneficiaire": member.name,
                "idBeneficiaire": member.siret,
                "montant": total,
                "pourcentageSubvention": _decimal_text(fraction, _FRACTION),
            }
            yield {column: row[column] for column in SCDL_COLUMNS}


def write_scdl(call: Call, stream: TextIO) -> None:
    """Write the call's SCDL CSV (header and rows) to a text stream, row by row."""
    writer = csv_writer(stream, lineterminator="\n")
    writer.writerow([csv_cell(column) for column in SCDL_COLUMNS])
    for row in scdl_rows(call):
        writer.writerow([_cell(column, row[column]) for column in SCDL_COLUMNS])


def _cell(column: str, text: str) -> str | Decimal:
    return csv_cell(Decimal(text) if column in NUMBER_COLUMNS and text else text)


def scdl_csv(call: Call) -> bytes:
    """The call's SCDL file as UTF-8 bytes (no byte order mark)."""
    text = io.StringIO()
    write_scdl(call, text)
    return text.getvalue().encode("utf-8")


def _published_grants(call: Call, tranche_count: int):
    """One query, no grouping: the latest snapshot and the payment dates of the first and last
    tranches (a reversed payment, or a reversal, is no payment) as subqueries."""
    latest_snapshot = Submission.objects.filter(dossier=OuterRef("dossier")).order_by(
        "-version").values("snapshot")[:1]
    paid = Payment.objects.filter(tranche__grant=OuterRef("pk"), reverses__isnull=True,
                                  reversal__isnull=True)
    return (Grant.objects.filter(dossier__call=call, status__in=PUBLISHED_STATUSES,
                                 signed_at__isnull=False)
            .select_related("dossier")
            .annotate(snapshot=Subquery(latest_snapshot),
                      first_paid=Subquery(paid.filter(tranche__number=1)
                                          .values("paid_on")[:1]),
                      last_paid=Subquery(paid.filter(tranche__number=tranche_count)
                                         .values("paid_on")[:1]))
            .order_by("signed_at", "pk"))


def _weights(frozen: fmt.Dossier) -> list[Decimal]:
    """Each member's eligible expenses, in the order of the members; equal weights when the
    dossier declares none (the award is then split evenly)."""
    eligible = {member.siret: Decimal(0) for member in frozen.members}
    for expense in frozen.expenses:
        if expense.eligible:
            eligible[expense.member] += expense.amount
    weights = [eligible[member.siret] for member in frozen.members]
    return weights if any(weights) else [Decimal(1)] * len(weights)


def _payment_period(grant: Grant, signed_on: dt.date, delay_months: int, *,
                    instalments: bool) -> str:
    """When the grant is paid: one date for a single payment; for tranches, the planned period
    from the first tranche to the last ("AAAA-MM-JJ_AAAA-MM-JJ"). Each end is the tranche's
    transfer date once it is paid, its planned date before: the signature for the first
    tranche (due then), the final report's due date for the last (the balance is paid on it)."""
    begin = grant.first_paid or signed_on
    if not instalments:
        return begin.isoformat()
    planned_end = final_report_due(grant.start_date, grant.duration_months, delay_months)
    end = max(begin, grant.last_paid or planned_end)
    return f"{begin.isoformat()}_{end.isoformat()}"


def _decimal_text(value: Decimal, exponent: Decimal) -> str:
    """Plain decimal notation with a dot and a fixed number of decimals ("1234.50")."""
    return f"{value.quantize(exponent):f}"
