"""Each call's privacy page says, in plain French, what its definition declares."""

import msgspec
import pytest

from guichet.calls.models import Call
from guichet.calls.services import load_call
from tests.conftest import EXAMPLE_REGIONAL_TOML
from tests.html import one, text

pytestmark = pytest.mark.django_db
PAGE = "/appels/{code}/donnees-personnelles/"


def _shown(client, code: str) -> str:
    answer = client.get(PAGE.format(code=code))
    assert answer.status_code == 200
    return text(one(answer.content.decode(), "main"))


def test_privacy_page_of_a_call_declaring_nothing_shows_the_platform_durations(client, deffinum):
    shown = _shown(client, "deffinum")
    assert "ne déclare pas encore ses durées" in shown
    assert "Dossier financé : 10 ans après le dernier versement" in shown
    assert "Dossier non financé : 2 ans après la décision" in shown
    assert "Caisse des Dépôts — Banque des Territoires opère l'appel" in shown


def test_privacy_page_shows_what_the_call_declares(client, db):
    load_call(EXAMPLE_REGIONAL_TOML)
    shown = _shown(client, "deffinov-exemple")
    assert "ne déclare pas encore" not in shown
    assert "à confirmer" not in shown
    assert "Dossier financé : 10 ans après le dernier versement" in shown


def test_privacy_page_follows_a_changed_definition(client, deffinum):
    definition = dict(deffinum.definition)
    definition["personal_data"] = {"years_after_last_payment": 1, "years_after_decision": 5}
    definition["to_confirm"] = ["personal_data"]
    # A new hash: the parsed definition is kept per process and per content.
    Call.objects.filter(pk=deffinum.pk).update(definition=definition,
                                               definition_sha256="changed-durations")
    shown = _shown(client, "deffinum")
    assert "Dossier financé : 1 an après le dernier versement" in shown
    assert "Dossier non financé : 5 ans après la décision" in shown
    assert "sont à confirmer par le responsable du traitement" in shown


def test_privacy_page_of_an_unknown_call_is_404(client, deffinum):
    assert client.get(PAGE.format(code="inconnu")).status_code == 404


def test_call_page_links_to_its_privacy_page(client, deffinum):
    page = client.get("/appels/deffinum/").content.decode()
    assert 'href="/appels/deffinum/donnees-personnelles/"' in page


def test_definition_retention_is_the_declared_one_or_the_platform_one(deffinum):
    assert deffinum.rules().personal_data is None
    assert msgspec.structs.asdict(deffinum.rules().retention) == {
        "years_after_last_payment": 10, "years_after_decision": 2}
