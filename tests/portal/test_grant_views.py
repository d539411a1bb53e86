"""The winner's grant page: signing the agreement and handing in a report, each its own
address (POST), the page showing the errors again when refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.grants.decisions import publish_decisions
from guichet.grants.models import Grant, GrantStatus, ReportStatus
from tests.factories import lead_and_member
from tests.grants.test_grants import instructed_dossier, pdf_upload, select

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    lead, _member = lead_and_member(dossier)
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    return Grant.objects.get(dossier=dossier), lead


def test_grant_sign_posted_by_the_lead_signs_and_returns_to_the_page(client, granted):
    grant, lead = granted
    client.force_login(lead)
    response = client.post(f"/dossiers/{grant.dossier_id}/subvention/signature/",
                           {"file": pdf_upload()})
    assert response["Location"] == f"/dossiers/{grant.dossier_id}/subvention/"
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.SIGNED


def test_grant_sign_with_a_non_pdf_shows_the_page_with_the_error(client, granted):
    grant, lead = granted
    client.force_login(lead)
    response = client.post(f"/dossiers/{grant.dossier_id}/subvention/signature/", {
        "file": SimpleUploadedFile("convention.pdf", b"not a pdf")})
    assert response.status_code == 200
    assert 'data-testid="sign-form"' in response.content.decode()
    assert response.context["signature_form"].errors
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.COMMITTED


def test_grant_report_without_narrative_refused_and_nothing_handed_in(client, granted):
    grant, lead = granted
    client.force_login(lead)
    client.post(f"/dossiers/{grant.dossier_id}/subvention/signature/", {"file": pdf_upload()})
    response = client.post(f"/dossiers/{grant.dossier_id}/subvention/rapport/",
                           {"narrative": ""})
    assert response.status_code == 200
    assert "narrative" in response.context["report_form"].errors
    assert not grant.reports.exclude(status=ReportStatus.DRAFT).exists()


def test_grant_report_handed_in_by_the_lead(client, granted):
    grant, lead = granted
    client.force_login(lead)
    client.post(f"/dossiers/{grant.dossier_id}/subvention/signature/", {"file": pdf_upload()})
    response = client.post(f"/dossiers/{grant.dossier_id}/subvention/rapport/",
                           {"narrative": "Trois parcours hybridés."})
    assert response["Location"] == f"/dossiers/{grant.dossier_id}/subvention/"
    handed_in = grant.reports.exclude(status=ReportStatus.DRAFT).get()
    assert handed_in.narrative == "Trois parcours hybridés."


def test_grant_actions_refuse_get(client, granted):
    grant, lead = granted
    client.force_login(lead)
    for action in ("signature", "rapport"):
        assert client.get(f"/dossiers/{grant.dossier_id}/subvention/{action}/").status_code == 405
