"""Each call's privacy page says, in plain French, what its definition declares."""

import msgspec
import pytest

from guichet.calls.models import Call
from tests.html import one, text

pytestmark = pytest.mark.django_db


def test_privacy_page_shows_the_call_retention_durations(client, deffinum):
    answer = client.get("/appels/deffinum/donnees-personnelles/")
    shown = text(one(answer.content.decode(), "main"))
    assert answer.status_code == 200
    assert "Dossier financé : 10 ans après le dernier versement" in shown
    assert "Dossier non financé : 2 ans après la décision" in shown
    assert "à confirmer" in shown  # Deffinum's durations are listed in to_confirm
    assert "Caisse des Dépôts — Banque des Territoires opère l'appel" in shown


def test_privacy_page_follows_a_changed_definition(client, deffinum):
    definition = dict(deffinum.definition)
    definition["personal_data"] = {"years_after_last_payment": 1, "years_after_decision": 5}
    definition["to_confirm"] = []
    # A new hash: the parsed definition is kept per process and per content.
    Call.objects.filter(pk=deffinum.pk).update(definition=definition,
                                               definition_sha256="changed-durations")
    page = client.get("/appels/deffinum/donnees-personnelles/").content.decode()
    shown = text(one(page, "main"))
    assert "Dossier financé : 1 an après le dernier versement" in shown
    assert "Dossier non financé : 5 ans après la décision" in shown
    assert "à confirmer" not in shown


def test_privacy_page_of_an_unknown_call_is_404(client, deffinum):
    assert client.get("/appels/inconnu/donnees-personnelles/").status_code == 404


def test_call_page_links_to_its_privacy_page(client, deffinum):
    page = client.get("/appels/deffinum/").content.decode()
    assert 'href="/appels/deffinum/donnees-personnelles/"' in page


def test_definition_without_personal_data_section_keeps_the_platform_durations(deffinum):
    stored = dict(deffinum.definition)
    stored.pop("personal_data")
    Call.objects.filter(pk=deffinum.pk).update(definition=stored,
                                               definition_sha256="no-personal-data")
    rules = Call.objects.get(pk=deffinum.pk).rules()
    assert msgspec.structs.asdict(rules.personal_data) == {
        "years_after_last_payment": 10, "years_after_decision": 2}
