"""An expert reads the whole dossier before scoring it: from the review page to the
whole-dossier view (budget, financing plan, previewed documents) and back to send the scores,
on a desktop and on a 390 px phone."""

import pytest
from playwright.sync_api import expect

from guichet.dossiers.services import submit
from guichet.review.experts import add_assignment
from guichet.review.instruction import record_instruction
from guichet.review.models import Assignment, CallRole, ExpertProfile, Role
from tests.e2e.conftest import click_through, log_in, visit
from tests.factories import make_dossier, make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"  # make_user's default
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone-390"])
def test_expert_reads_the_whole_dossier_then_sends_scores(
        new_page, live_server, deffinum_open, example_document, mobile):
    call = deffinum_open
    dossier = make_dossier(example_document)
    submit(dossier)
    instructor = make_user("instructeur@deffinum.example.fr")
    CallRole.objects.create(user=instructor, call=call, role=Role.INSTRUCTOR)
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    expert = make_user("expert@deffinum.example.fr")
    CallRole.objects.create(user=expert, call=call, role=Role.EXPERT)
    profile = ExpertProfile.objects.create(user=expert, call=call, sectors=["btp"])
    assignment = add_assignment(dossier, profile, instructor)
    base = live_server.url

    page = new_page(mobile=mobile)
    log_in(page, base, expert.email, PASSWORD)
    page.goto(f"{base}/instruction/expertises/{assignment.pk}/")
    visit(page, "expert-review")
    click_through(page.get_by_test_id("open-dossier"))
    assert page.url == f"{base}/instruction/dossiers/{dossier.pk}/complet/"
    expect(page.get_by_test_id("budget-by-member")).to_contain_text(
        f"800{NNBSP}000,00{NBSP}€")
    plan = page.get_by_test_id("financing-plan")
    expect(plan).to_contain_text(f"560{NNBSP}000,00{NBSP}€")
    expect(plan.get_by_role("row").filter(has_text="Autofinancement")).to_contain_text(
        f"21,25{NBSP}%")
    expect(page.get_by_test_id("figures")).to_contain_text(f"70{NBSP}%")
    documents = page.get_by_test_id("sheet-documents")
    expect(documents.locator("iframe.guichet-preview")).to_have_count(
        dossier.documents.count())
    expect(documents.get_by_role("link", name="Télécharger")).to_have_count(
        dossier.documents.count())
    visit(page, "expert-whole-dossier")

    click_through(page.get_by_role("link", name="Retour à la grille d'expertise"))
    grid = page.get_by_test_id("score-form")
    for criterion in call.rules().selection.criteria:
        grid.get_by_label(criterion.label, exact=True).select_option("4")
    click_through(grid.get_by_role("button", name="Envoyer l'expertise"))
    expect(page.get_by_text("Expertise envoyée.")).to_be_visible()
    visit(page, "expert-review-sent")
    assert Assignment.objects.get(pk=assignment.pk).submitted_at is not None
