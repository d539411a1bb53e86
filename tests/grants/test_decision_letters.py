"""Decision letters a legal service would sign (issue 11, item 7): addressee, signatory, the
appeal rights of a refusal, a tagged PDF with its title and language."""

import io

import pypdf
import pytest

from guichet.grants.decisions import decision_letter_pdf, prepare_decision, publish_decisions
from guichet.grants.models import Outcome
from tests.factories import lead_and_member
from tests.grants.test_decisions import REQUESTED, instructed_dossier, pdf_text

pytestmark = pytest.mark.django_db
LEAD = "Réseau Formation BTP"
SIGNATORY = "Pour Caisse des Dépôts et consignations, l'autorité signataire"


def flat(content: bytes) -> str:
    return " ".join(pdf_text(content).split())


def letter(team, example_document, outcome, **fields) -> tuple[bytes, object]:
    dossier = instructed_dossier(example_document, team["instructor"])
    lead, _member = lead_and_member(dossier)
    lead.first_name, lead.last_name = "Claire", "Martin"
    lead.save()
    prepare_decision(dossier, team["committee"], outcome, **fields)
    [decision] = publish_decisions(dossier.wave, team["admin"])
    return decision_letter_pdf(decision), lead


def test_decision_letter_refusal_carries_the_appeal_rights(team, example_document):
    content, lead = letter(team, example_document, Outcome.REJECTED,
                           motivation="Note sous la ligne de financement.")
    text = flat(content)
    assert f"À l'attention de : {LEAD}, chef de file du consortium" in text
    assert f"représenté sur la plateforme par Claire Martin ({lead.email})" in text
    assert "Voies et délais de recours" in text
    assert ("dans un délai de deux mois à compter de sa notification, d'un recours gracieux "
            "auprès de l'autorité signataire (Caisse des Dépôts et consignations) et d'un "
            "recours contentieux devant le tribunal administratif compétent") in text
    assert "Télérecours citoyens" in text
    assert SIGNATORY in text


def test_decision_letter_selection_names_addressee_and_signatory_without_appeal(
        team, example_document):
    content, _lead = letter(team, example_document, Outcome.SELECTED, awarded_aid=REQUESTED)
    text = flat(content)
    assert f"À l'attention de : {LEAD}" in text
    assert "Caisse des Dépôts — Banque des Territoires, pour le compte de : Ministère du Travail" \
        in text
    assert SIGNATORY in text
    assert "Voies et délais de recours" not in text


def test_decision_letter_pdf_is_tagged_with_title_and_language(team, example_document):
    content, _lead = letter(team, example_document, Outcome.SELECTED, awarded_aid=REQUESTED)
    reader = pypdf.PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "fr"
    assert reader.metadata.title.startswith("Décision DEFFINUM-")
