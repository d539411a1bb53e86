"""One wave of the back office in a real browser: instruction (with a correction round trip to
the lead), the optimal expert assignment, the experts' grids, the committee's simulation and
decisions, their joint publication, and what the leads then receive. The same journey runs on
Deffinum's second wave and on the regional example call's single wave, each as its
definition sets it (addresses, wave, selection objective, minimum score)."""

import datetime as dt
import io
import re
import time
from decimal import Decimal

import pypdf
import pytest
from playwright.sync_api import expect

from guichet.calls.models import Wave
from guichet.dossiers.models import CorrectionRequest, Dossier, DossierStatus, Submission
from guichet.dossiers.services import submit
from guichet.grants.models import Decision, DecisionStatus, Outcome, SelectionRun
from guichet.review.models import Assignment, Instruction, Role
from tests.e2e.conftest import PARIS, click_through, log_in, tick, visit
from tests.factories import give_roles, lead_and_member, make_dossier, make_expert, make_user

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default
FIRST_TITLE = "Campus hybride des métiers du bâtiment"
SECOND_TITLE = "Chantiers-écoles connectés"
CORRECTED_TITLE = "Chantiers-écoles connectés et maquettes BIM"
CORRECTION_POINTS = "Le titre doit mentionner la maquette numérique (BIM) du projet."
BETTER, WORSE = 4, 3  # every criterion; both at least 2 (no comment required), both fundable
REJECTION = "Budget de la vague épuisé par un projet mieux classé."


ACTION_ADDRESSES = {"instruct": "instruction/", "correct": "corrections/",
                   "decide": "decision/"}


def action_form(page, action: str):
    """The back-office form of a dossier page that posts `action` (to an address of its own)."""
    return page.locator(f'form[action$="/{ACTION_ADDRESSES[action]}"]')


def instruct(page, base: str, dossier: Dossier, name: str) -> None:
    """The instructor records admissibility and eligibility on the dossier page."""
    form = action_form(page, "instruct")
    form.get_by_label("Recevabilité").select_option(label="Recevable")
    form.get_by_label("Éligibilité").select_option(label="Éligible")
    click_through(form.get_by_role("button", name="Enregistrer l'instruction"))
    assert page.url == f"{base}/instruction/dossiers/{dossier.pk}/"
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    expect(page.get_by_text("Recevable : oui — Éligible : oui")).to_be_visible()
    visit(page, name)
    instruction = Instruction.objects.get(dossier=dossier)
    assert (instruction.admissible, instruction.eligible, instruction.overridden) == (
        True, True, False)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.INSTRUCTED


def wait_for_mail(mailoutbox, subject: str) -> list:
    deadline = time.monotonic() + 10  # mails leave once the transaction commits
    while not (mails := [m for m in mailoutbox if m.subject == subject]):
        assert time.monotonic() < deadline, [m.subject for m in mailoutbox]
        time.sleep(0.1)
    return mails


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.mark.e2e
@pytest.mark.parametrize(("call_fixture", "document_fixture"), [
    ("deffinum_open", "example_document"), ("regional_open", "regional_document")],
    ids=["deffinum", "regional"])
def test_review_wave_from_instruction_to_published_decisions(
        request, new_page, live_server, call_fixture, document_fixture, mailoutbox):
    base = live_server.url
    call = request.getfixturevalue(call_fixture)
    document = request.getfixturevalue(document_fixture)
    selection = call.rules().selection
    criteria = selection.criteria
    assert selection.min_score <= WORSE  # both dossiers stay fundable: the budget decides
    call_pages = f"{base}/instruction/appels/{call.code}"

    # Set-up: two complete eligible dossiers submitted in today's open wave, and the staff.
    dossiers = []
    for title in (FIRST_TITLE, SECOND_TITLE):
        dossier = make_dossier({**document, "title": title})
        Dossier.objects.filter(pk=dossier.pk).update(sector="btp", keywords="bim, chantier")
        submit(dossier)
        dossier.refresh_from_db()
        assert dossier.status == DossierStatus.SUBMITTED
        assert dossier.eligible_at_receipt
        dossiers.append(dossier)
    first, second = dossiers
    wave = first.wave
    assert wave == second.wave
    assert wave.is_open_at(dt.datetime.now(PARIS))
    (lead1, _member1), (lead2, _member2) = lead_and_member(first), lead_and_member(second)
    staff = {}
    for role in (Role.INSTRUCTOR, Role.ADMINISTRATOR, Role.COMMITTEE):
        staff[role] = make_user(f"{role.value}@{call.code}.example.fr")
        give_roles(staff[role], call, role)
    experts = []
    # As many experts as the call asks reviews of each dossier: each expert scores both.
    for n in range(1, selection.reviews_per_dossier + 1):
        experts.append(make_expert(call, f"expert{n}@{call.code}.example.fr", keywords="bim",
                                   max_load=5).user)
    first_receipt, second_receipt = first.receipt_number, second.receipt_number
    first_version = Submission.objects.get(dossier=second, version=1)

    # 1. The instructor logs in, lists the wave's dossiers, instructs the first one and sends
    #    the second back to its lead for corrections.
    instructor = new_page()
    log_in(instructor, base, staff[Role.INSTRUCTOR].email, PASSWORD)
    instructor.goto(f"{call_pages}/dossiers/")
    listing = instructor.get_by_test_id("dossiers")
    expect(instructor.get_by_test_id("count")).to_have_text("2 dossiers")
    for dossier in dossiers:
        expect(listing.get_by_role("row").filter(has_text=dossier.receipt_number)).to_contain_text(
            dossier.title)
    visit(instructor, "instructor-dossier-list")
    click_through(listing.get_by_role("link", name=first_receipt))
    assert instructor.url == f"{base}/instruction/dossiers/{first.pk}/"
    expect(instructor.get_by_role("heading", level=1)).to_have_text(FIRST_TITLE)
    visit(instructor, "instructor-first-dossier")
    instruct(instructor, base, first, "instructor-first-instructed")

    instructor.goto(f"{call_pages}/dossiers/")
    click_through(instructor.get_by_test_id("dossiers").get_by_role("link", name=second_receipt))
    expect(instructor.get_by_role("heading", level=1)).to_have_text(SECOND_TITLE)
    visit(instructor, "instructor-second-dossier")
    deadline = (dt.datetime.now(PARIS) + dt.timedelta(days=5)).replace(second=0, microsecond=0)
    correction = action_form(instructor, "correct")
    correction.get_by_label("Points à corriger").fill(CORRECTION_POINTS)
    correction.get_by_label("Date limite (heure de Paris)").fill(
        deadline.strftime("%Y-%m-%dT%H:%M"))
    click_through(correction.get_by_role("button", name="Renvoyer au chef de file"))
    expect(instructor.get_by_text("Enregistré.")).to_be_visible()
    expect(instructor.get_by_text(f"{CORRECTION_POINTS} (en attente)")).to_be_visible()
    visit(instructor, "instructor-correction-requested")
    second.refresh_from_db()
    assert second.status == DossierStatus.CORRECTION_REQUESTED
    correction_request = CorrectionRequest.objects.get(dossier=second)
    assert (correction_request.points, correction_request.deadline,
            correction_request.answered_at) == (CORRECTION_POINTS, deadline, None)
    correction_mail = wait_for_mail(
        mailoutbox, f"Corrections demandées sur votre dossier {second_receipt}")[0]
    assert lead2.email in correction_mail.to
    assert CORRECTION_POINTS in correction_mail.body

    # 2. The second lead sees the request, corrects the title, and submits again: same receipt
    #    number, a second frozen version with another hash.
    lead2_page = new_page()
    log_in(lead2_page, base, lead2.email, PASSWORD)
    steps = f"{base}/dossiers/{second.pk}/etape"
    lead2_page.goto(f"{steps}/depot/")
    expect(lead2_page.get_by_test_id("correction")).to_contain_text(CORRECTION_POINTS)
    visit(lead2_page, "lead2-depot-correction-requested")
    click_through(lead2_page.get_by_role("navigation", name="Étapes du dossier").get_by_role(
        "link", name="1. Projet"))
    visit(lead2_page, "lead2-projet-correction-requested")
    project = lead2_page.get_by_test_id("project-form")
    # The lead may edit a dossier sent back for corrections (dossiers.edit_project allows the
    # "correction_requested" status): the project form must be there to do so.
    expect(project, "the project step offers no form to the lead of a dossier sent back "
           "for corrections").to_be_visible()
    with lead2_page.expect_response(
            lambda r: r.request.method == "POST" and "/etape/projet/" in r.url) as saved:
        project.get_by_label("Titre du projet").fill(CORRECTED_TITLE)
        lead2_page.keyboard.press("Tab")  # autosave on change (htmx), no button pressed
    assert saved.value.status == 200, saved.value.status
    expect(lead2_page.locator("#dossier-title")).to_have_text(CORRECTED_TITLE)
    second.refresh_from_db()
    assert second.title == CORRECTED_TITLE
    click_through(lead2_page.get_by_role("navigation", name="Étapes du dossier").get_by_role(
        "link", name="8. Dépôt"))
    expect(lead2_page.get_by_text("Le dossier est complet et éligible.")).to_be_visible()
    visit(lead2_page, "lead2-depot-corrected")
    deposit = lead2_page.get_by_test_id("submit-form")
    tick(deposit.get_by_label(re.compile("Je certifie l'exactitude")))
    deposit.get_by_role("button", name="Déposer le dossier").click()
    lead2_page.wait_for_url(f"{base}/dossiers/{second.pk}/accuse/")
    second_version = Submission.objects.get(dossier=second, version=2)
    expect(lead2_page.get_by_test_id("receipt-number")).to_have_text(second_receipt)
    expect(lead2_page.get_by_test_id("receipt-hash")).to_have_text(second_version.sha256)
    assert second_version.sha256 != first_version.sha256
    visit(lead2_page, "lead2-receipt-version-2")
    second.refresh_from_db()
    assert (second.status, second.receipt_number) == (DossierStatus.SUBMITTED, second_receipt)
    correction_request.refresh_from_db()
    assert correction_request.answered_at == second_version.received_at

    # 3. The instructor instructs the corrected dossier.
    instructor.goto(f"{base}/instruction/dossiers/{second.pk}/")
    expect(instructor.get_by_role("heading", level=1)).to_have_text(CORRECTED_TITLE)
    expect(instructor.get_by_text(f"{CORRECTION_POINTS} (corrigé)")).to_be_visible()
    expect(instructor.get_by_text(re.compile(r"^Version 2, reçue le"))).to_be_visible()
    visit(instructor, "instructor-second-corrected")
    instruct(instructor, base, second, "instructor-second-instructed")

    # 4. The optimal assignment of the wave: every expert on each dossier.
    pairs = len(dossiers) * len(experts)
    instructor.goto(f"{call_pages}/experts/")
    visit(instructor, "instructor-experts")
    instructor.get_by_label("Vague", exact=True).select_option(wave.code)
    click_through(instructor.get_by_role("button", name="Calculer l'affectation optimale"))
    expect(instructor.get_by_text(re.compile(
        rf"^{re.escape(wave.name)} : {pairs} expertises affectées\. {pairs} nouvelles "
        r"affectations, aucune affectation retirée\. Affinité totale"))).to_be_visible()
    expect(instructor.get_by_label("Vague", exact=True)).to_have_value(wave.code)  # kept
    for expert in experts:
        expect(instructor.get_by_test_id("pool").get_by_role("row").filter(
            has_text=expert.email)).to_contain_text("2 / 5")
    visit(instructor, "instructor-experts-assigned")
    for dossier in dossiers:
        assert set(Assignment.objects.filter(dossier=dossier).values_list(
            "expert__user__email", flat=True)) == {expert.email for expert in experts}
        instructor.goto(f"{base}/instruction/dossiers/{dossier.pk}/")
        reviews = instructor.locator("section").filter(
            has=instructor.get_by_role("heading", name="Expertises", exact=True))
        for expert in experts:
            expect(reviews.get_by_role("listitem").filter(has_text=expert.email)).to_contain_text(
                "en cours")
        visit(instructor, f"instructor-assigned-d{dossier.pk}")

    # 5. Each expert scores both dossiers from their own space; the first is the better one.
    #    Another expert's scores show only once one's own review is sent.
    for number, expert in enumerate(experts, start=1):
        reviewer = new_page()
        log_in(reviewer, base, expert.email, PASSWORD)
        for dossier, value in ((first, BETTER), (second, WORSE)):
            reviewer.goto(f"{base}/instruction/")
            link = reviewer.get_by_role("link", name=f"{dossier.receipt_number} — {dossier.title}")
            if dossier is first:
                expect(reviewer.get_by_role("listitem").filter(has=link)).to_contain_text(
                    "à rendre")
                visit(reviewer, f"expert{number}-home")
            click_through(link)
            assignment = Assignment.objects.get(dossier=dossier, expert__user=expert)
            assert reviewer.url == f"{base}/instruction/expertises/{assignment.pk}/"
            expect(reviewer.get_by_test_id("score-form")).to_be_visible()
            expect(reviewer.get_by_test_id("other-scores")).to_have_count(0)
            visit(reviewer, f"expert{number}-d{dossier.pk}-grid")
            grid = reviewer.get_by_test_id("score-form")
            for criterion in criteria:
                grid.get_by_label(criterion.label, exact=True).select_option(str(value))
                grid.get_by_label(f"Commentaire — {criterion.label}", exact=True).fill(
                    f"Expert {number} : {value}/5 sur ce critère.")
            click_through(grid.get_by_role("button", name="Envoyer l'expertise"))
            assert reviewer.url == f"{base}/instruction/expertises/{assignment.pk}/"
            expect(reviewer.get_by_text("Expertise envoyée.")).to_be_visible()
            expect(reviewer.get_by_text("Expertise rendue.")).to_be_visible()
            if number == 1:  # nobody else has sent theirs yet
                expect(reviewer.get_by_test_id("other-scores")).to_have_count(0)
            else:
                expect(reviewer.get_by_test_id("other-scores").get_by_role("listitem")).to_have_count(
                    number - 1)
            visit(reviewer, f"expert{number}-d{dossier.pk}-sent")
            assignment.refresh_from_db()
            assert assignment.submitted_at is not None
            assert sorted(assignment.scores.values_list("criterion", "value")) == sorted(
                (criterion.id, value) for criterion in criteria)

    # 6. Run again once every review is sent: the reviews are kept, nothing else changes.
    instructor.goto(f"{call_pages}/experts/?vague={wave.code}")
    click_through(instructor.get_by_role("button", name="Calculer l'affectation optimale"))
    expect(instructor.get_by_text(re.compile(
        rf"^{re.escape(wave.name)} : {pairs} expertises affectées\. {pairs} expertises en cours "
        r"conservées, aucune nouvelle affectation, aucune affectation retirée\."
    ))).to_be_visible()
    visit(instructor, "instructor-experts-rerun")
    assert Assignment.objects.filter(submitted_at__isnull=False).count() == pairs

    # 7. A budget for one dossier only; the committee simulates the funding line. The earlier
    # waves get no budget either: the call carries unspent budgets over to the next wave.
    Wave.objects.filter(call=wave.call, position__lt=wave.position).update(budget=Decimal(0))
    Wave.objects.filter(pk=wave.pk).update(budget=first.requested_aid + Decimal("1.00"))
    assert first.requested_aid == second.requested_aid  # the budget cannot hold both
    committee = new_page()
    log_in(committee, base, staff[Role.COMMITTEE].email, PASSWORD)
    committee.goto(f"{call_pages}/comite/{wave.code}/")
    ranking = committee.get_by_test_id("ranking").locator("tbody tr")
    expect(ranking).to_have_count(2)
    expect(ranking.nth(0)).to_contain_text(f"{first_receipt} — {FIRST_TITLE}")
    expect(ranking.nth(0)).to_contain_text(f"{BETTER},00")
    expect(ranking.nth(1)).to_contain_text(f"{second_receipt} — {CORRECTED_TITLE}")
    expect(ranking.nth(1)).to_contain_text(f"{WORSE},00")
    expect(committee.get_by_test_id("simulation")).to_have_count(0)
    visit(committee, "committee-ranking")
    simulation_form = committee.get_by_test_id("simulation-form")
    expect(simulation_form.get_by_label("Objectif")).to_have_value(selection.objective)
    simulation_form.get_by_label("Plancher 1 : groupe").select_option(
        label="Bâtiment et travaux publics")
    simulation_form.get_by_label("Plancher 1 : Nombre minimal de dossiers").fill("1")
    click_through(simulation_form.get_by_role("button", name="Simuler"))
    simulation = committee.get_by_test_id("simulation")
    expect(simulation).to_contain_text(f"Portefeuille optimal : {first_receipt} — aide totale")
    expect(simulation.get_by_test_id("summary")).to_have_text(
        "Les deux lignes retiennent les mêmes dossiers.")
    run = SelectionRun.objects.get(wave=wave)
    assert run.result["selected"] == [f"d{first.pk}"]
    assert run.instance["floors"] == [{"group": "sector", "value": "btp", "min_count": 1}]
    assert Decimal(run.result["total_aid"]) == first.requested_aid
    # The form shows the constraints of the run it produced.
    simulation_form = committee.get_by_test_id("simulation-form")
    expect(simulation_form.get_by_label("Plancher 1 : groupe")).to_have_value("sector:btp")
    expect(simulation_form.get_by_label("Plancher 1 : Nombre minimal de dossiers")
           ).to_have_value("1")
    visit(committee, "committee-simulation")

    # 8. The committee prepares both decisions on the dossier pages.
    click_through(ranking.nth(0).get_by_role("link"))
    assert committee.url == f"{base}/instruction/dossiers/{first.pk}/"
    visit(committee, "committee-first-dossier")
    decide = action_form(committee, "decide")
    decide.get_by_label("Décision").select_option(Outcome.SELECTED)
    decide.get_by_label("Aide attribuée (€)").fill(f"{first.requested_aid}")
    click_through(decide.get_by_role("button", name="Préparer la décision"))
    expect(committee.get_by_test_id("decision")).to_contain_text("retenu — en préparation")
    visit(committee, "committee-first-decided")

    committee.goto(f"{call_pages}/comite/{wave.code}/")
    click_through(ranking.nth(1).get_by_role("link"))
    assert committee.url == f"{base}/instruction/dossiers/{second.pk}/"
    decide = action_form(committee, "decide")
    decide.get_by_label("Décision").select_option(Outcome.REJECTED)
    decide.get_by_label("Motivation").fill(REJECTION)
    click_through(decide.get_by_role("button", name="Préparer la décision"))
    expect(committee.get_by_test_id("decision")).to_contain_text("non retenu — en préparation")
    visit(committee, "committee-second-decided")
    assert list(Decision.objects.order_by("dossier").values_list(
        "dossier", "outcome", "awarded_aid", "status")) == [
        (first.pk, Outcome.SELECTED, first.requested_aid, DecisionStatus.PENDING),
        (second.pk, Outcome.REJECTED, None, DecisionStatus.PENDING)]

    # 9. The administrator publishes every decision of the wave at once.
    administrator = new_page()
    log_in(administrator, base, staff[Role.ADMINISTRATOR].email, PASSWORD)
    administrator.goto(f"{call_pages}/comite/{wave.code}/")
    expect(administrator.get_by_role("listitem").filter(has_text=first_receipt)).to_contain_text(
        "retenu")
    expect(administrator.get_by_role("listitem").filter(has_text=second_receipt)).to_contain_text(
        "non retenu")
    visit(administrator, "administrator-committee")
    click_through(administrator.get_by_test_id("publish-link"))
    visit(administrator, "administrator-publication-confirmation")
    click_through(administrator.get_by_role("button", name="Confirmer la publication"))
    expect(administrator.get_by_text("2 décisions publiées.")).to_be_visible()
    expect(administrator.get_by_test_id("publish-link")).to_have_count(0)
    # The ranking the committee decided on stays, read-only, with each dossier's outcome.
    ranking = administrator.get_by_test_id("ranking").locator("tbody tr")
    expect(ranking).to_have_count(2)
    expect(ranking.nth(0)).to_contain_text(f"{first_receipt} — {FIRST_TITLE}")
    expect(ranking.nth(0)).to_contain_text("retenu")
    expect(ranking.nth(1)).to_contain_text("non retenu")
    expect(administrator.get_by_test_id("read-only")).to_be_visible()
    expect(administrator.get_by_test_id("simulation-form")).to_have_count(0)
    visit(administrator, "administrator-published")
    published = Decision.objects.filter(status=DecisionStatus.PUBLISHED)
    assert published.count() == 2
    assert len(set(published.values_list("published_at", flat=True))) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (DossierStatus.SELECTED, DossierStatus.REJECTED)

    # 10. Each lead sees the decision, downloads the letter, and got it by mail.
    lead1_page = new_page()
    log_in(lead1_page, base, lead1.email, PASSWORD)
    for page, lead, dossier, outcome in (
            (lead1_page, lead1, first, "retenu"), (lead2_page, lead2, second, "non retenu")):
        page.goto(f"{base}/dossiers/{dossier.pk}/etape/depot/")
        notice = page.get_by_test_id("decision")
        expect(notice.get_by_role("heading")).to_have_text(f"Décision : {outcome}")
        visit(page, f"lead-d{dossier.pk}-decision")
        with page.expect_download() as download:
            notice.get_by_role("link", name="Lettre de décision (PDF)").click()
        letter = pdf_text(download.value.path().read_bytes())
        assert dossier.receipt_number in letter, letter
        mail = wait_for_mail(mailoutbox, f"Décision sur votre dossier {dossier.receipt_number}")
        assert len(mail) == 1
        assert lead.email in mail[0].to
        (name, content, mimetype), = mail[0].attachments
        assert (name, mimetype) == (f"decision-{dossier.receipt_number}.pdf", "application/pdf")
        assert dossier.receipt_number in pdf_text(content)
    expect(lead1_page.get_by_test_id("decision")).to_contain_text("Aide attribuée")
    expect(lead2_page.get_by_test_id("decision")).not_to_contain_text("Aide attribuée")
