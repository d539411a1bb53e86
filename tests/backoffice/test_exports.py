"""The export of a call's dossier list (backoffice:dossier-export): CSV, XLSX and ODS."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.review.models import Label, Role
from tests.factories import bulk_submitted_dossiers, make_dossier, make_user, staff

pytestmark = pytest.mark.django_db
EXPORT = "/instruction/appels/deffinum/dossiers/export/"
# Then a column per question of Deffinum's own section (its hybridation profile).
DEFFINUM_QUESTIONS = ["Temps synchrone (%)", "Temps asynchrone (%)",
                      "En présentiel, centre ou tiers-lieu (%)", "À distance (%)",
                      "En situation de travail, AFEST (%)", "Outils immersifs",
                      "Outils numériques de positionnement", "Publics visés", "Métiers visés",
                      "Cibles des indicateurs"]
HEADER = ["Numéro", "Titre", "Vague", "État", "Chef de file", "Région du chef de file",
          "Portée", "Filière", "Aide demandée (€)", "Verdict à réception",
          "Reçu le (heure de Paris)", *DEFFINUM_QUESTIONS]
IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def instructor(deffinum, client):
    user = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)
    client.force_login(user)
    return user


def _csv(content: bytes, separator=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=separator))


def _xlsx(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).active
    return list(sheet.iter_rows(values_only=True))


def _ods_content(response) -> str:
    return zipfile.ZipFile(io.BytesIO(response.getvalue())).read("content.xml").decode()


def test_export_url_is_named_dossier_export():
    assert reverse("backoffice:dossier-export", args=["deffinum"]) == EXPORT


def test_export_csv_semicolon_has_bom_french_headers_and_labels(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 2)  # region 11 then 84, sector btp then industrie

    response = client.get(EXPORT + "?format=csv&separator=semicolon")

    content = response.getvalue()
    assert content.startswith("\ufeff".encode())
    assert content.splitlines()[0].decode("utf-8-sig") == ";".join(f'"{t}"' for t in HEADER)
    _header, first, second = _csv(content, ";")
    assert first[1:10] == ["Projet 0", "Vague 1", "déposé", "Organisme 0", "Île-de-France",
                           "Nationale", "Bâtiment et travaux publics", "350000.00",
                           "non éligible"]
    assert (second[5], second[7], second[9]) == ("Auvergne-Rhône-Alpes", "Industrie",
                                                 "éligible")
    assert ";350000.00;" in content.decode("utf-8-sig")  # a bare number, to the cent


def test_export_csv_comma_is_the_default_separator(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 1)

    response = client.get(EXPORT)

    content = response.getvalue()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert _csv(content)[0] == HEADER
    assert ",350000.00," in content.decode("utf-8-sig")


def test_export_csv_is_streamed(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 1)

    response = client.get(EXPORT + "?format=csv")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="dossiers-deffinum.csv"'


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_export_workbook_is_a_file_response(client, deffinum, instructor, kind):
    bulk_submitted_dossiers(deffinum, 1)

    response = client.get(EXPORT + f"?format={kind}")

    assert isinstance(response, FileResponse)
    assert f'filename="dossiers-deffinum.{kind}"' in response["Content-Disposition"]


def test_export_xlsx_has_labels_amounts_as_numbers_and_paris_instants(
        client, deffinum, instructor, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)

    rows = _xlsx(client.get(EXPORT + "?format=xlsx"))

    assert list(rows[0]) == HEADER
    row = rows[1]
    assert (row[2], row[3], row[6]) == ("Vague 1", "déposé", "Nationale")
    assert row[8] == Decimal("560000")
    assert isinstance(row[8], int | float)
    assert row[9] == "éligible"
    assert row[10] == dt.datetime(2021, 8, 31, 11, 0)  # the wall clock in Paris, not UTC


def test_export_ods_has_labels_exact_amounts_and_paris_instants(
        client, deffinum, instructor, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)

    content = _ods_content(client.get(EXPORT + "?format=ods"))

    assert "<text:p>Aide demandée (€)</text:p>" in content
    assert "<text:p>Reçu le (heure de Paris)</text:p>" in content
    assert "<text:p>déposé</text:p>" in content
    assert "<text:p>éligible</text:p>" in content
    assert 'office:value="560000.00"' in content
    assert 'office:date-value="2021-08-31T11:00:00"' in content
    assert "submitted" not in content  # the status code never shows


def test_export_neutralises_formulas_in_every_format(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 1)
    Dossier.objects.filter(call=deffinum).update(title='=HYPERLINK("http://evil.example")')

    csv_row = _csv(client.get(EXPORT + "?format=csv&separator=semicolon").getvalue(), ";")[1]
    xlsx = openpyxl.load_workbook(io.BytesIO(client.get(EXPORT + "?format=xlsx").getvalue()))
    ods = _ods_content(client.get(EXPORT + "?format=ods"))

    assert csv_row[1] == '\'=HYPERLINK("http://evil.example")'
    title = xlsx.active.cell(row=2, column=2)
    assert (title.value, title.data_type) == ('=HYPERLINK("http://evil.example")', "s")
    assert "table:formula" not in ods
    assert 'office:value-type="string"><text:p>=HYPERLINK(' in ods


def test_export_applies_the_list_filters(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 12)

    rows = _csv(client.get(EXPORT + "?region=84&tri=-aide&format=csv").getvalue())[1:]

    assert {row[5] for row in rows} == {"Auvergne-Rhône-Alpes"}
    amounts = [Decimal(row[8]) for row in rows]
    assert len(amounts) == 2
    assert amounts == sorted(amounts, reverse=True)


def test_export_ids_restrict_to_those_dossiers(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 5)
    chosen = list(Dossier.objects.filter(call=deffinum).order_by("pk")[1:3])

    response = client.get(EXPORT, {"format": "csv", "ids": [d.pk for d in chosen]})

    assert [row[0] for row in _csv(response.getvalue())[1:]] == [d.receipt_number for d in chosen]


def test_export_ids_of_dossiers_the_person_may_not_see_are_ignored(
        client, deffinum, other_call, instructor):
    bulk_submitted_dossiers(deffinum, 2)
    bulk_submitted_dossiers(other_call, 2, start=100)
    mine = Dossier.objects.filter(call=deffinum).order_by("pk").first()
    theirs = Dossier.objects.filter(call=other_call).order_by("pk").first()

    response = client.get(EXPORT, {"format": "csv", "ids": [mine.pk, theirs.pk, "x", "-1"]})

    assert [row[0] for row in _csv(response.getvalue())[1:]] == [mine.receipt_number]


def test_export_query_count_does_not_grow_with_rows(client, deffinum, instructor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(EXPORT + "?format=csv").getvalue()
        return len(captured.captured_queries)

    bulk_submitted_dossiers(deffinum, 3)
    few = queries()
    bulk_submitted_dossiers(deffinum, 150, start=3)

    assert queries() == few


def test_export_reads_no_labels_it_does_not_show(client, deffinum, instructor):
    # Prefetched per chunk of rows, the labels held every chunk's rows in memory at once
    # (20 MB of Python objects for 100 000 dossiers, against 4 without them).
    bulk_submitted_dossiers(deffinum, 3)
    label = Label.objects.create(call=deffinum, name="À revoir", colour="pink-macaron")
    label.dossiers.add(*Dossier.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        client.get(EXPORT + "?format=csv").getvalue()
    assert not [query for query in captured.captured_queries
                if Label._meta.db_table in query["sql"]]


@pytest.mark.parametrize(("query", "message"), [
    ("?format=pdf", "Format d'export inconnu"), ("?separator=tab", "Séparateur inconnu")])
def test_export_unknown_format_or_separator_is_refused_clearly(
        client, deffinum, instructor, query, message):
    response = client.get(EXPORT + query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_export_refused_to_someone_not_serving_the_call(client, deffinum, other_call):
    bulk_submitted_dossiers(deffinum, 1)
    client.force_login(staff(other_call, "ailleurs@example.fr", Role.INSTRUCTOR))

    assert client.get(EXPORT).status_code == 404


def test_export_refused_to_an_expert_of_the_call(client, deffinum):
    client.force_login(staff(deffinum, "expert@example.fr", Role.EXPERT))

    assert client.get(EXPORT).status_code == 403


def test_export_asks_an_anonymous_visitor_to_sign_in(client, deffinum):
    assert client.get(EXPORT).status_code == 302


def test_list_page_offers_the_export_menu(client, deffinum, instructor):
    page = client.get("/instruction/appels/deffinum/dossiers/?region=84").content.decode()

    assert f'href="{EXPORT}?region=84&format=csv&separator=semicolon"' in page
    assert f'href="{EXPORT}?region=84&format=ods"' in page


def test_make_user_without_role_sees_no_export(client, deffinum):
    client.force_login(make_user("personne@example.fr"))

    assert client.get(EXPORT).status_code == 404
