"""The committee page's tools (issue 11, item 6): adopting the last simulation, the
confirmation page that says exactly what publishing does, the what-if on the thresholds."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guichet.dossiers.models import DossierStatus, Submission
from guichet.grants.decisions import prepare_decision
from guichet.grants.models import Decision, DecisionStatus, SelectionRun
from guichet.notifications.models import OutboxMessage
from tests.backoffice.test_committee_page import COMMITTEE, simulate, text
from tests.factories import lead_and_member
from tests.grants.test_decisions import instructed_dossier, pool_of_three, scored

pytestmark = pytest.mark.django_db
LEAD = "Réseau Formation BTP"


def row_texts(response) -> dict[str, str]:
    """Each table row with a `data-dossier`, as text."""
    rows = re.findall(r'<tr data-dossier="([^"]+)">(.*?)</tr>', response.content.decode(), re.S)
    return {number: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip()
            for number, row in rows}


@pytest.fixture
def two_scored(deffinum, team, example_document):
    """Two scored dossiers of wave 1 and a budget for one."""
    experts = pool_of_three(deffinum)
    dossiers = []
    for score in (4, 3):
        dossier = instructed_dossier(example_document, team["instructor"])
        scored(dossier, team["instructor"], experts, score)
        dossiers.append(dossier)
    deffinum.waves.filter(code="w1").update(budget=Decimal("600000.00"))
    return dossiers


def test_committee_adopt_button_prepares_the_simulated_decisions(client, team, two_scored):
    client.force_login(team["committee"])
    assert simulate(client, objective="score_sum").status_code == 302
    run = SelectionRun.objects.get()
    page = client.get(COMMITTEE).content.decode()
    assert f'name="run" value="{run.pk}"' in page
    response = client.post(COMMITTEE + "adoption/", {"run": run.pk}, follow=True)
    assert "Simulation adoptée : 2 décisions préparées, à publier." in text(response)
    best, other = two_scored
    assert {d.dossier_id: d.outcome for d in Decision.objects.all()} == {
        best.pk: "selected", other.pk: "rejected"}


@pytest.mark.parametrize("run", ["", "abc", "999999"])
def test_committee_adopt_with_unknown_run_changes_nothing(client, team, two_scored, run):
    client.force_login(team["committee"])
    simulate(client, objective="score_sum")
    response = client.post(COMMITTEE + "adoption/", {"run": run}, follow=True)
    assert response.status_code == 200
    assert "Seule la dernière simulation de la vague peut être adoptée" in text(response)
    assert not Decision.objects.exists()


def test_publication_confirmation_lists_exactly_what_will_happen(client, team, two_scored):
    client.force_login(team["committee"])
    simulate(client, objective="score_sum")
    client.post(COMMITTEE + "adoption/", {"run": SelectionRun.objects.get().pk})
    best, other = two_scored
    lead, member = lead_and_member(best)
    client.force_login(team["admin"])
    page = client.get(COMMITTEE + "publication/")
    assert page.status_code == 200
    content = text(page)
    rows = row_texts(page)
    assert rows == {
        best.receipt_number: f"{best.receipt_number} — {best.title} {LEAD} Retenu "
                             f"560 000,00 € {lead.email}, {member.email}",
        other.receipt_number: f"{other.receipt_number} — {other.title} {LEAD} Non retenu — —"}
    assert "Aide engagée : 560 000,00 €" in content
    assert "reste après publication : 40 000,00 €" in content
    assert "2 courriels envoyés, avec la lettre de décision en pièce jointe." in content
    # Showing the page publishes nothing; its button does.
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PENDING}
    notices = OutboxMessage.objects.filter(payload__kind="decision_published")
    assert not notices.exists()
    client.post(COMMITTEE + "publication/")
    assert notices.count() == 2  # one notice per decision
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PUBLISHED}
    best.refresh_from_db()
    assert best.status == DossierStatus.SELECTED


def test_committee_page_links_to_the_confirmation_instead_of_publishing(client, team,
                                                                          two_scored):
    client.force_login(team["committee"])
    simulate(client, objective="score_sum")
    client.post(COMMITTEE + "adoption/", {"run": SelectionRun.objects.get().pk})
    client.force_login(team["admin"])
    page = client.get(COMMITTEE).content.decode()
    assert f'href="{COMMITTEE}publication/"' in page
    assert f'action="{COMMITTEE}publication/"' not in page


def test_what_if_page_shows_the_dossiers_that_change_verdict(client, team, two_scored):
    client.force_login(team["committee"])
    frozen = list(Submission.objects.values_list("eligible", "verdict"))
    response = client.get(COMMITTEE + "seuils/", {
        "minimum_base": "900 000", "aid_cap_rate": "70", "in_kind_cap_rate": "30"})
    content = text(response)
    assert "Dossiers éligibles : 2 aujourd'hui, 0 avec ces seuils." in content
    assert ("Aide demandée par les dossiers éligibles : 1 120 000,00 € aujourd'hui, 0,00 € avec "
            "ces seuils, pour un budget disponible de 600 000,00 €.") in content
    assert row_texts(response) == {
        d.receipt_number: f"{d.receipt_number} — {d.title} 560 000,00 € éligible non éligible"
        for d in two_scored}
    assert list(Submission.objects.values_list("eligible", "verdict")) == frozen


def test_what_if_page_refuses_a_rate_above_100_naming_the_field(client, team, two_scored):
    client.force_login(team["committee"])
    response = client.get(COMMITTEE + "seuils/", {
        "minimum_base": "1 000", "aid_cap_rate": "170", "in_kind_cap_rate": "30"})
    assert response.status_code == 200
    assert response.context["form"].errors["aid_cap_rate"] == [
        "Assurez-vous que cette valeur est inférieure ou égale à 100."]
    assert "Effet sur la vague" not in text(response)


def test_what_if_page_starts_from_the_call_thresholds(client, team, two_scored):
    client.force_login(team["committee"])
    page = client.get(COMMITTEE + "seuils/").content.decode()
    assert re.search(r'name="minimum_base" value="500000(\.00)?"', page)
    assert 'name="aid_cap_rate" value="70"' in page
    assert 'name="in_kind_cap_rate" value="30"' in page


def test_publication_confirmation_queries_do_not_grow_with_decisions(
        client, team, two_scored, example_document, django_assert_max_num_queries):
    client.force_login(team["committee"])
    simulate(client, objective="score_sum")
    client.post(COMMITTEE + "adoption/", {"run": SelectionRun.objects.get().pk})
    client.force_login(team["admin"])
    with CaptureQueriesContext(connection) as two:
        client.get(COMMITTEE + "publication/")
    third = instructed_dossier(example_document, team["instructor"])
    prepare_decision(third, team["committee"], "rejected", motivation="Hors ligne.")
    with django_assert_max_num_queries(len(two)):
        response = client.get(COMMITTEE + "publication/")
    assert len(row_texts(response)) == 3
