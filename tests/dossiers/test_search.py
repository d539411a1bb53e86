"""Full-text search of the staff list: title, summary, members' names, SIRET and SIREN; French
stemming on PostgreSQL, a substring match on SQLite."""

import re

import pytest
from django.db import connection

from guichet.dossiers.models import ConsortiumMember, Dossier
from guichet.dossiers.search import matching, unaccented
from guichet.dossiers.services import submit
from tests.factories import make_dossier
from tests.grants.test_decisions import IN_WAVE_1

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/dossiers/"


def submitted(document, *, title: str, member_name: str) -> Dossier:
    """A dossier submitted in wave 1 whose non-lead member declares `member_name`."""
    dossier = make_dossier({**document, "title": title})
    ConsortiumMember.objects.filter(consortium=dossier.consortium, is_lead=False).update(
        name=member_name)
    submit(dossier, now=IN_WAVE_1)
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def two(deffinum, example_document):
    return (submitted(example_document, title="Campus hybride du bâtiment",
                      member_name="Atelier Gaspard Lenoir"),
            submitted(example_document, title="Classe virtuelle de l'agriculture",
                      member_name="Studio Hélène Vasseur"))


def found(client, query: str) -> list[str]:
    page = client.get(LIST, {"q": query}).content.decode()
    return re.findall(r'href="/instruction/dossiers/\d+/">([^<]+)</a>', page)


@pytest.fixture
def instructor(client, team):
    client.force_login(team["instructor"])
    return team["instructor"]


def test_search_finds_a_member_name(client, two, instructor):
    campus, classe = two
    assert found(client, "lenoir") == [campus.receipt_number]
    assert found(client, "Vasseur") == [classe.receipt_number]
    assert found(client, "gaspard lenoir") == [campus.receipt_number]


def test_search_finds_a_siret_and_a_siren(client, two, instructor):
    campus, _classe = two
    siret = campus.consortium.members.get(is_lead=False).organisation.siret
    assert found(client, siret) == [campus.receipt_number]
    assert found(client, siret[:9]) == [campus.receipt_number]
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert found(client, spaced) == [campus.receipt_number]


def test_search_words_must_all_match(client, two, instructor):
    assert found(client, "lenoir agriculture") == []


def test_search_keeps_the_other_filters_and_the_call(client, two, instructor, other_call):
    campus, _classe = two
    assert found(client, "lenoir") == [campus.receipt_number]
    page = client.get(LIST, {"q": "lenoir", "etat": "selected"}).content.decode()
    assert campus.receipt_number not in page


@pytest.mark.parametrize("query", ["\x00lenoir", "'; DROP TABLE x; --", "a & | ! :* (",
                                   '"unclosed', "é" * 400])
def test_search_hostile_query_is_never_an_error(client, two, instructor, query):
    assert client.get(LIST, {"q": query}).status_code == 200


def test_submission_writes_the_search_document_and_the_receipt_instant(two):
    campus, _classe = two
    assert "Atelier Gaspard Lenoir" in campus.search_text
    assert "Campus hybride du batiment" in campus.search_text
    assert campus.received_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="French stemming: PostgreSQL")
def test_search_french_plural_finds_the_singular_on_postgresql(two, deffinum):
    campus, classe = two  # their lead is the "Réseau Formation BTP"
    base = Dossier.objects.filter(call=deffinum)
    assert set(matching(base, "formations")) == {campus, classe}
    assert list(matching(base, "bâtiments")) == [campus]
    assert list(matching(base, "classes virtuelles")) == [classe]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index: PostgreSQL")
def test_search_uses_the_french_gin_index_on_postgresql(two, deffinum):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = matching(Dossier.objects.all(), "lenoir").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "dossier_search_french" in plan


@pytest.mark.parametrize(("query", "which"), [
    ("helene vasseur", 1), ("HÉLÈNE", 1), ("hélène", 1), ("batiment", 0), ("BÂTIMENT", 0)])
def test_search_ignores_accents_and_case_both_ways(client, two, instructor, query, which):
    assert found(client, query) == [two[which].receipt_number]


def test_search_ligature_found_written_out(client, deffinum, example_document, instructor):
    dossier = submitted(example_document, title="Main-d'œuvre du bâtiment",
                        member_name="Atelier Lenoir")
    assert found(client, "oeuvre") == [dossier.receipt_number]
    assert found(client, "œuvre") == [dossier.receipt_number]


def test_unaccented_keeps_other_scripts_and_drops_only_marks():
    assert unaccented("Hélène Œuvre Straße ﬁne Ελλάδα") == "Helene OEuvre Strasse fine Ελλαδα"
