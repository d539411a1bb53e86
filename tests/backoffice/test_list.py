import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from guichet.accounts.services import set_language
from guichet.review.models import Role
from tests.backoffice.test_exports import DEFFINUM_QUESTIONS
from tests.backoffice.test_queries import queries
from tests.factories import bulk_submitted_dossiers, make_dossier, staff
from tests.html import one

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/dossiers/"


@pytest.fixture
def instructor(deffinum, client):
    user = staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def other_call_dossiers(other_call):
    """Forty submitted dossiers of another call in every test: the list must never show them."""
    bulk_submitted_dossiers(other_call, 40, start=10_000)


OTHER_CALL_RECEIPT = "DEFFINOV-"


def _receipt(n: int) -> str:
    """The receipt number of the n-th dossier made by bulk_submitted_dossiers for Deffinum."""
    return f"DEFFINUM-W1-B{n:07d}"


def test_list_query_count_does_not_grow_with_rows(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 3)
    few = queries(client, LIST)
    bulk_submitted_dossiers(deffinum, 120, start=3)
    many = queries(client, LIST)
    filtered = queries(client, LIST + "?region=11&eligible=yes&tri=-aide")
    assert few == many == filtered
    # the rows and their labels, the call's labels and instructors, saved filters, the header's
    # unread notifications and cached count of waiting work, the wave archives
    assert many <= 20
    page = client.get(LIST).content.decode()
    assert _receipt(0) in page
    assert OTHER_CALL_RECEIPT not in page


def test_list_filters_and_sort(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 30)
    page = client.get(LIST + "?region=84&tri=-aide").content.decode()
    assert "5 dossiers" in page
    assert _receipt(1) in page  # region 84 is the second of each six
    assert OTHER_CALL_RECEIPT not in page
    response = client.get(LIST + "?aide_min=400000&aide_max=500000,50&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Numéro"
    assert all(row[0].startswith("DEFFINUM-W1-B") for row in rows[1:])
    amounts = [Decimal(row[8]) for row in rows[1:]]
    assert len(amounts) == 12
    assert all(Decimal("400000") <= amount <= Decimal("500000.50") for amount in amounts)


EXPECTED_HEADER = ["Numéro", "Titre", "Vague", "État", "Chef de file", "Région du chef de file",
                   "Portée", "Filière", "Aide demandée (€)", "Verdict à réception",
                   "Reçu le (heure de Paris)", *DEFFINUM_QUESTIONS]


def test_list_export_csv_shows_labels_not_codes(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 2)  # region 11 then 84, sector btp then industrie
    response = client.get(LIST + "?export=csv")
    header, first, second = csv.reader(io.StringIO(
        b"".join(response.streaming_content).decode("utf-8-sig")))
    assert header == EXPECTED_HEADER
    assert first[2:8] == ["Vague 1", "déposé", "Organisme 0", "Île-de-France", "Nationale",
                          "Bâtiment et travaux publics"]
    assert (first[9], second[9]) == ("non éligible", "éligible")
    assert (second[5], second[7]) == ("Auvergne-Rhône-Alpes", "Industrie")


def test_list_export_xlsx_in_english_shows_english_labels(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 1)
    set_language(instructor, "en")  # a signed-in person's own language wins over the cookie
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(LIST + "?export=xlsx").getvalue()))
    sheet = workbook.worksheets[0]
    header, row = ([cell.value for cell in line] for line in sheet.iter_rows(max_row=2))
    assert header[:4] == ["Number", "Title", "Wave", "Status"]
    assert row[3:7] == ["submitted", "Organisme 0", "Île-de-France", "National"]
    assert row[7] == "Construction"


def test_list_pagination_and_xlsx_export(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 60)
    first = client.get(LIST).content.decode()
    assert "1 / 2" in first
    assert _receipt(0) in first
    assert OTHER_CALL_RECEIPT not in first
    following = one(first, '[data-testid="next-page"]').get("href")
    second = client.get(LIST + following).content.decode()
    assert "2 / 2" in second
    assert second.count('href="/instruction/dossiers/') == 10
    assert _receipt(59) in second
    assert OTHER_CALL_RECEIPT not in second
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(LIST + "?export=xlsx").getvalue()))
    sheet = workbook["Dossiers"]
    assert sheet.max_row == 61
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        _receipt(n) for n in range(60)]


def test_list_ignores_drafts_and_other_calls(client, deffinum, instructor, example_document):
    draft = make_dossier(example_document)
    bulk_submitted_dossiers(deffinum, 2)
    page = client.get(LIST).content.decode()
    assert "2 dossiers" in page
    assert _receipt(0) in page
    assert _receipt(1) in page
    assert f'href="/instruction/dossiers/{draft.pk}/"' not in page
    assert OTHER_CALL_RECEIPT not in page
    response = client.get(LIST + "?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [_receipt(0), _receipt(1)]
