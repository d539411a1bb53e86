"""Staff of one call reading the money dashboard of another call of the same programme
(issue 8, item 11): neither its lines nor its totals, not even summed into the programme's."""

import csv
import io
from decimal import Decimal

import pytest

from guichet.calls.services import load_call
from guichet.grants.decisions import publish_decisions
from guichet.grants.models import Grant
from guichet.review.models import Role
from tests.conftest import DEFFINUM_TOML
from tests.factories import staff
from tests.grants import test_grants as grants_helpers

pytestmark = pytest.mark.django_db
DASHBOARD = "/instruction/tableau-de-bord/"
OTHER_AID = Decimal("560000.00")
OWN_AID = Decimal("500000.00")


@pytest.fixture
def other_call(tmp_path, deffinum):
    """A second call of the same programme (another id, code and rules version)."""
    source = DEFFINUM_TOML.read_text(encoding="utf-8")
    source = source.replace('id = "deffinum"', 'id = "deffinov"', 1).replace(
        'rules_version = "deffinum-2021.1"', 'rules_version = "deffinov-2022.1"').replace(
        'name = "Deffinum — ', 'name = "Deffinov — ', 1)
    path = tmp_path / "deffinov.toml"
    path.write_text(source, encoding="utf-8")
    return load_call(path).call


def granted_in(call, document: dict, aid: Decimal) -> Grant:
    team = {"instructor": staff(call, f"i@{call.code}.fr", Role.INSTRUCTOR),
            "committee": staff(call, f"c@{call.code}.fr", Role.COMMITTEE),
            "admin": staff(call, f"a@{call.code}.fr", Role.ADMINISTRATOR)}
    dossier = grants_helpers.instructed_dossier({**document, "call": call.code},
                                                team["instructor"])
    grants_helpers.select(team, dossier, aid)
    publish_decisions(dossier.wave, team["admin"])
    return Grant.objects.get(dossier=dossier)


@pytest.fixture
def two_calls(deffinum, other_call, example_document):
    granted_in(deffinum, example_document, OWN_AID)
    granted_in(other_call, example_document, OTHER_AID)
    return deffinum, other_call


def money_csv(client) -> list[list[str]]:
    content = client.get(DASHBOARD, {"csv": "money"}).content.decode()
    return list(csv.reader(io.StringIO(content)))


def test_staff_of_one_call_reading_dashboard_sees_no_other_call_totals(client, two_calls):
    deffinum, other = two_calls
    client.force_login(staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR))

    page = client.get(DASHBOARD).content.decode()
    rows = money_csv(client)

    assert other.name not in page
    assert "560\u202f000,00" not in page
    assert deffinum.programme.name not in page  # its line would sum the other call's award
    assert [row[0] for row in rows] == [
        "Périmètre", deffinum.name, f"{deffinum.name} — Vague 1", f"{deffinum.name} — Vague 2",
        f"{deffinum.name} — Vague 3"]
    assert Decimal(rows[1][2]) == OWN_AID
    assert OTHER_AID not in {Decimal(cell) for row in rows[1:] for cell in row[2:4]}


def test_staff_of_every_call_of_programme_sees_programme_totals(client, two_calls):
    deffinum, other = two_calls
    user = staff(deffinum, "directrice@example.fr", Role.ADMINISTRATOR)
    other.roles.create(user=user, role=Role.ADMINISTRATOR)
    client.force_login(user)

    rows = money_csv(client)

    assert rows[1][0] == deffinum.programme.name
    assert Decimal(rows[1][2]) == OWN_AID + OTHER_AID
    assert {deffinum.name, other.name} <= {row[0] for row in rows}
