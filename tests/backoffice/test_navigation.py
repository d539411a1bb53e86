"""Staff navigation: where people land after logging in, the header's link to the back office,
no link to a page the role cannot open, and a refusal in French (403) rather than a 404."""

import io
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command

from guichet.calls.models import Call
from guichet.demo.dossiers import DEMO_LEAD_EMAIL, DEMO_PASSWORD
from guichet.demo.grants import STAFF
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.review.models import Role
from tests.conftest import DEFFINUM_TOML
from tests.factories import assign, expert_profile, make_user
from tests.html import one, text

pytestmark = pytest.mark.django_db
EXPERT_EMAIL = "experte@demo.guichet.test"


@pytest.fixture
def demo(settings, tmp_path):
    """The demo of `make run`, and an expert with one dossier to review."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("loadcall", str(DEFFINUM_TOML), "--demo", stdout=io.StringIO())
    call_command("seeddemo", stdout=io.StringIO())
    call = Call.objects.get(code="deffinum")
    profile = expert_profile(make_user(EXPERT_EMAIL, password=DEMO_PASSWORD), call)
    dossier = Dossier.objects.filter(call=call).exclude(status=DossierStatus.DRAFT).first()
    assign(dossier, profile, dossier.updated_at)
    return call


PEOPLE = {"instructor": STAFF[Role.INSTRUCTOR], "committee": STAFF[Role.COMMITTEE],
          "administrator": STAFF[Role.ADMINISTRATOR], "expert": EXPERT_EMAIL}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "http", "mailto:")):
            self.hrefs.append(href)


def _links(page_url: str, html: str) -> set[str]:
    parser = _Links()
    parser.feed(html)
    return {urljoin(page_url, href) for href in parser.hrefs}


def _log_in(client, email: str):
    return client.post("/comptes/login/", {"login": email, "password": DEMO_PASSWORD})


@pytest.mark.parametrize("person", list(PEOPLE))
def test_staff_land_in_the_back_office_after_login(client, demo, person):
    response = _log_in(client, PEOPLE[person])
    assert (response.status_code, response["Location"]) == (302, "/instruction/")


def test_applicant_lands_in_their_space_after_login(client, demo):
    response = _log_in(client, DEMO_LEAD_EMAIL)
    assert (response.status_code, response["Location"]) == (302, "/espace/")


def test_header_links_to_the_back_office_for_staff_only(client, demo):
    client.force_login(Call.objects.get().roles.get(role=Role.INSTRUCTOR).user)
    page = client.get("/").content.decode()
    link = one(page, '[data-testid="backoffice-link"]')
    assert (link.get("href"), text(link)) == ("/instruction/", "Espace instruction")
    assert 'href="/espace/"' not in page  # an instructor acting for no organisation
    client.logout()
    _log_in(client, DEMO_LEAD_EMAIL)
    page = client.get("/").content.decode()
    assert 'href="/espace/">Mon espace</a>' in page
    assert 'href="/instruction/"' not in page


@pytest.mark.parametrize(("person", "url", "holders"), [
    ("committee", "/instruction/appels/deffinum/experts/",
     "Cette page est réservée aux instructeurs et aux administrateurs de l'appel."),
    ("instructor", "/instruction/appels/deffinum/comite/w2/",
     "Cette page est réservée au comité de sélection et aux administrateurs de l'appel."),
    ("instructor", "/instruction/appels/deffinum/cloture/",
     "Cette page est réservée aux administrateurs de l'appel."),
    ("expert", "/instruction/appels/deffinum/dossiers/",
     "Cette page est réservée à l'équipe d'instruction, au comité de sélection et aux "
     "administrateurs de l'appel."),
    ("expert", "/instruction/tableau-de-bord/",
     "Cette page est réservée à l'équipe d'instruction, au comité de sélection et aux "
     "administrateurs de l'appel."),
])
def test_page_refused_to_a_role_is_a_french_403(client, demo, person, url, holders):
    _log_in(client, PEOPLE[person])
    response = client.get(url)
    page = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 403
    assert "<h1>Accès refusé</h1>" in page
    assert holders in page


def test_call_pages_of_a_call_one_does_not_serve_stay_404(client, demo):
    _log_in(client, DEMO_LEAD_EMAIL)
    for url in ("/instruction/appels/deffinum/dossiers/", "/instruction/appels/deffinum/experts/",
                "/instruction/appels/deffinum/comite/w2/", "/instruction/appels/autre/dossiers/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("person", list(PEOPLE))
def test_every_link_shown_on_every_back_office_page_opens(client, demo, person):
    """From the back-office home, follow every link of every back-office page (links leaving
    the back office are opened, not followed): each one answers 200 to this role."""
    _log_in(client, PEOPLE[person])
    to_visit, crawled, answers = ["/instruction/"], set(), {}
    while to_visit:
        url = to_visit.pop()
        response = client.get(url)
        answers[url] = response.status_code
        path = urlsplit(url).path
        if response.status_code != 200 or path in crawled or not path.startswith("/instruction/"):
            continue
        crawled.add(path)  # sort and filter variants of a page are opened, not followed
        if response["Content-Type"].startswith("text/html"):
            to_visit += sorted(_links(url, response.content.decode()) - answers.keys())
    refused = {url: status for url, status in answers.items() if status != 200}
    assert refused == {}
    assert len(crawled) >= 2, crawled
