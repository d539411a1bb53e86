"""The staff dossier page and the committee page cost a fixed number of queries whatever the
size of the expert pool and of the wave; a deep page of the dossier list costs what the second
one does (keyset pagination), and shows the right rows."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guichet.calls.models import Wave
from guichet.dossiers.models import Dossier, ExpenseLine
from guichet.dossiers.services import submit
from guichet.review import workbench
from guichet.review.instruction import request_correction
from guichet.review.models import ExpertProfile, Label
from tests.factories import (
    attach_required_documents,
    bulk_submitted_dossiers,
    make_expert,
)
from tests.grants.test_decisions import IN_WAVE_1, instructed_dossier, pool_of_three, scored
from tests.html import one, select, text

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/dossiers/"
COMMITTEE = "/instruction/appels/deffinum/comite/w1/"


def queries(client, url: str) -> int:
    """The queries of a page seen again: the header's count of waiting work is made once a
    minute per person (guichet.review.selectors.waiting_total), not on each page."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def grow_pool(call, count: int, start: int) -> None:
    """Experts of the call who review nothing (yet): they only appear in the pool."""
    for n in range(start, start + count):
        make_expert(call, f"vivier{n}@example.fr")


@pytest.mark.parametrize("person", ["admin", "instructor", "committee"])
def test_staff_dossier_page_query_count_does_not_grow_with_the_pool(
        client, deffinum, team, example_document, person):
    dossier = instructed_dossier(example_document, team["instructor"])
    scored(dossier, team["instructor"], pool_of_three(deffinum), 4)
    other = instructed_dossier(example_document, team["instructor"])
    client.force_login(team[person])
    small = queries(client, f"/instruction/dossiers/{dossier.pk}/")
    grow_pool(deffinum, 25, start=0)
    more = list(ExpertProfile.objects.filter(user__email__startswith="vivier")[:6])
    scored(other, team["instructor"], more[:3], 3)  # reviews of the call elsewhere
    scored(dossier, team["instructor"], more[3:], 2)  # and more reviews of this one
    large = queries(client, f"/instruction/dossiers/{dossier.pk}/")
    assert small == large
    assert large <= 30
    page = client.get(f"/instruction/dossiers/{dossier.pk}/").content.decode()
    assert page.count("vivier") >= 25 * (person != "committee")  # the pool to pick from


def test_committee_page_query_count_does_not_grow_with_the_wave(client, deffinum, team,
                                                                 example_document):
    experts = pool_of_three(deffinum)
    Wave.objects.filter(code="w1").update(budget=10_000_000)
    for score in (4, 3):
        scored(instructed_dossier(example_document, team["instructor"]), team["instructor"],
               experts, score)
    client.force_login(team["admin"])
    small = queries(client, COMMITTEE)
    for score in (5, 4, 3, 2, 4, 3):
        scored(instructed_dossier(example_document, team["instructor"]), team["instructor"],
               experts, score)
    large = queries(client, COMMITTEE)
    assert small == large
    assert large <= 30
    page = client.get(COMMITTEE).content.decode()
    for dossier in Dossier.objects.filter(wave__code="w1"):
        assert dossier.receipt_number in page


# --- keyset pagination of the dossier list -------------------------------------------------

@pytest.fixture
def instructor(client, team):
    client.force_login(team["instructor"])
    return team["instructor"]


def receipts(page: str) -> list[str]:
    return [text(link) for link in select(page, "a[href]")
            if re.fullmatch(r"/instruction/dossiers/\d+/", link.get("href"))]


def follow(client, url: str, times: int, link: str = "next-page") -> tuple[str, str]:
    """The page reached by following the next (or previous) link `times` times."""
    page = client.get(url).content.decode()
    for _ in range(times):
        url = LIST + one(page, f'[data-testid="{link}"]').get("href")
        page = client.get(url).content.decode()
    return url, page


def test_list_page_n_holds_the_right_rows_in_every_sort(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 230)
    for sort, field in (("numero", "receipt_number"), ("-aide", "-requested_aid"),
                        ("titre", "title")):
        expected = list(Dossier.objects.filter(call=deffinum).order_by(field, "pk")
                        .values_list("receipt_number", flat=True))
        _url, fourth = follow(client, f"{LIST}?tri={sort}", 3)
        assert receipts(fourth) == expected[150:200], sort
        assert "4 / 5" in fourth
        _url, last = follow(client, f"{LIST}?tri={sort}", 4)
        assert receipts(last) == expected[200:], sort
        assert 'data-testid="next-page"' not in last
        _url, back = follow(client, _url, 1, "previous-page")
        assert receipts(back) == expected[150:200], sort


def test_list_keyset_pages_keep_the_filters(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 330)
    expected = list(Dossier.objects.filter(
        call=deffinum, consortium__members__organisation__region="84")
        .order_by("-requested_aid", "pk").values_list("receipt_number", flat=True))
    assert len(expected) == 55
    _url, second = follow(client, f"{LIST}?region=84&tri=-aide", 1)
    assert receipts(second) == expected[50:]
    assert "2 / 2" in second
    assert "55 dossiers" in second


def test_list_empty_amounts_are_paged_once_each(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 120)
    Dossier.objects.filter(call=deffinum, pk__in=Dossier.objects.filter(call=deffinum)
                           .order_by("pk").values("pk")[40:70]).update(requested_aid=None)
    for sort in ("aide", "-aide"):
        seen = []
        for times in range(3):
            seen += receipts(follow(client, f"{LIST}?tri={sort}", times)[1])
        assert sorted(seen) == sorted(Dossier.objects.filter(call=deffinum).values_list(
            "receipt_number", flat=True)), sort


def test_list_query_count_does_not_grow_with_the_page_depth(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 520)
    second, _page = follow(client, f"{LIST}?tri=-aide", 1)
    deep, page = follow(client, f"{LIST}?tri=-aide", 9)
    assert "10 / 11" in page
    back, page = follow(client, deep, 1, "previous-page")
    assert "9 / 11" in page
    assert queries(client, second) == queries(client, deep) == queries(client, back)


def test_list_unknown_cursor_shows_the_first_page(client, deffinum, instructor, other_call):
    bulk_submitted_dossiers(deffinum, 60)
    bulk_submitted_dossiers(other_call, 1, start=1000)
    foreign = Dossier.objects.get(call=other_call).pk
    first = receipts(client.get(LIST).content.decode())
    assert receipts(client.get(f"{LIST}?apres={foreign}").content.decode()) == first
    assert receipts(client.get(f"{LIST}?avant=abc").content.decode()) == first


def test_staff_dossier_page_query_count_does_not_grow_with_versions_documents_or_lines(
        client, team, example_document):
    """The whole dossier on the page (every budget line, every document, the changes since the
    previous version) costs the same queries whatever their number."""
    dossier = instructed_dossier(example_document, team["instructor"])
    client.force_login(team["instructor"])
    small = queries(client, f"/instruction/dossiers/{dossier.pk}/")
    request_correction(dossier, team["instructor"], "Détaillez le budget.",
                       IN_WAVE_1 + dt.timedelta(days=7), now=IN_WAVE_1 + dt.timedelta(hours=1))
    member = dossier.expenses.first().member
    ExpenseLine.objects.bulk_create(
        ExpenseLine(dossier=dossier, member=member, category="staff", label=f"Poste {n}",
                    amount="1000.00", eligible=True, position=10 + n) for n in range(20))
    attach_required_documents(dossier)  # a second copy of every attachment
    submit(dossier, now=IN_WAVE_1 + dt.timedelta(hours=2))
    large = queries(client, f"/instruction/dossiers/{dossier.pk}/")
    assert small == large
    page = client.get(f"/instruction/dossiers/{dossier.pk}/").content.decode()
    assert page.count("Poste ") >= 40  # each new line in the budget and in the changes
    assert page.count("<iframe") == 2 * len(dossier.call.rules().required_documents)


# --- the workbench: labels on the rows, search, saved filters ------------------------------

def labelled(call, instructor, every: int) -> Label:
    """Two labels of the call, the first on every `every`-th dossier, the second on all;
    returns the first."""
    first = workbench.create_label(call, instructor, "À revoir", "pink-macaron")
    second = workbench.create_label(call, instructor, "Dossier phare", "green-menthe")
    dossiers = list(Dossier.objects.filter(call=call).order_by("pk"))
    first.dossiers.add(*dossiers[::every])
    second.dossiers.add(*dossiers)
    return first


def searched(label: Label) -> list[str]:
    return [LIST, f"{LIST}?q=organisme", f"{LIST}?q=organisme&etiquette={label.pk}&tri=-recu"]


def test_list_query_count_constant_with_labels_and_search(client, deffinum, instructor):
    bulk_submitted_dossiers(deffinum, 4)
    label = labelled(deffinum, instructor, 2)
    workbench.save_filter(deffinum, instructor, "Mes dossiers", "q=organisme")
    few = [queries(client, url) for url in searched(label)]
    Label.objects.all().delete()
    bulk_submitted_dossiers(deffinum, 120, start=4)
    label = labelled(deffinum, instructor, 3)
    many = [queries(client, url) for url in searched(label)]
    assert few == many
    assert len(set(many)) == 1  # searching and filtering by label cost no query more
    assert many[0] <= 20  # as test_list_query_count_does_not_grow_with_rows
    page = client.get(f"{LIST}?q=organisme&etiquette={label.pk}").content.decode()
    assert page.count('fr-badge--pink-macaron">À revoir') == 42 + 1  # the rows, the call's
