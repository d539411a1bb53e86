"""Hostile PDFs (issue 8, item 10): active content is shown to staff, never rendered inline;
decompression bombs are refused and leave nothing behind."""

import datetime as dt
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guichet.audit.models import AuditEvent
from guichet.calls.services import load_call
from guichet.dossiers.models import Document
from guichet.dossiers.services import submit
from guichet.grants.agreement import sign_agreement
from guichet.grants.errors import GrantRefused
from guichet.grants.models import Grant
from guichet.review.models import Role
from tests import hostile_pdfs
from tests.conftest import DEFFINUM_TOML
from tests.factories import lead_and_member, make_dossier, staff
from tests.grants.test_grants import granted, instructed_dossier, select  # noqa: F401 - fixtures
from tests.html import XHTML, text
from tests.html import select as matching

pytestmark = pytest.mark.django_db

BOMB = "Le PDF contient des données qui dépassent 64 Mo une fois décompressées"


@pytest.fixture
def dossier(db, example_document):
    load_call(DEFFINUM_TOML, demo_today=dt.date.today())
    return make_dossier(example_document)


@pytest.fixture
def lead(dossier):
    return lead_and_member(dossier)[0]


@pytest.fixture
def instructor(dossier):
    return staff(dossier.call, "instructrice@example.fr", Role.INSTRUCTOR)


def upload(lead, dossier, content: bytes, name: str = "presentation.pdf"):
    client = Client()
    client.force_login(lead)
    return client.post(f"/dossiers/{dossier.pk}/etape/documents/", {
        "kind": "presentation", "file": SimpleUploadedFile(name, content)})


def staff_page(user, dossier) -> str:
    """The back-office page of the dossier, once submitted (staff see its pieces then)."""
    submit(dossier)
    client = Client()
    client.force_login(user)
    return client.get(f"/instruction/dossiers/{dossier.pk}/").content.decode()


def test_pdf_with_javascript_badged_for_instructors_next_to_it(lead, instructor, dossier):
    upload(lead, dossier, hostile_pdfs.open_action_javascript(), "script.pdf")

    document = Document.objects.get(dossier=dossier, original_name="script.pdf")
    assert document.active_content == ["javascript"]
    page = staff_page(instructor, dossier)
    [line] = [item for item in matching(page, "li") if "script.pdf" in text(item)
              and item.find(f".//{XHTML}li") is None]
    [badge] = [span for span in line.iter(f"{XHTML}span")
               if span.get("data-testid") == "active-content"]
    assert (badge.get("class"), text(badge)) == ("fr-badge fr-badge--warning fr-badge--sm",
                                                  "Contient du JavaScript")
    added = AuditEvent.objects.filter(action="dossier.document_added").latest("sequence")
    assert json.loads(added.details)["active_content"] == ["javascript"]


def test_pdf_with_embedded_file_and_launch_action_badged(lead, instructor, dossier):
    upload(lead, dossier, hostile_pdfs.embedded_file(), "joint.pdf")
    upload(lead, dossier, hostile_pdfs.launch_action(), "lanceur.pdf")

    page = staff_page(instructor, dossier)
    assert "Contient des fichiers intégrés" in page[page.index("joint.pdf"):].split("</li>")[0]
    assert "Peut lancer un programme" in page[page.index("lanceur.pdf"):].split("</li>")[0]


def test_plain_pdf_and_web_link_get_no_badge(lead, instructor, dossier):
    upload(lead, dossier, hostile_pdfs.web_link(), "lien.pdf")

    assert Document.objects.get(original_name="lien.pdf").active_content == []
    assert 'data-testid="active-content"' not in staff_page(instructor, dossier)


def test_flagged_pdf_served_only_as_sandboxed_attachment(lead, instructor, dossier):
    upload(lead, dossier, hostile_pdfs.open_action_javascript(), "script.pdf")
    document = Document.objects.get(original_name="script.pdf")
    staff, applicant = Client(), Client()
    staff.force_login(instructor)
    applicant.force_login(lead)

    for response in (
            staff.get(f"/instruction/dossiers/{dossier.pk}/pieces/{document.pk}/"),
            applicant.get(f"/dossiers/{dossier.pk}/pieces/{document.pk}/")):
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"


def stored_documents() -> list[str]:
    if not default_storage.exists("documents"):
        return []
    folders, _files = default_storage.listdir("documents")
    return sorted(name for folder in folders
                  for name in default_storage.listdir(f"documents/{folder}")[1])


def test_decompression_bomb_upload_refused_and_nothing_stored(lead, dossier):
    before = (Document.objects.count(), AuditEvent.objects.count(), stored_documents())

    response = upload(lead, dossier, hostile_pdfs.flate_bomb(), "bombe.pdf")

    assert BOMB in response.content.decode()
    assert (Document.objects.count(), AuditEvent.objects.count(), stored_documents()) == before


def test_signed_agreement_bomb_refused_and_grant_unchanged(granted):  # noqa: F811
    with pytest.raises(GrantRefused) as caught:
        sign_agreement(granted.grant, granted.lead, SimpleUploadedFile(
            "convention.pdf", hostile_pdfs.declared_decoded_length(1 << 30)))

    assert caught.value.message.startswith(BOMB)
    assert caught.value.field == "file"
    grant = Grant.objects.get(pk=granted.grant.pk)
    assert (grant.status, grant.signed_sha256) == ("committed", "")


def test_signed_agreement_with_javascript_badged_on_grant_page(granted, team):  # noqa: F811
    sign_agreement(granted.grant, granted.lead, SimpleUploadedFile(
        "convention.pdf", hostile_pdfs.document_javascript()))

    grant = Grant.objects.get(pk=granted.grant.pk)
    assert grant.signed_active_content == ["javascript"]
    client = Client()
    client.force_login(team["admin"])
    page = client.get(f"/instruction/subventions/{grant.pk}/").content.decode()
    line = page[page.index("Convention signée"):].split("</li>")[0]
    assert "Contient du JavaScript" in line
