import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guichet.review.models import CallRole, Role
from tests.factories import bulk_submitted_dossiers, make_user

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/dossiers/"


@pytest.fixture
def instructor(deffinum, client):
    user = make_user("instructrice@example.fr")
    CallRole.objects.create(user=user, call=deffinum, role=Role.INSTRUCTOR)
    client.force_login(user)
    return user


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_list_query_count_does_not_grow_with_rows(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 3)
    few = _queries(client, LIST)
    bulk_submitted_dossiers(deffinum, 120, start=3)
    many = _queries(client, LIST)
    filtered = _queries(client, LIST + "?region=11&eligible=yes&tri=-aide")
    assert few == many == filtered
    assert many <= 15


def test_list_filters_and_sort(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 30)
    page = client.get(LIST + "?region=84&tri=-aide").content.decode()
    assert "5 dossiers" in page
    response = client.get(LIST + "?aide_min=400000&aide_max=500000,50&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "numero"
    amounts = [Decimal(row[8]) for row in rows[1:]]
    assert len(amounts) == 12
    assert all(Decimal("400000") <= amount <= Decimal("500000.50") for amount in amounts)


def test_list_pagination_and_xlsx_export(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 60)
    first = client.get(LIST).content.decode()
    assert "1 / 2" in first
    second = client.get(LIST + "?page=2").content.decode()
    assert second.count('href="/instruction/dossiers/') == 10
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(LIST + "?export=xlsx").content))
    assert workbook["Dossiers"].max_row == 61


def test_list_ignores_drafts_and_other_calls(client, deffinum, instructor, example_document):
    from tests.factories import make_dossier

    make_dossier(example_document)  # a draft
    bulk_submitted_dossiers(deffinum, 2)
    assert "2 dossiers" in client.get(LIST).content.decode()
