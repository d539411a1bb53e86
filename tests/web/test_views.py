"""The public page of a call (issue 11, item 8a): its values from the call definition, the
calendar in Paris time, the documents with a model letter of commitment, the contact."""

import io

import pypdf
import pytest
from django.test import override_settings

from tests.backoffice.test_committee_page import text
from tests.codes import codes_in

pytestmark = pytest.mark.django_db
PAGE = "/appels/deffinum/"


def test_home_links_to_the_call_page(client, deffinum):
    assert f'href="{PAGE}"' in client.get("/").content.decode()


@override_settings(CONTACT_EMAIL="deffinum@example.fr")
def test_call_page_shows_the_rules_from_the_definition(client, deffinum):
    page = text(client.get(PAGE))
    for sentence in (
            "Un appel à projets de Ministère du Travail, de l'Emploi et de l'Insertion — "
            "Haut-commissariat aux compétences, opéré par Caisse des Dépôts — Banque des "
            "Territoires",
            "Un consortium d'au moins 2 organismes distincts (SIRET différents)",
            "Les dépenses éligibles du projet atteignent au moins 500 000,00 €.",
            "L'aide demandée ne dépasse pas 70 % des dépenses éligibles.",
            "Le consortium cofinance au moins 30 % des dépenses éligibles",
            "représentent au plus 30 % du cofinancement.",
            "Le projet dure au plus 36 mois.",
            "Il présente ses premiers résultats au plus tard au mois 12.",
            "Modèle de lettre d'engagement d'un membre",
            "écrivez à Caisse des Dépôts — Banque des Territoires : deffinum@example.fr"):
        assert sentence in page
    # Wave 1 closes on 31 August 2021 at noon in Paris (10:00 UTC).
    assert "31 août 2021, 12:00" in page


def test_call_page_follows_a_changed_definition(client, deffinum):
    definition = dict(deffinum.definition)
    definition["eligibility"] = {**definition["eligibility"], "minimum_base": "750000.00",
                                 "aid_cap_rate": "0.65"}
    type(deffinum).objects.filter(pk=deffinum.pk).update(definition=definition,
                                                         definition_sha256="changed")
    page = text(client.get(PAGE))
    assert "au moins 750 000,00 €." in page
    assert "ne dépasse pas 65 % des dépenses éligibles." in page
    assert "cofinance au moins 35 % des dépenses éligibles" in page


def test_call_page_of_unknown_call_is_not_found(client, deffinum):
    assert client.get("/appels/inconnu/").status_code == 404


def test_commitment_letter_is_a_tagged_pdf_naming_the_call(client, deffinum):
    response = client.get(PAGE + "modele-lettre-engagement.pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    content = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Lettre d'engagement" in content
    assert "Deffinum — Dispositifs France formation innovante numérique" in content
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_call_page_lists_member_kinds_in_words_acronyms_kept(client, deffinum):
    page = text(client.get(PAGE))
    assert ("Ses membres peuvent être : réseau d'organismes de formation, réseau de CFA, "
            "école") in page
    assert ", OPCO, " in page
    assert ", EdTech, " in page
    assert codes_in(page) == []
