"""A dossier through the API alone: started, filled, documents uploaded, submitted; the
receipt's hash is the one printed in the receipt PDF."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.accounts.models import TokenScope
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.dossiers.receipt import receipt_hash_from_pdf
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def applicant():
    lead, partner = OrganisationFactory(), OrganisationFactory()
    return make_user("lead@example.fr", [lead]), lead, partner


def _start(client, headers, call, organisation) -> dict:
    answer = client.post(f"{API}/dossiers", {"call": call.code, "organisation": organisation.siret,
                                             "kind": "training_network",
                                             "title": "Campus hybride"},
                         content_type="application/json", headers=headers)
    assert answer.status_code == 201, answer.content
    return answer.json()


def _fill(client, headers, started: dict, organisation) -> None:
    pk = started["id"]
    project = client.patch(
        f"{API}/dossiers/{pk}", {"summary": "Parcours hybridés.", "scope": "national",
                                 "pooling_commitment": True, "start_date": "2027-01-01",
                                 "duration_months": 36},
        content_type="application/json", headers={**headers, "If-Match": f'"{started["version"]}"'})
    assert project.status_code == 200, project.content
    posts = [("milestones", {"month": 12, "kind": "first_results", "label": "Premiers résultats"}),
             ("milestones", {"month": 36, "kind": "final", "label": "Bilan final"}),
             ("expenses", {"member": organisation.siret, "category": "staff",
                           "label": "Ingénierie", "amount": "800000.00"}),
             ("financing", {"source": "aid", "amount": "560000.00"}),
             ("financing", {"source": "own_cash", "member": organisation.siret,
                            "amount": "240000.00"})]
    for path, body in posts:
        answer = client.post(f"{API}/dossiers/{pk}/{path}", body,
                             content_type="application/json", headers=headers)
        assert answer.status_code == 201, answer.content


def _upload_required(client, headers, pk: int, call) -> list[dict]:
    uploaded = []
    for kind in call.rules().required_documents:
        answer = client.post(f"{API}/dossiers/{pk}/documents",
                             {"kind": kind.id, "file": _pdf_file(kind.id)}, headers=headers)
        assert answer.status_code == 201, answer.content
        uploaded.append(answer.json())
    return uploaded


def _pdf_file(name: str):
    return SimpleUploadedFile(f"{name}.pdf", blank_pdf(), content_type="application/pdf")


def test_api_round_trip_submits_and_the_receipt_hash_matches_its_pdf(
        client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    _fill(client, headers, started, organisation)
    uploaded = _upload_required(client, headers, started["id"], open_call)

    answer = client.post(f"{API}/dossiers/{started['id']}/submit", headers=headers)

    assert answer.status_code == 201, answer.content
    receipt = answer.json()
    dossier = Dossier.objects.get(pk=started["id"])
    assert dossier.status == DossierStatus.SUBMITTED
    assert receipt["receipt_number"] == dossier.receipt_number
    assert receipt["received_at"].endswith(("+01:00", "+02:00"))  # Paris time
    pdf = client.get(receipt["pdf"], headers=headers)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert receipt_hash_from_pdf(b"".join(pdf.streaming_content)
                                 if pdf.streaming else pdf.content) == receipt["sha256"]
    read = client.get(f"{API}/dossiers/{started['id']}", headers=headers).json()
    assert read["editable"] is False
    assert read["status"] == DossierStatus.SUBMITTED
    assert read["document"]["title"] == "Campus hybride"
    assert read["document"]["expenses"][0]["amount"] == "800000.00"
    assert {item["sha256"] for item in read["documents"]} == {
        item["sha256"] for item in uploaded}


def test_api_submit_sent_again_answers_the_same_receipt(client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    _fill(client, headers, started, organisation)
    _upload_required(client, headers, started["id"], open_call)
    first = client.post(f"{API}/dossiers/{started['id']}/submit", headers=headers)
    again = client.post(f"{API}/dossiers/{started['id']}/submit", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_api_patch_without_if_match_is_refused_and_changes_nothing(
        client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    answer = client.patch(f"{API}/dossiers/{started['id']}", {"title": "Autre titre"},
                          content_type="application/json", headers=headers)
    assert answer.status_code == 428
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["field"] == "If-Match"
    assert Dossier.objects.get(pk=started["id"]).title == "Campus hybride"


def test_api_patch_with_a_stale_etag_is_refused_with_412(client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    etag = client.get(f"{API}/dossiers/{started['id']}", headers=headers)["ETag"]
    first = client.patch(f"{API}/dossiers/{started['id']}", {"title": "Premier"},
                         content_type="application/json", headers={**headers, "If-Match": etag})
    stale = client.patch(f"{API}/dossiers/{started['id']}", {"title": "Second"},
                         content_type="application/json", headers={**headers, "If-Match": etag})
    assert first.status_code == 200
    assert first["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["code"] == "edit_conflict"
    assert Dossier.objects.get(pk=started["id"]).title == "Premier"


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "Titre\r\nBcc: x@example.fr"}, "title"),
    ({"summary": "Résumé\x00"}, "summary"),
    ({"duration_months": 10_000}, "duration_months"),
    ({"scope": "<script>"}, "scope"),
    ({"start_date": "0001-01-01"}, "start_date"),
    ({"duration_months": "douze"}, "duration_months"),
])
def test_api_patch_refuses_hostile_values_by_field(client, bearer, open_call, applicant, body,
                                                   field):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    answer = client.patch(f"{API}/dossiers/{started['id']}", body,
                          content_type="application/json",
                          headers={**headers, "If-Match": f'"{started["version"]}"'})
    assert answer.status_code == 422, answer.content
    problem = answer.json()
    assert problem["field"] == field
    assert problem["status"] == 422
    assert problem["detail"]
    assert Dossier.objects.get(pk=started["id"]).version == started["version"]


def test_api_expense_amount_is_exact_and_a_float_like_text_is_refused(
        client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    refused = client.post(f"{API}/dossiers/{started['id']}/expenses",
                          {"member": organisation.siret, "category": "staff", "label": "X",
                           "amount": "1e400"}, content_type="application/json", headers=headers)
    unknown = client.post(f"{API}/dossiers/{started['id']}/expenses",
                          {"member": "00000000000000", "category": "staff", "label": "X",
                           "amount": "10.00"}, content_type="application/json", headers=headers)
    kept = client.post(f"{API}/dossiers/{started['id']}/expenses",
                       {"member": organisation.siret, "category": "staff", "label": "X",
                        "amount": "0.10"}, content_type="application/json", headers=headers)
    assert (refused.status_code, refused.json()["field"]) == (422, "amount")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "member")
    assert kept.json()["document"]["expenses"] == [
        {"amount": "0.10", "category": "staff", "eligible": True, "label": "X",
         "member": organisation.siret}]


def test_api_upload_of_a_non_pdf_is_refused_by_field(client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    headers = bearer(user)
    started = _start(client, headers, open_call, organisation)
    kind = open_call.rules().required_documents[0].id
    answer = client.post(f"{API}/dossiers/{started['id']}/documents",
                         {"kind": kind, "file": SimpleUploadedFile(
                             "x.pdf", b"<script>alert(1)</script>", "application/pdf")},
                         headers=headers)
    assert answer.status_code == 422
    assert answer.json()["field"] == "file"
    assert not Dossier.objects.get(pk=started["id"]).documents.exists()


def test_api_read_only_token_changes_nothing(client, bearer, open_call, applicant):
    user, organisation, _partner = applicant
    answer = client.post(f"{API}/dossiers", {"call": open_call.code,
                                             "organisation": organisation.siret,
                                             "kind": "training_network", "title": "T"},
                         content_type="application/json",
                         headers=bearer(user, TokenScope.READ))
    assert answer.status_code == 403
    assert answer.json()["code"] == "insufficient_scope"
    assert not Dossier.objects.exists()


def test_api_start_for_an_organisation_one_does_not_act_for_is_refused(
        client, bearer, open_call, applicant):
    user, _organisation, partner = applicant
    answer = client.post(f"{API}/dossiers", {"call": open_call.code,
                                             "organisation": partner.siret,
                                             "kind": "training_network", "title": "T"},
                         content_type="application/json", headers=bearer(user))
    assert answer.status_code == 422
    assert answer.json()["field"] == "organisation"
    assert not Dossier.objects.exists()
