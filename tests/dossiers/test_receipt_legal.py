"""The receipt a legal service would accept (issue 11, item 7): every document with its
SHA-256, who submitted and when (Paris time), the dossier's hash unchanged."""

import hashlib
import io

import pypdf
import pytest

from guichet.dossiers.format import submitted_documents
from guichet.dossiers.receipt import receipt_data, receipt_hash_from_pdf, render_receipt_pdf
from guichet.dossiers.services import submit
from tests.factories import lead_and_member, make_dossier
from tests.grants.test_decisions import IN_WAVE_1, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(deffinum, example_document):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    lead.first_name, lead.last_name = "Claire", "Martin"
    lead.save()
    submission = submit(dossier, by=lead, now=IN_WAVE_1)
    return submission, lead, render_receipt_pdf(receipt_data(dossier))


def test_receipt_lists_every_document_with_its_sha256(receipt):
    submission, _lead, content = receipt
    text = pdf_text(content)
    documents = submitted_documents(submission.snapshot)
    assert documents
    labels = {d.id: d.label for d in submission.dossier.call.rules().documents}
    for document in documents:
        assert f"{labels[document['kind']]} — {document['name']}" in " ".join(text.split())
        assert f"SHA-256 : {document['sha256']}" in text
    stored = {d.kind: d.sha256 for d in submission.dossier.documents.all()}
    assert {d["kind"]: d["sha256"] for d in documents} == stored


def test_receipt_names_who_submitted_and_when_in_paris(receipt):
    _submission, lead, content = receipt
    text = " ".join(pdf_text(content).split())
    # 11:00 in Paris (summer time) on 31 August 2021, the instant of `submit`
    assert (f"Déposé par Claire Martin ({lead.email}), le 31/08/2021 à 11:00:00 (heure de "
            "Paris, UTC+02:00)") in text


def test_receipt_hash_is_still_the_frozen_dossier_hash(receipt):
    submission, _lead, content = receipt
    assert submission.sha256 == hashlib.sha256(submission.snapshot.encode()).hexdigest()
    assert receipt_hash_from_pdf(content) == submission.sha256


def test_receipt_pdf_is_tagged(receipt):
    _submission, _lead, content = receipt
    catalog = pypdf.PdfReader(io.BytesIO(content)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "fr"
