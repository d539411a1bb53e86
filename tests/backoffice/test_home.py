"""The back-office home: what waits for each role, in a bounded number of queries."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guichet.dossiers.services import submit
from guichet.review.experts import add_assignment
from guichet.review.instruction import record_instruction
from guichet.review.models import CallRole, ExpertProfile, Role
from tests.factories import bulk_submitted_dossiers, decided_dossier, make_dossier, staff

PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


def waiting(client, user) -> str:
    client.force_login(user)
    page = client.get("/instruction/")
    assert page.status_code == 200
    return page.content.decode()


def figure(page: str, testid: str) -> str:
    """The number shown in the `testid` item of the home's waiting list."""
    start = page.index(f'data-testid="{testid}"')
    return page[page.index("<strong>", start) + 8:page.index("</strong>", start)]


def test_home_instructor_counts_dossiers_to_instruct(client, deffinum, example_document):
    submit(make_dossier(example_document), now=IN_WAVE_1)
    page = waiting(client, staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR))
    assert figure(page, "waiting-to-instruct") == "1"
    assert figure(page, "waiting-corrections-overdue") == "0"
    assert 'data-testid="waiting-agreements"' not in page  # not an administrator


def test_home_expert_counts_reviews_with_next_due_date(client, deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_1)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    expert = staff(deffinum, "experte@example.fr", Role.EXPERT)
    profile = ExpertProfile.objects.create(user=expert, call=deffinum, sectors=["btp"])
    assignment = add_assignment(dossier, profile, instructor)
    page = waiting(client, expert)
    assert figure(page, "waiting-reviews") == "1"
    assert f"{assignment.due_on:%d/%m/%Y}" in page
    assert 'data-testid="waiting-to-instruct"' not in page


def test_home_administrator_and_committee_counts(client, deffinum, example_document):
    dossier = decided_dossier(deffinum, example_document)  # committed: agreement to sign
    admin = CallRole.objects.get(call=deffinum, role=Role.ADMINISTRATOR,
                                 user__email__contains=f".{dossier.pk}@").user
    page = waiting(client, admin)
    assert figure(page, "waiting-agreements") == "1"
    assert figure(page, "waiting-tranches") == "0"
    assert figure(page, "waiting-reports") == "0"
    second = make_dossier(example_document)
    submit(second, now=IN_WAVE_1)
    record_instruction(second, staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR),
                       admissible=True, eligible=True)
    committee = staff(deffinum, "comite@example.fr", Role.COMMITTEE)
    assert figure(waiting(client, committee), "waiting-waves") == "1"


def test_home_query_count_does_not_grow_with_the_dossiers(client, deffinum):
    person = staff(deffinum, "tout@example.fr", Role.INSTRUCTOR, Role.EXPERT,
                   Role.COMMITTEE, Role.ADMINISTRATOR)
    client.force_login(person)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/instruction/").status_code == 200
        return len(captured)

    bulk_submitted_dossiers(deffinum, 3)
    small = queries()
    bulk_submitted_dossiers(deffinum, 40, start=3)
    assert queries() == small
    assert small <= 30


def test_header_shows_waiting_count_to_staff_only(client, deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_1)
    client.force_login(staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR))
    assert 'data-testid="waiting-count">1<' in client.get("/").content.decode()
    client.force_login(staff(deffinum, "autre@example.fr"))  # no role: nothing waits
    assert 'data-testid="waiting-count"' not in client.get("/").content.decode()
