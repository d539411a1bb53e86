"""The committee's tools in a real browser (issue 11, item 6), on a desktop and a 390 px phone:
the committee runs a simulation and adopts it as the prepared decisions; the administrator
reads on a confirmation page exactly what publishing does, then confirms."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from guichet.calls.models import Wave
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.dossiers.services import submit
from guichet.grants.models import Decision, DecisionStatus, Outcome
from guichet.review.instruction import record_instruction
from guichet.review.models import Role
from tests.e2e.conftest import click_through, log_in, visit
from tests.factories import lead_and_member, make_dossier, staff
from tests.grants.test_decisions import pool_of_three, scored

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default


def scored_dossier(document: dict, title: str, instructor, experts, score: int) -> Dossier:
    """A dossier submitted in today's open wave, instructed eligible, scored by every expert."""
    dossier = make_dossier({**document, "title": title})
    Dossier.objects.filter(pk=dossier.pk).update(sector="btp")
    submit(dossier)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    dossier.refresh_from_db()
    scored(dossier, instructor, experts, score)
    return dossier


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_committee_simulates_adopts_and_publishes_after_confirming(
        new_page, live_server, deffinum_open, example_document, mobile):
    base, call = live_server.url, deffinum_open
    team = {role: staff(call, f"{role.value}@deffinum.example.fr", role)
            for role in (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)}
    experts = pool_of_three(call)
    better = scored_dossier(example_document, "Campus hybride", team[Role.INSTRUCTOR], experts,
                            4)
    worse = scored_dossier(example_document, "Chantiers-écoles", team[Role.INSTRUCTOR],
                           experts, 3)
    lead, member = lead_and_member(better)
    wave = better.wave
    # A budget for one dossier only (earlier waves carry nothing over).
    Wave.objects.filter(call=call, position__lt=wave.position).update(budget=Decimal(0))
    Wave.objects.filter(pk=wave.pk).update(budget=better.requested_aid + Decimal("1.00"))
    committee_url = f"{base}/instruction/appels/deffinum/comite/{wave.code}/"

    # 1. The committee simulates the funding line, then adopts it.
    committee = new_page(mobile=mobile)
    log_in(committee, base, team[Role.COMMITTEE].email, PASSWORD)
    committee.goto(committee_url)
    visit(committee, "committee")
    click_through(committee.get_by_test_id("simulation-form").get_by_role("button",
                                                                          name="Simuler"))
    expect(committee.get_by_test_id("optimal-selection")).to_have_text(better.receipt_number)
    visit(committee, "committee-simulated")
    click_through(committee.get_by_role(
        "button", name="Adopter cette simulation comme décisions préparées"))
    expect(committee.get_by_text("Simulation adoptée : 2 décisions préparées, à publier.")
           ).to_be_visible()
    visit(committee, "committee-adopted")
    assert sorted(Decision.objects.values_list("dossier", "outcome", "status")) == sorted([
        (better.pk, Outcome.SELECTED, DecisionStatus.PENDING),
        (worse.pk, Outcome.REJECTED, DecisionStatus.PENDING)])

    # 2. The administrator reads what publishing does, then confirms.
    administrator = new_page(mobile=mobile)
    log_in(administrator, base, team[Role.ADMINISTRATOR].email, PASSWORD)
    administrator.goto(committee_url)
    click_through(administrator.get_by_test_id("publish-link"))
    table = administrator.get_by_test_id("publication")
    selected = table.locator(f'tr[data-dossier="{better.receipt_number}"]')
    expect(selected).to_contain_text("Retenu")
    expect(selected).to_contain_text("560 000,00 €")
    expect(selected).to_contain_text(f"{lead.email}, {member.email}")
    expect(table.locator(f'tr[data-dossier="{worse.receipt_number}"]')).to_contain_text(
        "Non retenu")
    expect(administrator.get_by_test_id("publication-totals")).to_contain_text(
        "2 courriels envoyés")
    visit(administrator, "publication-confirmation")
    assert not Decision.objects.filter(status=DecisionStatus.PUBLISHED).exists()
    click_through(administrator.get_by_test_id("confirm-publication"))
    expect(administrator.get_by_text("2 décisions publiées.")).to_be_visible()
    visit(administrator, "published")
    better.refresh_from_db()
    worse.refresh_from_db()
    assert (better.status, worse.status) == (DossierStatus.SELECTED, DossierStatus.REJECTED)
