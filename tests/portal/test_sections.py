"""The regional example call's own questions, as its definition declares them: the applicant's
step, what is kept, what blocks the deposit, the file question among the documents, the
export's columns, the whole-dossier view, the import and the API."""

import csv
import io
import json

import pytest

from guichet.accounts.models import TokenScope
from guichet.accounts.tokens import create_token
from guichet.calls.services import load_call
from guichet.core.clock import in_paris, now
from guichet.dossiers.format import submitted_envelope
from guichet.dossiers.models import DossierAnswers, Submission
from guichet.dossiers.services import ImportRefused, SubmissionRefused, import_dossier, submit
from guichet.review.models import Role
from tests.conftest import EXAMPLE_REGIONAL_TOML
from tests.factories import document_with_fresh_sirets, lead_and_member, make_dossier, staff

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NEED = "Besoin du territoire auquel répond le projet"


@pytest.fixture
def regional(deffinum):
    """The regional example call open today, beside Deffinum."""
    return load_call(EXAMPLE_REGIONAL_TOML, demo_today=in_paris(now()).date()).call


@pytest.fixture
def draft(regional, regional_document):
    document = {key: value for key, value in regional_document.items() if key != "answers"}
    return make_dossier(document)


@pytest.fixture
def lead(client, draft):
    lead, _member = lead_and_member(draft)
    client.force_login(lead)
    return lead


def _url(dossier, step="territoire") -> str:
    return f"/dossiers/{dossier.pk}/etape/{step}/"


def _answers(dossier) -> dict:
    return DossierAnswers.objects.get(dossier=dossier).values


def test_section_step_shows_the_calls_questions_with_their_notes(client, draft, lead):
    page = client.get(_url(draft)).content.decode()
    assert "Ancrage territorial" in page
    assert "Ce que le projet apporte au territoire de la région." in page
    assert NEED in page
    assert "Réponse attendue pour déposer le dossier." in page
    assert "Seulement si « Le projet touche-t-il des zones rurales ? » : Oui." in page
    assert 'name="sites__0__town"' in page
    assert 'name="sites__1__learners"' in page
    assert "Lettre de soutien d&#x27;une collectivité" in page  # to the documents step
    assert client.get(_url(draft, "hybridation")).status_code == 404  # Deffinum's section


def test_section_post_saves_answers_and_drops_one_whose_condition_is_unmet(
        client, draft, lead):
    client.post(_url(draft), {"version": 1, "territorial_need": "Former des maçons",
                              "rural_areas": "no", "rural_share": "35",
                              "sites__0__town": "Amiens", "sites__0__learners": "120",
                              "indicator_targets__learners_reached": "300"})
    assert _answers(draft) == {
        "territorial_need": "Former des maçons", "rural_areas": "no",
        "sites": [{"town": "Amiens", "learners": "120.00"}],
        "indicator_targets": {"learners_reached": 300}}
    page = client.get(_url(draft)).content.decode()
    assert 'value="Amiens"' in page
    assert 'name="sites__2__town"' in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"territorial_need": "x" * 3001}, "territorial_need", "au plus 3000 caractères"),
    ({"rural_share": "101"}, "rural_share", "inférieure ou égale à 100"),
    ({"rural_areas": "peut-etre"}, "rural_areas", "Sélectionnez un choix valide"),
    ({"sites__0__learners": "=1+1"}, "sites__0__learners", "Saisissez un nombre"),
])
def test_section_post_of_a_wrong_answer_says_which_and_keeps_the_rest(
        client, draft, lead, data, field, message):
    response = client.post(_url(draft), {"version": 1, "rural_areas": "yes",
                                         "territorial_need": "Gardé", **data}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}-desc-error"' in page
    assert message in page
    kept = _answers(draft)
    assert field not in kept
    assert field.split("__")[0] not in kept
    if field != "territorial_need":
        assert kept["territorial_need"] == "Gardé"


def test_section_post_refuses_a_nul_character_and_saves_nothing_of_it(client, draft, lead):
    response = client.post(_url(draft), {"version": 1, "territorial_need": "a\x00b"}, **HTMX)
    assert response.status_code == 200
    assert "territorial_need" not in _answers(draft)


def test_section_post_of_an_old_version_is_refused_as_a_conflict(client, draft, lead):
    client.post(_url(draft), {"version": 1, "territorial_need": "Premier"})
    response = client.post(_url(draft), {"version": 1, "territorial_need": "Second"})
    assert "Quelqu&#x27;un a modifié ces informations" in response.content.decode()
    assert _answers(draft)["territorial_need"] == "Premier"


def test_section_post_drops_the_answer_to_a_question_the_call_no_longer_asks(
        client, draft, lead):
    DossierAnswers.objects.filter(dossier=draft).update(values={"retired_question": "x"})
    client.post(_url(draft), {"version": 1, "territorial_need": "Gardé"})
    assert _answers(draft) == {"territorial_need": "Gardé"}


def test_submission_refused_until_the_required_question_is_answered(client, draft, lead):
    with pytest.raises(SubmissionRefused, match=NEED):
        submit(draft, by=lead)
    client.post(_url(draft), {"version": 1, "territorial_need": "Former des maçons"})
    submit(draft, by=lead)
    snapshot = Submission.objects.get(dossier=draft).snapshot
    assert submitted_envelope(snapshot).answers == {"territorial_need": "Former des maçons"}


def test_file_question_is_offered_among_the_documents(client, draft, lead):
    page = client.get(_url(draft, "documents")).content.decode()
    assert '<option value="territorial_support">' in page


def test_whole_dossier_view_shows_the_answers_by_their_labels(client, draft, lead):
    client.post(_url(draft), {"version": 1, "territorial_need": "Former des maçons",
                              "rural_areas": "yes", "rural_share": "35",
                              "sites__0__town": "Amiens", "sites__0__learners": "120"})
    page = client.get(f"/dossiers/{draft.pk}/recapitulatif/").content.decode()
    assert "Ancrage territorial" in page
    assert "Former des maçons" in page
    assert "35\u00a0%" in page
    assert "<td>Amiens</td>" in page
    assert "<td>120.00</td>" in page


def test_export_has_a_column_per_question_with_labels(client, regional, draft, lead):
    client.post(_url(draft), {"version": 1, "territorial_need": "=HYPERLINK(\"x\")",
                              "rural_areas": "yes", "rural_share": "35"})
    submit(draft, by=lead)  # the list holds the dossiers received
    officer = staff(regional, "instruction@region.example", Role.INSTRUCTOR)
    client.force_login(officer)
    response = client.get(f"/instruction/appels/{regional.code}/dossiers/export/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content)
                                       .decode("utf-8-sig"))))
    header = rows[0]
    assert header[-5:] == [NEED, "Le projet touche-t-il des zones rurales ?",
                           "Part des apprenants en zone rurale (%)",
                           "Sites de formation dans la région", "Cibles des indicateurs"]
    row = next(r for r in rows[1:] if r[1] == draft.title)
    assert row[-5:-2] == ["'=HYPERLINK(\"x\")", "Oui", "35"]  # never run as a formula


def test_import_refuses_an_answer_the_call_does_not_ask(regional, regional_document):
    document = document_with_fresh_sirets(dict(regional_document, answers={"nope": 1}))
    with pytest.raises(ImportRefused) as caught:
        import_dossier(json.dumps(document).encode())
    assert caught.value.field == "answers.nope"


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 'test', TokenScope.WRITE).secret}"}


def test_api_patches_a_sections_answers_under_its_version(client, draft, lead):
    url = f"/api/v1/dossiers/{draft.pk}/answers/territoire"
    bearer = _bearer
    headers = {**bearer(lead), "If-Match": '"1"'}
    response = client.patch(url, {"territorial_need": "Par l'API", "rural_areas": "yes",
                                  "rural_share": 20}, content_type="application/json",
                            headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["answers_version"] == 2
    assert body["document"]["answers"] == {"territorial_need": "Par l'API",
                                           "rural_areas": "yes", "rural_share": 20}
    stale = client.patch(url, {"rural_share": 30}, content_type="application/json",
                         headers=headers)
    assert stale.status_code == 412
    wrong = client.patch(url, {"rural_share": 12.5}, content_type="application/json",
                         headers={**bearer(lead), "If-Match": '"2"'})
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "rural_share"
    assert "« Part des apprenants en zone rurale (%) »" in wrong.json()["detail"]
    other = client.patch(f"/api/v1/dossiers/{draft.pk}/answers/hybridation",
                         {"synchronous_share": 10}, content_type="application/json",
                         headers={**bearer(lead), "If-Match": '"2"'})
    assert other.status_code == 422
    assert _answers(draft)["rural_share"] == 20
