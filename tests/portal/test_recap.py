"""The applicant's recap before certifying and submitting, and the completion marks of the
dossier form's steps."""

import datetime as dt

import pytest

from guichet.dossiers.models import Document, DossierAnswers, Milestone
from guichet.review.instruction import request_correction
from tests.factories import lead_and_member, make_dossier
from tests.grants.test_decisions import IN_WAVE_1, instructed_dossier
from tests.html import XHTML, one, select, text

pytestmark = pytest.mark.django_db
NNBSP, NBSP = "\u202f", "\u00a0"


def marks(page: str) -> dict[str, str]:
    return {step.get("data-step"): step.get("data-complete")
            for step in select(page, "[data-step][data-complete]")}


def test_recap_shows_the_whole_draft_with_the_shared_sheet(client, deffinum, example_document):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    page = client.get(f"/dossiers/{dossier.pk}/recapitulatif/").content.decode()
    assert 'data-testid="dossier-sheet"' in page
    assert f"800{NNBSP}000,00{NBSP}€" in page
    assert f"21,25{NBSP}%" in page
    assert "Premiers résultats : 3 parcours hybridés" in page
    document = Document.objects.filter(dossier=dossier).first()
    frame = one(page, f'iframe[src="/dossiers/{dossier.pk}/pieces/{document.pk}/apercu/"]')
    assert frame.get("sandbox") is None  # its response sandboxes it (test_dossier_full)
    assert one(page, f'a[href="/dossiers/{dossier.pk}/pieces/{document.pk}/"]').get(
        "download") == ""
    assert 'data-testid="changes"' not in page  # a first version: nothing to compare
    assert 'data-testid="active-content"' not in page


def test_recap_is_linked_from_the_deposit_step(client, deffinum, example_document):
    dossier = make_dossier(example_document)
    client.force_login(lead_and_member(dossier)[0])
    page = client.get(f"/dossiers/{dossier.pk}/etape/depot/").content.decode()
    assert f'href="/dossiers/{dossier.pk}/recapitulatif/"' in page


def test_recap_of_another_consortium_is_404(client, deffinum, example_document):
    dossier = make_dossier(example_document)
    other = make_dossier(example_document)
    client.force_login(lead_and_member(other)[0])
    assert client.get(f"/dossiers/{dossier.pk}/recapitulatif/").status_code == 404
    document = Document.objects.filter(dossier=dossier).first()
    assert client.get(
        f"/dossiers/{dossier.pk}/pieces/{document.pk}/apercu/").status_code == 404


def test_recap_after_a_correction_request_shows_what_changed(client, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    request_correction(dossier, team["instructor"], "Ajoutez un jalon intermédiaire.",
                       IN_WAVE_1 + dt.timedelta(days=7), now=IN_WAVE_1 + dt.timedelta(hours=1))
    Milestone.objects.create(dossier=dossier, month=24, kind="intermediate",
                             label="Bilan à mi-parcours", position=9)
    client.force_login(lead_and_member(dossier)[0])
    page = client.get(f"/dossiers/{dossier.pk}/recapitulatif/").content.decode()
    assert "Modifications depuis la version précédente" in page
    rows = [[text(cell) for cell in row.iter(f"{XHTML}td")]
            for row in select(page, '[data-testid="changes"] tr')]
    assert ["Jalons", "Bilan à mi-parcours", "ajouté"] in [row[:3] for row in rows]


def test_step_navigation_marks_complete_and_incomplete_steps(client, deffinum,
                                                             example_document):
    del example_document["milestones"]
    dossier = make_dossier(example_document)
    client.force_login(lead_and_member(dossier)[0])
    page = client.get(f"/dossiers/{dossier.pk}/etape/projet/").content.decode()
    assert marks(page) == {
        "projet": "true", "consortium": "true", "calendrier": "false", "budget": "true",
        "financement": "true", "hybridation": "false", "documents": "true", "depot": "false"}
    assert "à compléter" in page


def test_step_navigation_marks_hybridation_complete_once_its_shares_are_given(
        client, deffinum, example_document):
    dossier = make_dossier(example_document, with_documents=False)
    DossierAnswers.objects.update_or_create(dossier=dossier, defaults={"values": {
        "synchronous_share": 20, "asynchronous_share": 30, "in_person_share": 30,
        "distance_share": 10, "work_situation_share": 10}})
    client.force_login(lead_and_member(dossier)[0])
    page = client.get(f"/dossiers/{dossier.pk}/etape/budget/").content.decode()
    assert marks(page)["hybridation"] == "true"
    assert marks(page)["documents"] == "false"
