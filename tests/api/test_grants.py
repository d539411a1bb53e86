"""After the decision, through the API: the published decision and the grant (tranches,
payments, reports) open to exactly the people the grant pages open to; the SCDL rows are the
CSV export's."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from guichet.grants.models import Grant
from guichet.opendata.scdl import scdl_csv
from guichet.review.models import Role
from tests.factories import (
    assign,
    decided_dossier,
    lead_and_member,
    make_expert,
    make_payment,
    make_user,
    staff,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def granted(deffinum, example_document):
    dossier = decided_dossier(deffinum, example_document)
    grant = Grant.objects.get(dossier=dossier)
    admin = staff(deffinum, "admin.api@example.fr", Role.ADMINISTRATOR)
    first = grant.tranches.get(number=1)
    make_payment(first, first.scheduled_amount, admin, paid_on=dt.date(2022, 1, 15),
                 reference="VIR-1")
    expert = make_expert(deffinum, "expert.api@example.fr")
    assign(dossier, expert)
    lead, _member = lead_and_member(dossier)
    people = {"lead": lead, "instructor": staff(deffinum, "i.api@example.fr", Role.INSTRUCTOR),
              "administrator": admin, "expert": expert.user,
              "outsider": make_user("outsider.api@example.fr")}
    return dossier, grant, people


def _page_opens(client, person, url) -> bool:
    client.force_login(person)
    opened = client.get(url).status_code == 200
    client.logout()
    return opened


def test_api_grant_opens_to_exactly_the_people_its_pages_open_to(client, bearer, granted):
    dossier, grant, people = granted
    for name, person in people.items():
        answer = client.get(f"{API}/dossiers/{dossier.pk}/grant", headers=bearer(person))
        pages = (_page_opens(client, person, f"/dossiers/{dossier.pk}/subvention/")
                 or _page_opens(client, person, f"/instruction/subventions/{grant.pk}/"))
        assert (answer.status_code == 200) == pages, name
        assert answer.status_code in (200, 404), name
    assert client.get(f"{API}/dossiers/{dossier.pk}/grant",
                      headers=bearer(people["expert"])).status_code == 404


def test_api_grant_gives_tranches_and_payments_to_the_cent(client, bearer, granted):
    dossier, grant, people = granted
    body = client.get(f"{API}/dossiers/{dossier.pk}/grant", headers=bearer(people["lead"])).json()
    assert Decimal(body["award"]) == grant.award
    assert [Decimal(t["scheduled_amount"]) for t in body["tranches"]] == [
        t.scheduled_amount for t in grant.tranches.order_by("number")]
    assert sum(Decimal(t["scheduled_amount"]) for t in body["tranches"]) == grant.award
    first = body["tranches"][0]
    assert first["payments"] == [{"amount": str(first["scheduled_amount"]),
                                  "paid_on": "2022-01-15", "reference": "VIR-1",
                                  "reversal": False}]
    assert Decimal(body["paid"]) == Decimal(first["scheduled_amount"])
    assert body["status_label"]


def test_api_decision_is_the_published_one(client, bearer, granted):
    dossier, _grant, people = granted
    body = client.get(f"{API}/dossiers/{dossier.pk}/decision",
                      headers=bearer(people["lead"])).json()
    assert body["outcome"] == "selected"
    assert body["outcome_label"] == "retenu"
    assert Decimal(body["awarded_aid"]) == dossier.requested_aid
    assert body["published_at"].endswith(("+01:00", "+02:00"))


def test_api_scdl_rows_are_the_csv_export_and_only_for_the_call_staff(client, bearer, granted):
    dossier, grant, people = granted
    grant.signed_at = dt.datetime(2022, 1, 3, 10, tzinfo=dt.UTC)
    grant.status = "signed"
    grant.save()
    answer = client.get(f"{API}/calls/deffinum/scdl", headers=bearer(people["administrator"]))
    exported = list(csv.DictReader(io.StringIO(scdl_csv(dossier.call).decode("utf-8-sig"))))
    assert answer.status_code == 200
    assert answer.json() == exported
    assert len(exported) == len(dossier.consortium.members.all())
    assert client.get(f"{API}/calls/deffinum/scdl",
                      headers=bearer(people["lead"])).status_code == 404
