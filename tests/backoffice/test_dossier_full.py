"""The whole frozen dossier for reviewers: who may open it, what it shows (budget, financing
shares to the cent, documents previewed and downloadable, changes between versions)."""

import datetime as dt

import pytest

from guichet.dossiers.models import Dossier, ExpenseLine
from guichet.dossiers.services import submit
from guichet.review.experts import add_assignment, declare_conflict
from guichet.review.instruction import request_correction
from tests.factories import lead_and_member
from tests.grants.test_decisions import IN_WAVE_1, instructed_dossier, pool_of_three
from tests.html import one

pytestmark = pytest.mark.django_db
NNBSP, NBSP = "\u202f", "\u00a0"


def full(dossier) -> str:
    return f"/instruction/dossiers/{dossier.pk}/complet/"


@pytest.fixture
def reviewed(deffinum, team, example_document):
    """A submitted dossier with one expert assigned, one who declared a conflict, one not
    assigned."""
    dossier = instructed_dossier(example_document, team["instructor"])
    assigned, conflicted, unassigned = pool_of_three(deffinum)
    add_assignment(dossier, assigned, team["instructor"])
    add_assignment(dossier, conflicted, team["instructor"])
    declare_conflict(conflicted, dossier, "Ancien employeur du chef de file")
    return dossier, {"assigned": assigned.user, "conflicted": conflicted.user,
                     "unassigned": unassigned.user}


@pytest.mark.parametrize(("who", "status"), [
    ("instructor", 200), ("committee", 200), ("assigned", 200), ("conflicted", 404),
    ("unassigned", 404), ("other_applicant", 404), ("own_applicant", 404)])
def test_dossier_full_view_permission_matrix(client, team, example_document, reviewed, who,
                                             status):
    dossier, experts = reviewed
    other = instructed_dossier(example_document, team["instructor"])
    people = {**team, **experts, "other_applicant": lead_and_member(other)[0],
              "own_applicant": lead_and_member(dossier)[0]}
    client.force_login(people[who])
    assert client.get(full(dossier)).status_code == status


@pytest.mark.parametrize(("who", "status"), [("assigned", 200), ("conflicted", 404),
                                             ("unassigned", 404)])
def test_document_preview_follows_the_same_permission(client, reviewed, who, status):
    dossier, experts = reviewed
    document = dossier.documents.first()
    client.force_login(experts[who])
    url = f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/apercu/"
    assert client.get(url).status_code == status


def test_dossier_full_view_anonymous_is_sent_to_sign_in(client, reviewed):
    response = client.get(full(reviewed[0]))
    assert response.status_code == 302
    assert "/comptes/" in response["Location"] or "login" in response["Location"]


def test_dossier_full_view_shows_budget_totals_and_financing_shares_to_the_cent(
        client, reviewed):
    dossier, experts = reviewed
    client.force_login(experts["assigned"])
    page = client.get(full(dossier)).content.decode()
    for amount in ("800 000,00 €", "450 000,00 €", "350 000,00 €", "560 000,00 €",
                   "170 000,00 €", "70 000,00 €"):
        assert amount.replace(" ", NNBSP).replace(NNBSP + "€", NBSP + "€") in page
    for share in ("70 %", "21,25 %", "8,75 %", "100 %"):
        assert share.replace(" ", NBSP) in page
    assert "Réseau Formation BTP" in page
    assert "Autofinancement" in page  # the source as people read it, never its code
    assert "own_cash" not in page
    assignment = dossier.assignments.get(expert__user=experts["assigned"])
    assert f'href="/instruction/expertises/{assignment.pk}/"' in page  # back to the grid


def test_dossier_full_view_lists_documents_with_preview_and_download(client, team, reviewed):
    dossier, _experts = reviewed
    client.force_login(team["instructor"])
    page = client.get(full(dossier)).content.decode()
    documents = list(dossier.documents.all())
    assert documents
    for document in documents:
        base = f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/"
        frame = one(page, f'iframe[src="{base}apercu/"]')
        # Sandboxed by its response's CSP: Chromium shows no PDF in a sandboxed frame.
        assert (frame.get("class"), frame.get("sandbox")) == ("guichet-preview", None)
        assert one(page, f'a[href="{base}"]').get("download") == ""


def test_document_preview_is_inline_sandboxed_and_never_sniffed(client, team, reviewed):
    dossier, _experts = reviewed
    document = dossier.documents.first()
    client.force_login(team["instructor"])
    response = client.get(f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/apercu/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; frame-ancestors 'self'")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    download = client.get(f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/")
    assert download["Content-Disposition"].startswith("attachment")


def test_review_page_links_to_the_whole_dossier(client, reviewed):
    dossier, experts = reviewed
    client.force_login(experts["assigned"])
    assignment = dossier.assignments.get(expert__user=experts["assigned"])
    page = client.get(f"/instruction/expertises/{assignment.pk}/").content.decode()
    assert f'href="{full(dossier)}"' in page


def corrected(dossier, instructor) -> None:
    """A correction round: the simulators line drops by one cent, then the dossier is sent
    again."""
    request_correction(dossier, instructor, "Précisez le budget.",
                       IN_WAVE_1 + dt.timedelta(days=7), now=IN_WAVE_1 + dt.timedelta(hours=1))
    ExpenseLine.objects.filter(dossier=dossier, label="Simulateurs").update(
        amount="349999.99")
    Dossier.objects.filter(pk=dossier.pk).update(keywords="bim, chantier, simulateur")
    submit(dossier, now=IN_WAVE_1 + dt.timedelta(hours=2))


def test_staff_dossier_page_shows_the_changes_since_the_previous_version(
        client, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    client.force_login(team["instructor"])
    first = client.get(f"/instruction/dossiers/{dossier.pk}/").content.decode()
    assert 'data-testid="changes"' not in first
    corrected(dossier, team["instructor"])
    page = client.get(f"/instruction/dossiers/{dossier.pk}/").content.decode()
    assert "Modifications depuis la version précédente" in page
    assert "EdTech Immersia — Simulateurs" in page
    assert f"350{NNBSP}000,00{NBSP}€</td><td>349{NNBSP}999,99{NBSP}€" in page
    assert 'data-testid="dossier-sheet"' in page
    # the keywords were set after the first receipt (instructed_dossier): none in version 1
    assert "<td>Mots-clés</td><td>—</td><td>bim, chantier, simulateur</td>" in page
