"""Open data (SCDL "subventions" 2.1.1, one row per consortium member) and staff exports."""

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from frictionless import Resource, Schema
from openpyxl import load_workbook

from guichet.core import spreadsheets
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.grants.models import (
    Grant,
    GrantStatus,
    Payment,
)
from guichet.opendata import exports
from guichet.opendata.scdl import SCDL_COLUMNS, SCHEMA_PATH, scdl_csv, scdl_rows, write_scdl
from tests.factories import (
    fresh_siret,
    make_dossier,
    make_payment,
    make_user,
    published_decision,
    stored_grant,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)
# 23:30 UTC on 31 December is already 1 January in Paris: the convention date is Paris's.
SIGNED_AT = dt.datetime(2021, 12, 31, 23, 30, tzinfo=dt.UTC)
START = dt.date(2022, 1, 1)
DURATION = 36
FIRST_PAID_ON = dt.date(2022, 1, 20)
ELIGIBLE = [Decimal(amount) for amount in (
    "123456.78", "98765.43", "87654.32", "76543.21", "65432.10", "54321.09", "43210.98")]
BASE = sum(ELIGIBLE)  # 549 383,91 €
AID = Decimal("384569.00")  # 70 % of the base, rounded to the euro
# Each member's share of AID, in proportion to its eligible expenses (largest remainder).
EXPECTED_FRACTIONS = ["0.224719", "0.179775", "0.159550", "0.139325", "0.119101", "0.098876",
                      "0.078654"]
REPOSITORY_SCHEMA = ROOT / "guichet" / "opendata" / "scdl-subventions-2.1.1.schema.json"
KINDS = ["training_network", "edtech", "school", "opco", "company", "research_lab", "cfa_network"]


# --- helpers --------------------------------------------------------------------------------

def consortium_document(example_document: dict, *, eligible: bool = True) -> dict:
    """The example dossier with a consortium of 7, each member with its own eligible expenses
    (and the last one with an ineligible line too), financing balanced on the eligible base."""
    members = [{"siret": fresh_siret(), "name": f"Membre {index + 1} du consortium",
                "kind": kind, "lead": index == 0} for index, kind in enumerate(KINDS)]
    expenses = [{"member": member["siret"], "category": "staff",
                 "label": f"Ingénierie {index + 1}", "amount": str(amount),
                 "eligible": eligible}
                for index, (member, amount) in enumerate(zip(members, ELIGIBLE, strict=True))]
    expenses.append({"member": members[-1]["siret"], "category": "staff",
                     "label": "Frais de réception", "amount": "99999.99", "eligible": False})
    return {**example_document, "members": members, "expenses": expenses, "financing": [
        {"source": "aid", "amount": str(AID)},
        {"source": "own_cash", "member": members[0]["siret"], "amount": str(BASE - AID)}]}


def signed_grant(deffinum, document: dict, *, paid: int = 1,
                 status: str = GrantStatus.SIGNED) -> Grant:
    """A submitted dossier with a published decision and a grant signed at SIGNED_AT, its
    first `paid` tranches paid (tranche n on FIRST_PAID_ON + n − 1 years)."""
    dossier = make_dossier(document)
    submit(dossier, now=IN_WAVE_1)
    dossier.refresh_from_db()
    staff = make_user(f"instructeur{dossier.pk}@example.fr")
    decision = published_decision(dossier, staff, IN_WAVE_1, awarded_aid=AID)
    return stored_grant(decision, staff, paid=paid, first_paid_on=FIRST_PAID_ON,
                        eligible_base=BASE, duration_months=DURATION, start_date=START,
                        committed_at=IN_WAVE_1, status=status, signed_at=SIGNED_AT)


@pytest.fixture
def grant(deffinum, example_document) -> Grant:
    return signed_grant(deffinum, consortium_document(example_document))


def frozen_members(grant: Grant):
    return submitted_dossier(grant.dossier.submissions.get().snapshot).members


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def validate(content: bytes):
    """The frictionless report on `content` against the schema kept in the repository (read
    as a descriptor: frictionless refuses absolute paths as "not safe")."""
    schema = Schema(json.loads(REPOSITORY_SCHEMA.read_text(encoding="utf-8")))
    return Resource(content, schema=schema, format="csv").validate()


def errors_of(report) -> list:
    return report.flatten(["rowNumber", "fieldName", "type", "message"])


def ods_content(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("content.xml").decode("utf-8")


# --- SCDL -----------------------------------------------------------------------------------

def test_scdl_rows_one_per_consortium_member(grant):
    rows = list(scdl_rows(grant.dossier.call))

    members = frozen_members(grant)
    assert len(members) == 7
    assert [row["idBeneficiaire"] for row in rows] == [member.siret for member in members]
    assert [row["nomBeneficiaire"] for row in rows] == [member.name for member in members]
    assert all(list(row) == list(SCDL_COLUMNS) for row in rows)


def test_scdl_header_follows_schema_field_order(grant):
    header = scdl_csv(grant.dossier.call).decode("utf-8").splitlines()[0]

    schema = json.loads(REPOSITORY_SCHEMA.read_text(encoding="utf-8"))
    assert next(csv.reader([header])) == [field["name"] for field in schema["fields"]]
    assert len(SCDL_COLUMNS) == 16


def test_scdl_shares_sum_exactly_to_one(grant):
    rows = list(scdl_rows(grant.dossier.call))

    assert sum(Decimal(row["pourcentageSubvention"]) for row in rows) == Decimal(1)


def test_scdl_montant_is_total_grant_repeated_on_each_member_row(grant):
    """SCDL: "Montant total de la subvention avant répartition entre les bénéficiaires"."""
    rows = list(scdl_rows(grant.dossier.call))

    assert [row["montant"] for row in rows] == ["384569.00"] * 7
    assert sum(Decimal(row["montant"]) * Decimal(row["pourcentageSubvention"])
               for row in rows).quantize(Decimal("1")) == AID


def test_scdl_shares_follow_eligible_expenses_only(grant):
    rows = list(scdl_rows(grant.dossier.call))

    # The last member's ineligible 99 999,99 € weighs nothing.
    assert [row["pourcentageSubvention"] for row in rows] == EXPECTED_FRACTIONS


def test_scdl_shares_equal_when_no_eligible_expense(deffinum, example_document):
    document = consortium_document(example_document, eligible=False)
    grant = signed_grant(deffinum, document)

    rows = list(scdl_rows(grant.dossier.call))

    fractions = [Decimal(row["pourcentageSubvention"]) for row in rows]
    assert sum(fractions) == 1
    assert set(fractions) == {Decimal("0.142857"), Decimal("0.142858")}
    assert {row["montant"] for row in rows} == {"384569.00"}


def test_scdl_row_values_describe_the_grant(grant, deffinum):
    row = next(scdl_rows(deffinum))

    expected = {
        "nomAttribuant": "Caisse des Dépôts et consignations",
        "idAttribuant": "18002002600019",
        "dateConvention": "2022-01-01",  # 2021-12-31T23:30Z in Europe/Paris
        "referenceDecision": grant.dossier.receipt_number,
        "rnaBeneficiaire": "",
        "objet": "Deffinum — Campus hybride des métiers du bâtiment",
        "montant": "384569.00",
        "nature": "aide en numéraire",
        "conditionsVersement": "échelonné",
        # First payment, then the last tranche's planned date: the final report's, 1 January
        # 2022 + 36 months + 3 months.
        "datesPeriodeVersement": "2022-01-20_2025-04-01",
        "idRAE": "",
        "notificationUE": "false",
        "pourcentageSubvention": "0.224719",
        "dispositifAide": "Deffinum — Dispositifs France formation innovante numérique",
    }
    assert {column: row[column] for column in expected} == expected
    assert grant.dossier.receipt_number


def test_scdl_period_ends_on_last_payment_when_grant_closed(deffinum, example_document):
    document = consortium_document(example_document)
    signed_grant(deffinum, document, paid=3, status=GrantStatus.CLOSED)

    periods = {row["datesPeriodeVersement"] for row in scdl_rows(deffinum)}

    assert periods == {"2022-01-20_2024-01-20"}


def test_scdl_period_starts_on_signature_before_any_payment(deffinum, example_document):
    signed_grant(deffinum, consortium_document(example_document), paid=0)

    periods = {row["datesPeriodeVersement"] for row in scdl_rows(deffinum)}

    assert periods == {"2022-01-01_2025-04-01"}


def test_scdl_period_of_instalments_paid_the_same_day_is_still_a_period(
        deffinum, example_document):
    grant = signed_grant(deffinum, consortium_document(example_document), paid=3,
                         status=GrantStatus.CLOSED)
    Payment.objects.filter(tranche__grant=grant).update(paid_on=dt.date(2024, 3, 1))

    periods = {row["datesPeriodeVersement"] for row in scdl_rows(deffinum)}

    assert periods == {"2024-03-01_2024-03-01"}


def test_scdl_period_follows_amended_duration(deffinum, example_document):
    grant = signed_grant(deffinum, consortium_document(example_document))
    Grant.objects.filter(pk=grant.pk).update(duration_months=30)

    periods = {row["datesPeriodeVersement"] for row in scdl_rows(deffinum)}

    assert periods == {"2022-01-20_2024-10-01"}  # 1 January 2022 + 30 + 3 months


def test_scdl_period_ignores_a_reversed_payment(deffinum, example_document):
    grant = signed_grant(deffinum, consortium_document(example_document))
    first = Payment.objects.get(tranche__grant=grant)
    make_payment(first.tranche, -first.amount, first.recorded_by, paid_on=dt.date(2022, 2, 1),
                 reference=first.reference, reverses=first, reason="Mauvais RIB.",
                 recorded_at=SIGNED_AT)

    periods = {row["datesPeriodeVersement"] for row in scdl_rows(deffinum)}

    assert periods == {"2022-01-01_2025-04-01"}  # from the signature again


def test_scdl_leaves_out_grants_not_yet_signed(grant, deffinum, example_document):
    unsigned = signed_grant(deffinum, consortium_document(example_document), paid=0)
    Grant.objects.filter(pk=unsigned.pk).update(status=GrantStatus.COMMITTED, signed_at=None)

    references = {row["referenceDecision"] for row in scdl_rows(deffinum)}

    assert references == {grant.dossier.receipt_number}


def test_scdl_rows_read_several_grants_in_one_query(deffinum, example_document,
                                                   django_assert_num_queries):
    signed_grant(deffinum, consortium_document(example_document))
    signed_grant(deffinum, consortium_document(example_document), paid=3,
                 status=GrantStatus.CLOSED)
    deffinum.rules()

    with django_assert_num_queries(1):
        rows = list(scdl_rows(deffinum))

    assert len(rows) == 14
    assert len({row["referenceDecision"] for row in rows}) == 2


def test_scdl_csv_valid_against_repository_schema(grant):
    content = scdl_csv(grant.dossier.call)

    report = validate(content)

    assert report.valid, errors_of(report)
    assert len(read_csv(content)) == 7
    assert not content.startswith(b"\xef\xbb\xbf")


def test_scdl_validator_rejects_malformed_siret(grant):
    rows = read_csv(scdl_csv(grant.dossier.call))
    rows[2]["idBeneficiaire"] = "123"
    broken = io.StringIO()
    writer = csv.DictWriter(broken, fieldnames=SCDL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)

    report = validate(broken.getvalue().encode("utf-8"))

    assert not report.valid
    assert report.flatten(["rowNumber", "fieldName", "type"]) == [
        [4, "idBeneficiaire", "constraint-error"]]


# SHA-256 of shared/opendata/scdl-subventions-2.1.1.schema.json, the copy's source.
SHARED_SCHEMA_SHA256 = "526ee0d90afe051261e8d5316fcc4efc007ffa4df88f49f502e9068d62726b25"


def test_scdl_schema_copy_is_the_shared_schema_byte_for_byte():
    assert SCHEMA_PATH == REPOSITORY_SCHEMA
    assert hashlib.sha256(REPOSITORY_SCHEMA.read_bytes()).hexdigest() == SHARED_SCHEMA_SHA256


def test_write_scdl_writes_header_only_without_signed_grant(deffinum):
    stream = io.StringIO()

    write_scdl(deffinum, stream)

    assert stream.getvalue() == ",".join(f'"{column}"' for column in SCDL_COLUMNS) + "\n"


def test_export_scdl_command_writes_csv_to_stdout(grant):
    stdout = io.StringIO()

    call_command("export_scdl", "deffinum", stdout=stdout)

    assert stdout.getvalue().encode("utf-8") == scdl_csv(grant.dossier.call)
    assert len(read_csv(stdout.getvalue().encode("utf-8"))) == 7


def test_export_scdl_command_unknown_call_refused(deffinum):
    with pytest.raises(CommandError, match=r"no call with code 'nope' \(known calls: deffinum\)"):
        call_command("export_scdl", "nope", stdout=io.StringIO())


# --- staff exports --------------------------------------------------------------------------

def test_grants_table_one_row_per_grant(grant, deffinum):
    header, rows = exports.grants_table(deffinum)

    assert header == exports.GRANTS_HEADER
    assert rows == [(grant.dossier.receipt_number, "Campus hybride des métiers du bâtiment",
                     "Membre 1 du consortium", "Vague 1", AID, dt.date(2022, 1, 1),
                     Decimal("192284.50"), "convention signée")]


def test_payments_table_one_row_per_payment(deffinum, example_document):
    grant = signed_grant(deffinum, consortium_document(example_document), paid=2)

    header, rows = exports.payments_table(deffinum)

    number, pk = grant.dossier.receipt_number, grant.dossier.pk
    assert header == exports.PAYMENTS_HEADER
    assert rows == [
        (number, 1, Decimal("192284.50"), dt.date(2022, 1, 20), f"VIR-{pk}-1", "versement", ""),
        (number, 2, Decimal("115370.70"), dt.date(2023, 1, 20), f"VIR-{pk}-2", "versement", "")]


def test_grants_csv_contains_amounts_exactly(grant, deffinum):
    content = spreadsheets.to_csv(*exports.grants_table(deffinum))

    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0] == list(exports.GRANTS_HEADER)
    assert rows[1][4:7] == ["384569.00", "2022-01-01", "192284.50"]


def test_stream_csv_yields_same_bytes_as_to_csv(grant, deffinum):
    header, rows = exports.grants_table(deffinum)

    rows_streamed = exports.grant_rows(deffinum)
    streamed = b"".join(spreadsheets.stream_csv(exports.GRANTS_HEADER, rows_streamed))

    assert streamed == spreadsheets.to_csv(header, rows)
    assert spreadsheets.to_csv(header, rows, excel=True) == b"\xef\xbb\xbf" + streamed


def test_payments_csv_contains_amounts_exactly(grant, deffinum):
    content = spreadsheets.to_csv(*exports.payments_table(deffinum))

    assert content.decode("utf-8").splitlines()[1] == (  # texts quoted, numbers bare
        f'"{grant.dossier.receipt_number}",1,192284.50,"2022-01-20","VIR-{grant.dossier.pk}-1",'
        '"versement",""')


def test_grants_xlsx_contains_amounts_exactly(grant, deffinum):
    content = spreadsheets.to_xlsx(*exports.grants_table(deffinum), title="Subventions")

    sheet = load_workbook(io.BytesIO(content))["Subventions"]
    row = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert Decimal(str(row[4].value)) == AID
    assert Decimal(str(row[6].value)) == Decimal("192284.50")
    assert row[4].number_format == "#,##0.00"
    assert row[5].value == dt.datetime(2022, 1, 1)


def test_payments_xlsx_contains_amounts_exactly(grant, deffinum):
    content = spreadsheets.to_xlsx(*exports.payments_table(deffinum))

    sheet = load_workbook(io.BytesIO(content)).active
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[:2] == [grant.dossier.receipt_number, 1]
    assert Decimal(str(values[2])) == Decimal("192284.50")


def test_grants_xlsx_keeps_formula_like_title_as_text(grant, deffinum):
    Dossier.objects.filter(pk=grant.dossier_id).update(title="=HYPERLINK(\"x\")")

    content = spreadsheets.to_xlsx(*exports.grants_table(deffinum))

    cell = load_workbook(io.BytesIO(content)).active["B2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(\"x\")", "s")


def test_grants_ods_contains_amounts_exactly(grant, deffinum):
    content = ods_content(spreadsheets.to_ods(*exports.grants_table(deffinum)))

    assert 'office:value="384569.00"' in content
    assert 'office:value="192284.50"' in content
    assert 'office:date-value="2022-01-01"' in content
    assert "384\u202f569,00" in content


def test_payments_ods_contains_amounts_exactly(grant, deffinum):
    content = ods_content(spreadsheets.to_ods(*exports.payments_table(deffinum)))

    assert 'office:value="192284.50"' in content
    assert f"VIR-{grant.dossier.pk}-1" in content
