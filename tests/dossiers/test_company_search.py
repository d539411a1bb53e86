"""The SIRET lookup against a local HTTP server answering in the format of the State's
company search ("API Recherche d'entreprises": recorded answers under
tests/data/company_search/), never the real service."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache

from guichet.core.errors import ServiceError
from guichet.dossiers.company_search import (
    CompanyRecord,
    CompanySearchUnavailable,
    lookup_company,
)
from guichet.dossiers.membership import register_organisation
from guichet.dossiers.models import Organisation
from tests.factories import make_user

pytestmark = pytest.mark.django_db
RECORDED = Path(__file__).resolve().parent.parent / "data" / "company_search"
HEAD, BRANCH, UNKNOWN = "77567227200017", "77567227200231", "73282932000074"
SLOW, GARBLED, HOSTILE = "55208131766522", "40000001400018", "40000002200011"


class Directory(BaseHTTPRequestHandler):
    """Answers /search?q=<siret> as the service does, with a few misbehaviours on cue."""

    asked: list[str] = []

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)["q"][0]
        type(self).asked.append(query)
        if query == SLOW:
            time.sleep(1.5)
        if query in (HEAD, BRANCH):
            body = (RECORDED / "found.json").read_bytes()
        elif query == GARBLED:
            body = b"<html>502 Bad Gateway</html>"
        elif query == HOSTILE:
            record = json.loads((RECORDED / "found.json").read_text("utf-8"))
            unit = record["results"][0]
            unit["siege"]["siret"] = HOSTILE
            unit["nom_raison_sociale"] = "ACME\r\nBcc: victim@example.org"
            unit["nom_complet"] = "=HYPERLINK(\"http://evil\")\x00"
            unit["nature_juridique"] = "<script>"
            unit["siege"]["activite_principale"] = 85.32
            body = json.dumps(record).encode()
        else:
            body = (RECORDED / "none.json").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def directory(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.COMPANY_SEARCH_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.COMPANY_SEARCH_TIMEOUT = 0.5
    Directory.asked = []
    cache.clear()
    yield Directory
    server.shutdown()
    server.server_close()
    cache.clear()


def test_lookup_company_head_office_from_the_recorded_answer(directory):
    assert lookup_company(HEAD) == CompanyRecord(
        siret=HEAD, name="CAMPUS DES METIERS DU BATIMENT",
        address="12 RUE DES COMPAGNONS 69007 LYON", legal_form="9220",
        activity_code="85.32Z", region="84")


def test_lookup_company_establishment_has_its_own_address_and_activity(directory):
    record = lookup_company(BRANCH)
    assert (record.address, record.activity_code) == (
        "4 AVENUE DE L'INDUSTRIE 38000 GRENOBLE", "85.59A")


def test_lookup_company_unknown_siret_is_none(directory):
    assert lookup_company(UNKNOWN) is None


def test_lookup_company_answer_kept_in_the_shared_cache(directory):
    lookup_company(HEAD)
    lookup_company(HEAD)
    lookup_company(UNKNOWN)
    lookup_company(UNKNOWN)
    assert directory.asked == [HEAD, UNKNOWN]


def test_lookup_company_slow_service_unavailable_within_the_timeout(directory):
    started = time.monotonic()
    with pytest.raises(CompanySearchUnavailable):
        lookup_company(SLOW)
    assert time.monotonic() - started < 1.2


def test_lookup_company_service_down_unavailable(settings, directory):
    settings.COMPANY_SEARCH_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(CompanySearchUnavailable):
        lookup_company(HEAD)


def test_lookup_company_answer_not_json_unavailable(directory):
    with pytest.raises(CompanySearchUnavailable):
        lookup_company(GARBLED)


def test_lookup_company_hostile_values_dropped(directory):
    # A header injection, a formula with a NUL, a script and a number where text is due: none
    # is taken; without a name the record is not used at all.
    assert lookup_company(HOSTILE) is None


def test_dashboard_lookup_fills_the_organisation_form(client, directory):
    client.force_login(make_user("porteur@example.fr"))
    page = client.get("/espace/", {"siret": "775 672 272 00017"}).content.decode()
    assert 'value="CAMPUS DES METIERS DU BATIMENT"' in page
    assert 'value="12 RUE DES COMPAGNONS 69007 LYON"' in page
    assert 'value="85.32Z"' in page
    assert 'value="9220"' in page
    assert "Informations reprises de l&#x27;annuaire des entreprises" in page


def test_dashboard_lookup_service_down_still_lets_people_type(client, settings, directory):
    settings.COMPANY_SEARCH_URL = "http://127.0.0.1:9"
    user = make_user("porteur@example.fr")
    client.force_login(user)
    page = client.get("/espace/", {"siret": HEAD})
    assert page.status_code == 200
    assert "ne répond pas pour l&#x27;instant" in page.content.decode()
    response = client.post("/espace/organismes/", {"siret": HEAD, "name": "Campus (saisi)",
                                            "region": "84", "address": "", "legal_form": "",
                                            "activity_code": ""})
    assert response.status_code == 302
    assert Organisation.objects.get(siret=HEAD).name == "Campus (saisi)"


def test_dashboard_lookup_invalid_siret_says_so(client, directory):
    client.force_login(make_user("porteur@example.fr"))
    page = client.get("/espace/", {"siret": "12345678901234"}).content.decode()
    assert "n&#x27;est pas valide" in page
    assert directory.asked == []


def test_register_organisation_keeps_the_public_record(directory):
    user = make_user("porteur@example.fr")
    organisation = register_organisation(
        user, HEAD, "CAMPUS DES METIERS DU BATIMENT", "84",
        address="12 RUE DES COMPAGNONS 69007 LYON", legal_form="9220", activity_code="85.32Z")
    organisation.refresh_from_db()
    assert (organisation.address, organisation.legal_form, organisation.activity_code) == (
        "12 RUE DES COMPAGNONS 69007 LYON", "9220", "85.32Z")


@pytest.mark.parametrize(("field", "values"), [
    ("address", {"address": "1 rue\r\nBcc: x@example.org"}),
    ("legal_form", {"legal_form": "=1+1"}),
    ("activity_code", {"activity_code": "<b>"}),
])
def test_register_organisation_hostile_record_refused_with_its_field(field, values):
    with pytest.raises(ServiceError) as refused:
        register_organisation(make_user("porteur@example.fr"), HEAD, "Campus", "84", **values)
    assert refused.value.field == field
    assert not Organisation.objects.exists()
