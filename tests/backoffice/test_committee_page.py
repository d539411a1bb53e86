"""The committee page and the experts page (issue 8, item 19): the simulation form keeps its
constraints, the explanation is consistent and names the committee's own decisions, the
ranking stays after publication, the experts page keeps its wave, and an assignment run says
what it did and why some dossiers got no expert."""

import copy
import html
import re
from decimal import Decimal

import pytest

from guichet.calls.models import Wave
from guichet.dossiers.models import Dossier
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Outcome, SelectionRun
from guichet.review.experts import assign_experts
from guichet.review.models import Assignment, Role
from guichet.review.scoring import save_scores
from tests.factories import declare_conflict, staff
from tests.grants.test_decisions import CRITERIA, instructed_dossier, pool_of_three, scored
from tests.review.test_services import expert, instructed, submitted_dossier_in

pytestmark = pytest.mark.django_db
COMMITTEE = "/instruction/appels/deffinum/comite/w1/"
EXPERTS = "/instruction/appels/deffinum/experts/"


def scaled(document: dict, factor: int) -> dict:
    """The same dossier with every amount multiplied (the aid requested with them)."""
    document = copy.deepcopy(document)
    for line in (*document["expenses"], *document["financing"]):
        line["amount"] = str(Decimal(line["amount"]) * factor)
    return document


def text(response) -> str:
    """The page's text, tags removed and spaces squeezed."""
    content = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(content))


@pytest.fixture
def board(deffinum, team, example_document, client):
    """Three scored dossiers of wave 1: "dear" (twice the aid, best score), "good", "fair";
    the committee member signed in."""
    experts = pool_of_three(deffinum)
    dossiers = {}
    for name, document, score in (("dear", scaled(example_document, 2), 5),
                                  ("good", example_document, 4),
                                  ("fair", example_document, 3)):
        dossiers[name] = instructed_dossier(document, team["instructor"])
        scored(dossiers[name], team["instructor"], experts, score)
    client.force_login(team["committee"])
    return dossiers


def set_budget(amount: str) -> None:
    Wave.objects.filter(code="w1").update(budget=Decimal(amount))


def simulate(client, **fields):
    data = {"objective": "score_weighted_aid", "cap_0_group": "",
            "cap_0_limit": "", "floor_0_group": "", "floor_0_limit": "", **fields}
    return client.post(COMMITTEE + "simulation/", data)


# --- the simulation form ----------------------------------------------------------------------

def test_committee_simulation_form_keeps_its_constraints_after_a_run(client, board):
    good = board["good"].receipt_number
    response = simulate(client, objective="score_sum", normalised="on",
                        cap_0_group="region:11", cap_0_limit="30 000 000,00",
                        floor_0_group="sector:btp", floor_0_limit="1",
                        pinned_in=good.lower(), pinned_out=board["fair"].receipt_number)
    assert response.status_code == 302
    run = SelectionRun.objects.get()
    assert (run.instance["objective"], run.normalised) == ("score_sum", True)
    assert run.instance["caps"] == [{"group": "region", "value": "11",
                                     "max_aid": "30000000.00"}]
    page = client.get(COMMITTEE).content.decode()
    assert re.search(r'<option value="score_sum"\s+selected>', page)
    assert re.search(r'name="normalised"[^>]*checked', page)
    assert re.search(r'<option value="region:11"\s+selected>', page)
    assert 'name="cap_0_limit" value="30000000.00"' in page
    assert re.search(r'<option value="sector:btp"\s+selected>', page)
    assert 'name="floor_0_limit" value="1"' in page
    assert f'name="pinned_in" value="{good}"' in page
    assert f'name="pinned_out" value="{board["fair"].receipt_number}"' in page
    assert 'name="cap_1_group"' in page  # one blank row more for another cap


def test_committee_simulation_form_refuses_unknown_receipt_and_half_constraint(client, board):
    response = simulate(client, pinned_in="DEFFINUM-W1-999999", cap_0_group="sector:btp")
    assert response.status_code == 200
    page = text(response)
    assert "Numéro inconnu parmi les dossiers notés de la vague : DEFFINUM-W1-999999." in page
    assert "Indiquez la limite de ce groupe." in page
    assert 'value="DEFFINUM-W1-999999"' in response.content.decode()
    assert not SelectionRun.objects.exists()


def test_committee_impossible_selection_is_explained_in_french(client, board):
    response = simulate(client, floor_0_group="sector:sante", floor_0_limit="1")
    assert response.status_code == 200
    assert ("Sélection impossible : le plancher filière Santé, social et soin demande 1 projet, "
            "mais 0 seulement peuvent être retenus (note minimale atteinte, non écartés "
            "d'office).") in text(response)
    assert not SelectionRun.objects.exists()


# --- the explanation --------------------------------------------------------------------------

def test_committee_same_lines_with_a_rank_inversion_say_so_consistently(client, board):
    set_budget("1000000.00")  # "dear" (1 120 000 €) fits in neither line; "good" then "fair"
    assert simulate(client).status_code == 302
    run = SelectionRun.objects.get()
    assert run.result["selected"] == run.result["rank_order"]["selected"]
    page = text(client.get(COMMITTEE))
    assert ("Les deux lignes retiennent les mêmes dossiers, avec la même inversion de rang "
            "(un dossier mieux noté écarté faute de place).") in page
    assert "inversion de rang (un dossier mieux noté écarté au profit d'un autre)" not in page
    dear = board["dear"].receipt_number
    assert (f"{dear} (note 5,00, 1 120 000,00 €) — budget : l'aide de 1 120 000,00 € ne tient "
            "plus dans le budget restant") in page.replace("\u202f", " ").replace("\xa0", " ")


def test_committee_pinned_out_is_named_as_the_committees_decision(client, board):
    set_budget("2000000.00")
    good, fair = board["good"].receipt_number, board["fair"].receipt_number
    assert simulate(client, pinned_out=good, pinned_in=fair).status_code == 302
    page = text(client.get(COMMITTEE))
    assert f"Décisions du comité : Retenus d'office : {fair} Écartés d'office : {good}" in page
    explained = page.split("Différences avec la ligne au rang")[1].split("Décisions du comité")[0]
    assert good not in explained  # never given a budget or score reason


def test_committee_explanation_of_a_swap_names_dossiers_by_receipt_number(client, board):
    set_budget("1120000.00")  # the rank-order line takes "dear"; two projects are worth more
    assert simulate(client, objective="score_sum").status_code == 302
    page = text(client.get(COMMITTEE)).replace("\u202f", " ").replace("\xa0", " ")
    dear, good, fair = (board[name].receipt_number for name in ("dear", "good", "fair"))
    assert f"Portefeuille optimal : {good}, {fair}" in page
    assert f"Ligne au rang (meilleure note d'abord) : {dear}" in page
    assert (f"{good} (note 4,00, 560 000,00 €) — budget : financé par l'aide libérée par "
            f"{dear}") in page
    assert (f"{dear} (note 5,00, 1 120 000,00 €) — budget : l'aide de 1 120 000,00 € laisse "
            "place à 2 projets mieux notés au total") in page
    assert re.search(r"\bd\d+\b", page) is None


# --- after publication ------------------------------------------------------------------------

def test_committee_ranking_stays_visible_read_only_after_publication(client, board, team):
    set_budget("1000000.00")
    simulate(client)
    for name, outcome in (("dear", Outcome.REJECTED), ("good", Outcome.SELECTED),
                          ("fair", Outcome.REJECTED)):
        dossier = Dossier.objects.get(pk=board[name].pk)
        prepare_decision(dossier, team["committee"], outcome,
                         awarded_aid=dossier.requested_aid if outcome == Outcome.SELECTED
                         else None, motivation="" if outcome == Outcome.SELECTED else "Budget.")
    client.force_login(team["admin"])
    client.post(COMMITTEE + "publication/")
    response = client.get(COMMITTEE)
    page = text(response)
    for name, state in (("dear", "non retenu"), ("good", "retenu"), ("fair", "non retenu")):
        assert re.search(rf"{board[name].receipt_number} — [^€]+€ [\d,]+ [\d,]+ [\d,]+ [\d,]+ "
                         rf"{state} ", page), name
    assert "Les décisions de la vague sont prises : le classement et la dernière simulation " \
           "restent consultables, en lecture seule." in page
    assert 'data-testid="simulation-form"' not in response.content.decode()
    assert "Dernière simulation" in page


# --- the experts page and the assignment report -----------------------------------------------

@pytest.fixture
def instructor(deffinum, client):
    user = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    client.force_login(user)
    return user


def test_experts_page_keeps_the_selected_wave_after_an_action(client, deffinum, instructor):
    response = client.post(EXPERTS + "affectation/", {"wave": "w2"})
    assert response.status_code == 302
    assert response["Location"] == f"{EXPERTS}?vague=w2"
    page = client.get(response["Location"]).content.decode()
    assert re.search(r'<option value="w2"\s+selected>', page)
    response = client.post(EXPERTS + "invitation/", {
        "wave": "w2", "email": "nouvelle@example.fr", "sectors": ["btp"],
        "keywords": "", "max_load": "4", "siret": ""})
    assert response["Location"] == f"{EXPERTS}?vague=w2"


def test_assignment_rerun_says_what_it_did_and_why_dossiers_got_no_expert(
        client, deffinum, instructor, example_document):
    ready = [instructed(submitted_dossier_in(example_document), instructor) for _ in range(2)]
    waiting = submitted_dossier_in(example_document)  # not instructed yet
    conflicted = instructed(submitted_dossier_in(example_document), instructor)
    pool = [expert(deffinum, f"e{n}@example.fr") for n in range(3)]
    declare_conflict(pool[0], conflicted, "Ancien employeur.")
    page = text(client.get(client.post(EXPERTS + "affectation/", {"wave": "w1"})["Location"]))
    assert ("Vague 1 : 6 expertises affectées. 6 nouvelles affectations, aucune affectation "
            "retirée. Affinité totale") in page
    assert (f"2 dossiers sans expert : {waiting.receipt_number} — instruction pas encore "
            f"terminée ; {conflicted.receipt_number} — pas assez d'experts libres de conflit "
            "d'intérêts (2 sur 3 nécessaires).") in page
    started = Assignment.objects.filter(dossier=ready[0]).first()
    save_scores(started, started.expert.user, {CRITERIA[0]: (4, "")})
    page = text(client.get(client.post(EXPERTS + "affectation/", {"wave": "w1"})["Location"]))
    assert ("6 expertises affectées. 1 expertise en cours conservée, 5 affectations "
            "inchangées, aucune nouvelle affectation, aucune affectation retirée.") in page


def test_assign_experts_reports_loads_exhausted(deffinum, example_document):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossiers = [instructed(submitted_dossier_in(example_document), instructor)
                for _ in range(2)]
    for n in range(3):
        expert(deffinum, f"e{n}@example.fr", max_load=1)
    summary = assign_experts(dossiers[0].wave, instructor)
    assert (summary.pairs, summary.created, summary.removed) == (3, 3, 0)
    (left_out,) = summary.unassigned
    assert (left_out.dossier, left_out.reason, left_out.free_experts) == (
        dossiers[1].pk, "loads_exhausted", 0)
    assert Assignment.objects.filter(dossier=dossiers[0]).count() == 3
    assert not Assignment.objects.filter(dossier=dossiers[1]).exists()


def test_assign_experts_rerun_keeps_unchanged_assignments_in_place(deffinum, example_document):
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    dossier = instructed(submitted_dossier_in(example_document), instructor)
    for n in range(3):
        expert(deffinum, f"e{n}@example.fr")
    assign_experts(dossier.wave, instructor)
    before = set(Assignment.objects.values_list("pk", flat=True))
    summary = assign_experts(dossier.wave, instructor)
    assert (summary.unchanged, summary.created, summary.removed) == (3, 0, 0)
    assert set(Assignment.objects.values_list("pk", flat=True)) == before
