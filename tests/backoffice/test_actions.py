"""Each back-office action posts to an address of its own: one form, one permission, one
service call, a redirect with a message; refused input re-renders the page with the errors
named by field (never a 500, nothing written)."""

import ast
from pathlib import Path

import pytest

from guichet.grants.models import Decision
from guichet.review.experts import add_assignment
from guichet.review.models import Assignment, Conflict, Instruction
from tests.factories import database_state
from tests.grants.test_decisions import CRITERIA, instructed_dossier, pool_of_three

pytestmark = pytest.mark.django_db
PACKAGE = Path(__file__).resolve().parents[2] / "guichet"


@pytest.fixture
def dossier(team, example_document):
    return instructed_dossier(example_document, team["instructor"])


@pytest.fixture
def assignment(deffinum, team, dossier) -> Assignment:
    return add_assignment(dossier, pool_of_three(deffinum)[0], team["instructor"])


def page(dossier) -> str:
    return f"/instruction/dossiers/{dossier.pk}/"


@pytest.mark.parametrize("address", [
    "instruction/", "corrections/", "messages/", "experts/", "decision/",
    "decision/annulation/"])
def test_dossier_action_address_refuses_get(client, team, dossier, address):
    client.force_login(team["admin"])
    assert client.get(page(dossier) + address).status_code == 405


def test_instruct_through_its_address_redirects_to_the_page_with_a_message(client, team,
                                                                          dossier):
    client.force_login(team["instructor"])
    response = client.post(page(dossier) + "instruction/", {
        "admissible": "yes", "eligible": "no", "motivation": "Assiette mal calculée."},
        follow=True)
    assert response.redirect_chain == [(page(dossier), 302)]
    assert [str(m) for m in response.context["messages"]] == ["Enregistré."]
    assert Instruction.objects.get(dossier=dossier).motivation == "Assiette mal calculée."


def test_instruct_with_unknown_choice_names_the_field_and_writes_nothing(client, team,
                                                                        dossier):
    client.force_login(team["instructor"])
    before = database_state()
    response = client.post(page(dossier) + "instruction/", {
        "admissible": "peut-être", "eligible": "yes"})
    assert response.status_code == 200
    assert list(response.context["instruction_form"].errors) == ["admissible"]
    assert not response.context["decision_form"].is_bound
    assert 'data-testid="verdict"' in response.content.decode()
    assert database_state() == before


def test_instruct_by_a_committee_member_is_403(client, team, dossier):
    client.force_login(team["committee"])
    response = client.post(page(dossier) + "instruction/", {
        "admissible": "no", "eligible": "no", "motivation": "par le comité"})
    assert response.status_code == 403
    assert Instruction.objects.get(dossier=dossier).motivation == ""


def test_decision_with_unknown_outcome_names_the_field(client, team, dossier):
    client.force_login(team["committee"])
    response = client.post(page(dossier) + "decision/", {"outcome": "peut-être"})
    assert response.status_code == 200
    assert list(response.context["decision_form"].errors) == ["outcome"]
    assert not Decision.objects.exists()


def test_refused_decision_shows_the_service_error_on_its_field(client, team, dossier):
    client.force_login(team["committee"])
    response = client.post(page(dossier) + "decision/", {"outcome": "rejected"})
    assert response.status_code == 200
    assert response.context["decision_form"].errors
    assert not Decision.objects.exists()


def test_revert_without_a_published_decision_is_404(client, team, dossier):
    client.force_login(team["admin"])
    response = client.post(page(dossier) + "decision/annulation/", {"motivation": "Erreur"})
    assert response.status_code == 404


def test_add_expert_outside_the_pool_names_the_field(client, team, dossier):
    client.force_login(team["instructor"])
    response = client.post(page(dossier) + "experts/", {"expert": "999999"})
    assert response.status_code == 200
    assert list(response.context["add_expert_form"].errors) == ["expert"]
    assert not Assignment.objects.exists()


def test_remove_expert_through_its_address(client, team, dossier, assignment):
    client.force_login(team["instructor"])
    response = client.post(f"{page(dossier)}experts/{assignment.pk}/retrait/")
    assert response.status_code == 302
    assert response["Location"] == page(dossier)
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_remove_expert_of_another_dossier_is_404(client, team, example_document, assignment):
    other = instructed_dossier(example_document, team["instructor"])
    client.force_login(team["instructor"])
    response = client.post(f"{page(other)}experts/{assignment.pk}/retrait/")
    assert response.status_code == 404
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def scores(value: str) -> dict:
    return {f"score_{criterion}": value for criterion in CRITERIA}


def test_review_draft_and_submission_have_their_own_addresses(client, assignment):
    client.force_login(assignment.expert.user)
    review = f"/instruction/expertises/{assignment.pk}/"
    assert 'formaction="' + review + 'envoi/"' in client.get(review).content.decode()
    assert client.post(review + "brouillon/", scores("4"))["Location"] == review
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    assert assignment.scores.count() == len(CRITERIA)
    assert client.post(review + "envoi/", scores("4"))["Location"] == review
    assignment.refresh_from_db()
    assert assignment.submitted_at is not None


def test_review_score_out_of_scale_names_the_field(client, assignment):
    client.force_login(assignment.expert.user)
    response = client.post(f"/instruction/expertises/{assignment.pk}/envoi/",
                           {**scores("4"), "score_coverage": "99"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["score_coverage"]
    assert not assignment.scores.exists()


def test_conflict_without_reason_names_the_field(client, assignment):
    client.force_login(assignment.expert.user)
    response = client.post(f"/instruction/expertises/{assignment.pk}/conflit/", {"reason": ""})
    assert response.status_code == 200
    assert list(response.context["conflict_form"].errors) == ["reason"]
    assert not Conflict.objects.exists()


def test_simulation_of_another_persons_role_is_403(client, team, dossier):
    client.force_login(team["instructor"])
    response = client.post("/instruction/appels/deffinum/comite/w1/simulation/",
                           {"objective": "score_sum"})
    assert response.status_code == 403


def test_publication_by_a_committee_member_is_403(client, team, dossier):
    client.force_login(team["committee"])
    response = client.post("/instruction/appels/deffinum/comite/w1/publication/")
    assert response.status_code == 403


def test_expert_invitation_with_bad_email_names_the_field(client, team, deffinum):
    client.force_login(team["instructor"])
    response = client.post("/instruction/appels/deffinum/experts/invitation/", {
        "email": "pas-une-adresse", "sectors": ["btp"], "max_load": "4"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {node.module for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module}
    return names | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}


def test_portal_imports_no_backoffice_code():
    importing = [str(path.relative_to(PACKAGE)) for path in (PACKAGE / "portal").rglob("*.py")
                 if any(name.startswith("guichet.backoffice")
                        for name in _imported_modules(path))]
    assert importing == []
