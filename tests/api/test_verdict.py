"""The automatic verdict through the API: live for the participants of a dossier they may still
change, frozen at receipt once it is submitted, and for staff only the frozen one."""

import pytest

from guichet.dossiers.models import Dossier, Submission
from guichet.dossiers.services import submit
from guichet.review.models import Role
from tests.backoffice.test_permissions import IN_WAVE_ONE
from tests.factories import lead_and_member, make_dossier, staff

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _verdict(client, bearer, person, dossier):
    return client.get(f"{API}/dossiers/{dossier.pk}/verdict", headers=bearer(person))


def _rule(answer, rule: str) -> dict:
    return next(result for result in answer.json()["results"] if result["rule"] == rule)


def test_api_verdict_of_a_draft_follows_its_changes_for_its_participants(
        client, bearer, deffinum, example_document):
    dossier = make_dossier(example_document)
    lead, member = lead_and_member(dossier)
    before = _verdict(client, bearer, lead, dossier)
    assert before.status_code == 200
    assert before.json()["frozen"] is False
    assert (before.json()["version"], before.json()["received_at"]) == (None, None)
    assert before.json()["eligible"] is True
    assert (before.json()["figures"]["eligible_base"], before.json()["figures"]["aid"],
            before.json()["figures"]["aid_cap"]) == ("800000.00", "560000.00", "560000.00")
    assert _rule(before, "duration")["ok"] is True

    Dossier.objects.filter(pk=dossier.pk).update(duration_months=48)
    after = _verdict(client, bearer, member, dossier)
    assert after.json()["eligible"] is False
    assert (_rule(after, "duration")["ok"], _rule(after, "duration")["value"],
            _rule(after, "duration")["limit"]) == (False, "48", "36")
    assert "36" in _rule(after, "duration")["message"]


def test_api_verdict_of_a_submitted_dossier_is_the_one_frozen_at_receipt(
        client, bearer, deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)
    lead, _member = lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur.verdict@example.fr", Role.INSTRUCTOR)
    # A change made behind the platform's back after receipt does not move the verdict.
    Dossier.objects.filter(pk=dossier.pk).update(duration_months=48)
    stored = Submission.objects.get(dossier=dossier).verdict
    for person in (lead, instructor):
        answer = _verdict(client, bearer, person, dossier)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["frozen"], body["version"], body["eligible"]) == (True, 1, True)
        assert body["received_at"] == "2021-08-31T11:00:00+02:00"
        assert (body["rules_version"], body["figures"], body["results"]) == (
            stored["rules_version"], stored["figures"], stored["results"])
        assert _rule(answer, "duration")["ok"] is True


def test_api_verdict_of_a_draft_is_not_shown_to_staff(client, bearer, deffinum,
                                                      example_document):
    dossier = make_dossier(example_document)
    instructor = staff(deffinum, "instructeur.brouillon@example.fr", Role.INSTRUCTOR)
    answer = _verdict(client, bearer, instructor, dossier)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"
