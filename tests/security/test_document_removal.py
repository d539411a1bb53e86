"""A consortium member removes documents that another person added."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.core.errors import ServiceError
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.documents import remove_document, upload_document
from guichet.dossiers.models import Document
from tests.factories import DocumentFactory, lead_and_member, make_dossier

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document, with_documents=False)


def _upload(dossier, user, kind="lead_statutes") -> Document:
    pdf = SimpleUploadedFile(f"{kind}.pdf", blank_pdf(), content_type="application/pdf")
    return upload_document(dossier, user, kind, pdf)


def test_member_removing_the_leads_document_is_refused(client, dossier):
    lead, member = lead_and_member(dossier)
    document = _upload(dossier, lead)
    with pytest.raises(ServiceError) as refused:
        remove_document(document, member)
    assert refused.value.message == ("Seuls la personne qui a ajouté cette pièce et le chef de "
                                     "file peuvent la retirer.")
    assert refused.value.field == "document"
    client.force_login(member)
    url = f"/dossiers/{dossier.pk}/etape/documents/"
    assert f'name="document" value="{document.pk}"' not in client.get(url).content.decode()
    page = client.post(f"/dossiers/{dossier.pk}/pieces/retrait/", {"document": document.pk},
                       follow=True).content.decode()
    assert "Seuls la personne qui a ajouté cette pièce et le chef de file" in page
    assert Document.objects.filter(pk=document.pk).exists()


def test_member_removing_a_document_nobody_uploaded_is_refused(dossier):
    lead, member = lead_and_member(dossier)
    imported = DocumentFactory(dossier=dossier, kind="cv", uploaded_at=dossier.created_at)
    with pytest.raises(ServiceError):
        remove_document(imported, member)  # uploaded by nobody in particular: the lead's call
    remove_document(imported, lead)
    assert not Document.objects.filter(pk=imported.pk).exists()


def test_uploader_and_lead_remove_a_members_document(client, dossier):
    lead, member = lead_and_member(dossier)
    first, second = _upload(dossier, member), _upload(dossier, member, "commitment_letters")
    client.force_login(member)
    url = f"/dossiers/{dossier.pk}/etape/documents/"
    assert f'name="document" value="{first.pk}"' in client.get(url).content.decode()
    client.post(f"/dossiers/{dossier.pk}/pieces/retrait/", {"document": first.pk})
    remove_document(second, lead)
    assert not Document.objects.filter(pk__in=[first.pk, second.pk]).exists()
