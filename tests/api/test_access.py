"""The permission matrix through the API: every person gets from the API exactly what the
pages give them, on a dossier of our call and on one of another funder's call."""

import pytest

from guichet.backoffice.selectors import ListFilters, instruction_list
from tests.backoffice.test_permissions import PEOPLE

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _page_opens(client, person, urls) -> bool:
    client.force_login(person)
    opened = any(client.get(url).status_code == 200 for url in urls)
    client.logout()
    return opened


def _dossier_pages(dossier) -> list[str]:
    return [f"/dossiers/{dossier.pk}/", f"/instruction/dossiers/{dossier.pk}/"]


@pytest.mark.parametrize("which", ["own", "other"])
def test_api_dossier_opens_to_exactly_the_people_its_pages_open_to(client, world, bearer,
                                                                   which):
    dossier = world[which]
    outcomes = {}
    for name in PEOPLE:
        person = world["people"][name]
        answer = client.get(f"{API}/dossiers/{dossier.pk}", headers=bearer(person))
        outcomes[name] = (answer.status_code, _page_opens(client, person, _dossier_pages(dossier)))
    assert {name: api == 200 for name, (api, _page) in outcomes.items()} == {
        name: page for name, (_api, page) in outcomes.items()}
    assert {api for api, _page in outcomes.values()} <= {200, 404}
    if which == "own":
        assert {name for name, (api, _page) in outcomes.items() if api == 200} == {
            "lead", "instructor", "committee", "administrator", "expert"}
    else:
        assert all(api == 404 for api, _page in outcomes.values())


@pytest.mark.parametrize("which", ["own", "other"])
@pytest.mark.parametrize(("resource", "pages"), [
    ("receipt", ["/dossiers/{pk}/accuse/", "/instruction/dossiers/{pk}/"]),
    ("receipt.pdf", ["/dossiers/{pk}/accuse.pdf", "/instruction/dossiers/{pk}/"]),
    ("verdict", ["/dossiers/{pk}/", "/instruction/dossiers/{pk}/"]),
])
def test_api_receipt_opens_to_exactly_the_people_its_pages_open_to(client, world, bearer,
                                                                  which, resource, pages):
    dossier = world[which]
    for name in PEOPLE:
        person = world["people"][name]
        answer = client.get(f"{API}/dossiers/{dossier.pk}/{resource}", headers=bearer(person))
        urls = [page.format(pk=dossier.pk) for page in pages]
        assert (answer.status_code == 200) == _page_opens(client, person, urls), name


@pytest.mark.parametrize("which", ["own", "other"])
def test_api_document_downloads_for_exactly_the_people_its_pages_serve(client, world, bearer,
                                                                       which):
    dossier = world[which]
    document = dossier.documents.first()
    for name in PEOPLE:
        person = world["people"][name]
        answer = client.get(f"{API}/dossiers/{dossier.pk}/documents/{document.pk}",
                            headers=bearer(person))
        pages = [f"/dossiers/{dossier.pk}/pieces/{document.pk}/",
                 f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/"]
        assert (answer.status_code == 200) == _page_opens(client, person, pages), name


def test_api_instruction_list_gives_each_person_what_the_list_page_gives(client, world, bearer):
    expected_ids = sorted(instruction_list(world["own"].call, ListFilters()).values_list(
        "pk", flat=True))
    for name in PEOPLE:
        person = world["people"][name]
        answer = client.get(f"{API}/calls/deffinum/dossiers", headers=bearer(person))
        client.force_login(person)
        page = client.get("/instruction/appels/deffinum/dossiers/")
        client.logout()
        assert answer.status_code == page.status_code, name
        if answer.status_code == 200:
            assert sorted(row["id"] for row in answer.json()["items"]) == expected_ids
            assert world["other"].pk not in expected_ids


def test_api_my_dossiers_lists_only_the_dossiers_one_takes_part_in(client, world, bearer):
    for name in PEOPLE:
        answer = client.get(f"{API}/dossiers", headers=bearer(world["people"][name]))
        expected = [world["own"].pk] if name == "lead" else []
        assert [row["id"] for row in answer.json()["items"]] == expected, name


def test_api_call_shows_what_its_waves_can_still_commit_only_to_its_staff(client, world,
                                                                          bearer):
    for name in PEOPLE:
        answer = client.get(f"{API}/calls/deffinum", headers=bearer(world["people"][name]))
        remaining = [wave["remaining"] for wave in answer.json()["waves"]]
        if name in ("instructor", "committee", "administrator"):
            assert all(amount is not None for amount in remaining), name
        else:
            assert remaining == [None] * len(remaining), name


def test_api_without_a_valid_token_answers_401_as_a_problem(client, world):
    for headers in ({}, {"Authorization": "Bearer gch_forged"}, {"Authorization": "Basic eA=="}):
        answer = client.get(f"{API}/dossiers/{world['own'].pk}", headers=headers)
        assert answer.status_code == 401
        assert answer["Content-Type"] == "application/problem+json"
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["code"] == "unauthenticated"


def test_api_throttles_each_token_apart_with_a_problem_and_retry_after(client, world, bearer,
                                                                       settings):
    settings.API_THROTTLE_RATE = "3/m"
    lead = world["people"]["lead"]
    busy, other = bearer(lead), bearer(lead)
    statuses = [client.get(f"{API}/dossiers", headers=busy).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get(f"{API}/dossiers", headers=busy)
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert client.get(f"{API}/dossiers", headers=other).status_code == 200
