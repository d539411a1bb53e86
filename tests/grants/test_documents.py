"""The agreement a legal service would sign (issue 11, item 7): the funder and the operator
named as they are, a signature block for each party."""

import pytest

from guichet.grants.documents import agreement_pdf
from guichet.grants.models import Grant
from tests.grants.test_decisions import pdf_text

pytestmark = pytest.mark.django_db


def test_agreement_names_funder_operator_and_has_both_signature_blocks(granted):
    text = " ".join(pdf_text(agreement_pdf(Grant.objects.get(pk=granted.grant.pk))).split())
    assert ("Entre Caisse des Dépôts et consignations (SIRET 18002002600019), opérateur de "
            "l'appel (Caisse des Dépôts — Banque des Territoires), agissant au nom et pour le "
            "compte de l'État — Ministère du Travail, de l'Emploi et de l'Insertion — "
            "Haut-commissariat aux compétences, financeur de l'appel") in text
    assert f"représenté sur la plateforme par {granted.lead.email}" in text
    assert "Pour l'opérateur Pour le bénéficiaire" in text
    assert text.count("Nom, qualité :") == 2
    assert text.count("Signature :") == 2
