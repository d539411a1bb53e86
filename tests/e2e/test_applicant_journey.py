"""The whole applicant journey in a real browser: from sign-up to the receipt of a consortium
dossier, with a second person joining the consortium from another browser context. It runs on
Deffinum and on the regional example call, each dossier shaped by its call's limits."""

import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from guichet.calls.models import Call
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.format import submitted_envelope
from guichet.dossiers.models import ConsortiumMember, Dossier, DossierAnswers, Submission
from guichet.dossiers.receipt import receipt_hash_from_pdf
from tests.e2e.conftest import click_through, paris_today, tick, visit
from tests.factories import fresh_siret

pytestmark = pytest.mark.e2e

LEAD_EMAIL = "cheffe.de.file@reseau-formation.example"
LEAD_PASSWORD = "Formation-Hybride-2021!"
MEMBER_EMAIL = "contact@edtech-immersia.example"
MEMBER_PASSWORD = "Immersion-Numerique-2022!"
TITLE = "Campus hybride des métiers du bâtiment"
VERDICT = "aside#verdict"
ELIGIBLE = 'aside#verdict [data-verdict="eligible"]'
NOT_ELIGIBLE = 'aside#verdict [data-verdict="not-eligible"]'

BASE = Decimal("1000000.00")
MEMBER_EXPENSE = Decimal("150000.00")
LEAD_EXPENSES = [("staff", "Ingénierie pédagogique", Decimal("600000.00")),
                 ("digital_resources", "Simulateurs et licences", Decimal("250000.00"))]
MEMBER_IN_KIND = Decimal("50000.00")


@dataclass(frozen=True)
class Application:
    """A dossier at the limits of its call: scope, longest duration, first results as late as
    allowed, aid at the cap."""

    call: str  # the fixture of the open call
    scope: str
    duration_months: int
    first_results_month: int
    aid_cap_rate: Decimal
    answers: tuple[tuple[str, str], ...]  # (label, value) typed in the call's first section
    stored_answers: dict

    @property
    def aid(self) -> Decimal:
        return (BASE * self.aid_cap_rate).quantize(Decimal("1"))

    @property
    def lead_cash(self) -> Decimal:
        return BASE - self.aid - MEMBER_IN_KIND


DEFFINUM = Application(
    "deffinum_open", "national", 36, 12, Decimal("0.70"),
    answers=(("Temps synchrone (%)", "40"), ("Temps asynchrone (%)", "60"),
             ("Outils immersifs", "Simulateurs de chantier")),
    stored_answers={"synchronous_share": 40, "asynchronous_share": 60,
                    "immersive_tools": "Simulateurs de chantier"})
# The regional call's required question, a choice that opens another, and a table's first row.
REGIONAL = Application(
    "regional_open", "regional", 24, 9, Decimal("0.50"),
    answers=(("Besoin du territoire auquel répond le projet", "Pénurie de maçons qualifiés"),
             ("Le projet touche-t-il des zones rurales ?", "Oui"),
             ("Part des apprenants en zone rurale (%)", "35"),
             ("Commune, ligne 1", "Amiens"), ("Apprenants prévus, ligne 1", "120")),
    stored_answers={"territorial_need": "Pénurie de maçons qualifiés", "rural_areas": "yes",
                    "rural_share": 35, "sites": [{"town": "Amiens", "learners": "120.00"}]})


def dossier_answers(dossier) -> dict:
    return DossierAnswers.objects.get(dossier=dossier).values


def on_server(url: str, base_url: str) -> str:
    """A link from a mail, pointed at the live server (mails use settings.SITE_URL)."""
    return re.sub(r"^https?://[^/]+", base_url, url)


def link_in(mailoutbox, to: str, pattern: str, base_url: str) -> str:
    mails = [mail for mail in mailoutbox if to in mail.to]
    assert mails, f"no mail to {to}: {[m.to for m in mailoutbox]}"
    match = re.search(rf"https?://\S+{pattern}", mails[-1].body)
    assert match, mails[-1].body
    return on_server(match.group(0), base_url)


def live_post(page, action, path: str, event: str = "htmx:afterSettle") -> None:
    """Do `action`, which makes htmx post the step form, and wait until the answer is in
    (`htmx:afterSettle` once a swapped step has settled; autosave swaps nothing but the
    verdict, the version and the status, so it waits for `htmx:afterRequest`)."""
    page.evaluate("""(event) => { window.__e2eSettled = false;
        document.body.addEventListener(event,
            () => { window.__e2eSettled = true; }, {once: true}); }""", event)
    with page.expect_response(lambda r: r.request.method == "POST" and path in r.url) as posted:
        action()
    assert posted.value.status == 200, posted.value.status
    page.wait_for_function("() => window.__e2eSettled === true")


def sign_up(page, base_url: str, mailoutbox, email: str, password: str, who: str) -> None:
    """Sign up, read the confirmation link in the mail, confirm with the button: logged in."""
    page.goto(f"{base_url}/comptes/signup/")
    visit(page, f"{who}-signup")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Mot de passe (confirmation)").fill(password)
    page.locator("main").get_by_role("button", name="Création de compte").click()
    page.wait_for_url(f"{base_url}/comptes/confirm-email/")
    visit(page, f"{who}-verification-sent")
    confirm = link_in(mailoutbox, email, r"/comptes/confirm-email/[-:\w]+/", base_url)
    page.goto(confirm)
    visit(page, f"{who}-confirm-email")
    page.locator("main").get_by_role("button", name=re.compile("Confirmer")).click()
    page.wait_for_url(f"{base_url}/espace/")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def declare_organisation(page, siret: str, name: str) -> None:
    form = page.get_by_test_id("organisation-form")
    form.get_by_label("SIRET").fill(siret)
    form.get_by_label("Raison sociale").fill(name)
    click_through(form.get_by_role("button", name="Enregistrer l'organisme"))


def step_link(page, label: str) -> None:
    click_through(page.get_by_role("navigation", name="Étapes du dossier").get_by_role(
        "link", name=re.compile(rf"^\d+\. {label}( —|$)")))  # then its completion mark


@pytest.mark.e2e
@pytest.mark.parametrize("application", [DEFFINUM, REGIONAL], ids=["deffinum", "regional"])
def test_applicant_journey_from_signup_to_receipt(
        request, page, new_page, live_server, application, mailoutbox, tmp_path):
    base = live_server.url
    call = request.getfixturevalue(application.call)
    limits = call.rules().eligibility
    assert application.scope in limits.allowed_scopes
    assert (application.duration_months, application.first_results_month,
            application.aid_cap_rate) == (
        limits.max_duration_months, limits.first_results_month, limits.aid_cap_rate)
    duration = application.duration_months

    # 1. The lead signs up, confirms the address with the button, and is logged in.
    sign_up(page, base, mailoutbox, LEAD_EMAIL, LEAD_PASSWORD, "lead")
    visit(page, "lead-dashboard")

    # 2. Declares its organisation, starts a dossier, fills in the project (saved on change).
    lead_siret, lead_name = fresh_siret(), "Réseau Formation BTP"
    declare_organisation(page, lead_siret, lead_name)
    expect(page.get_by_text("Organisme enregistré.")).to_be_visible()
    expect(page.get_by_text(f"{lead_name} — SIRET {lead_siret}")).to_be_visible()
    visit(page, "lead-dashboard-organisation")
    # From the call's public page, whose button brings the start form with that call chosen
    # (a choice only when several calls are open, as with the regional call beside Deffinum).
    page.goto(f"{base}/appels/{call.code}/")
    visit(page, "lead-call-page")
    click_through(page.get_by_test_id("apply"))
    start = page.get_by_test_id("start-form")
    choice = start.get_by_label("Appel à projets")
    if Call.objects.count() > 1:
        expect(choice).to_have_value(call.code)
    else:
        expect(choice).to_have_count(0)
    start.get_by_label("Organisme chef de file").select_option(label=f"{lead_name} ({lead_siret})")
    start.get_by_label("Catégorie de l'organisme").select_option("training_network")
    start.get_by_label("Titre du projet").fill("Campus hybride")
    start.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(re.compile(r"/dossiers/\d+/etape/projet/$"))
    dossier = Dossier.objects.get(pk=int(re.search(r"/dossiers/(\d+)/", page.url).group(1)))
    assert dossier.call == call
    steps = f"{base}/dossiers/{dossier.pk}/etape"
    expect(page.locator(NOT_ELIGIBLE)).to_be_visible()
    visit(page, "lead-step-projet-empty")

    form = page.get_by_test_id("project-form")
    start_date = (paris_today() + dt.timedelta(days=92)).replace(day=1)
    fill_ins = [
        lambda: form.get_by_label("Titre du projet").fill(TITLE),
        lambda: form.get_by_label("Résumé").fill(
            "Hybridation des parcours CAP/BP avec simulateurs immersifs et tiers-lieux."),
        lambda: form.get_by_label("Portée").select_option(application.scope),
        lambda: tick(form.get_by_label(re.compile("s'engage à mutualiser"))),
        lambda: form.get_by_label("Date de début").fill(start_date.isoformat()),
        lambda: form.get_by_label("Durée (mois)").fill(str(duration)),
    ]
    for fill_in in fill_ins:
        # Each change is saved on its own (htmx, "change delay:400ms"): no button pressed.
        live_post(page, lambda fill_in=fill_in: (fill_in(), page.keyboard.press("Tab")),
                  "/etape/projet/", event="htmx:afterRequest")
    assert page.url == f"{steps}/projet/"  # htmx: no page load
    expect(page.locator("#dossier-title")).to_have_text(TITLE)
    dossier.refresh_from_db()
    assert (dossier.title, dossier.scope, dossier.pooling_commitment, dossier.duration_months,
            dossier.start_date) == (TITLE, application.scope, True, duration, start_date)
    assert dossier.summary.startswith("Hybridation des parcours")
    version = dossier.version
    click_through(form.get_by_role("button", name="Enregistrer"))  # a plain post, page reloads
    expect(page.locator("[data-conflict]")).to_have_count(0)
    dossier.refresh_from_db()
    assert dossier.version == version + 1
    assert (dossier.start_date, dossier.duration_months) == (start_date, duration)
    visit(page, "lead-step-projet")

    # 3. Invites a second person, who joins from its own browser.
    step_link(page, "Consortium")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    visit(page, "lead-step-consortium")
    page.get_by_label("Adresse électronique du membre invité").fill(MEMBER_EMAIL)
    click_through(page.get_by_role("button", name="Inviter"))
    expect(page.get_by_text(f"Invitation envoyée à {MEMBER_EMAIL}.")).to_be_visible()
    invitation = link_in(mailoutbox, MEMBER_EMAIL, r"/invitations/[-\w]+/", base)

    member_page = new_page()
    sign_up(member_page, base, mailoutbox, MEMBER_EMAIL, MEMBER_PASSWORD, "member")
    member_page.goto(invitation)
    expect(member_page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    visit(member_page, "member-invitation")
    member_siret, member_name = fresh_siret(), "EdTech Immersia"
    declare_organisation(member_page, member_siret, member_name)
    assert member_page.url == invitation
    visit(member_page, "member-invitation-organisation")
    accept = member_page.get_by_test_id("accept-form")
    accept.get_by_label("Organisme que vous représentez").select_option(
        label=f"{member_name} ({member_siret})")
    accept.get_by_label("Catégorie de l'organisme").select_option("edtech")
    accept.get_by_role("button", name="Confirmer ma participation").click()
    member_page.wait_for_url(f"{steps}/budget/")
    expect(member_page.get_by_text("Vous faites désormais partie du consortium.")).to_be_visible()
    expect(member_page.get_by_text("vous êtes membre du consortium")).to_be_visible()
    visit(member_page, "member-step-budget")

    expense = member_page.get_by_test_id("expense-form")
    expense.get_by_label("Membre").select_option(label=member_name)
    expense.get_by_label("Catégorie de dépense").select_option("subcontracting")
    expense.get_by_label("Libellé").fill("Simulateurs immersifs")
    expense.get_by_label("Montant (€)").fill("150000,00")
    expect(expense.get_by_label("Dépense éligible")).to_be_checked()
    live_post(member_page, lambda: expense.get_by_role("button", name="Ajouter la dépense")
              .click(), "/etape/budget/")
    expect(member_page.get_by_test_id("expenses")).to_contain_text("Simulateurs immersifs")
    assert member_page.url == f"{steps}/budget/"
    visit(member_page, "member-step-budget-expense")

    step_link(member_page, "Plan de financement")
    financing = member_page.get_by_test_id("financing-form")
    financing.get_by_label("Source").select_option("own_in_kind")
    financing.get_by_label("Membre (pour un apport propre)").select_option(label=member_name)
    financing.get_by_label("Montant (€)").fill("50000,00")
    live_post(member_page, lambda: financing.get_by_role("button", name="Ajouter").click(),
              "/etape/financement/")
    expect(member_page.get_by_test_id("financing")).to_contain_text(member_name)
    visit(member_page, "member-step-financement")
    member = ConsortiumMember.objects.get(consortium=dossier.consortium, is_lead=False)
    assert member.organisation.siret == member_siret
    assert list(dossier.expenses.values_list("member", "amount", "eligible")) == [
        (member.pk, MEMBER_EXPENSE, True)]
    assert list(dossier.financing.values_list("member", "source", "amount")) == [
        (member.pk, "own_in_kind", MEMBER_IN_KIND)]

    # 4. Back to the lead: calendar, documents, then the financial annex.
    page.goto(f"{steps}/calendrier/")
    milestone = page.locator("form").filter(has=page.get_by_label("Type de jalon"))
    first_results = application.first_results_month
    for month, kind, label in (
            (first_results, "first_results", "Premiers résultats : 3 parcours hybridés"),
            (duration, "final", "Bilan final")):
        milestone.get_by_label("Mois (1 = premier mois du projet)").fill(str(month))
        milestone.get_by_label("Type de jalon").select_option(kind)
        milestone.get_by_label("Libellé").fill(label)
        live_post(page, lambda: milestone.get_by_role("button", name="Ajouter le jalon").click(),
                  "/etape/calendrier/")
        expect(page.get_by_role("table")).to_contain_text(label)
    assert list(dossier.milestones.order_by("month").values_list("month", "kind")) == [
        (first_results, "first_results"), (duration, "final")]
    visit(page, "lead-step-calendrier")

    # The call's own questions, on the step its definition declares.
    section = call.rules().sections[0]
    step_link(page, section.label)
    section_form = page.get_by_test_id("section-form")
    for label, value in application.answers:
        # The name goes on with the help text, which may name an earlier question: first.
        field = section_form.get_by_label(label).first
        fill_in = (lambda field=field, value=value: field.select_option(label=value)) \
            if field.evaluate("e => e.tagName") == "SELECT" else \
            (lambda field=field, value=value: field.fill(value))
        live_post(page, lambda fill_in=fill_in: (fill_in(), page.keyboard.press("Tab")),
                  f"/etape/{section.id}/", event="htmx:afterRequest")
    assert dossier_answers(dossier) == application.stored_answers
    visit(page, f"lead-step-{section.id}")

    step_link(page, "Pièces")
    visit(page, "lead-step-documents-empty")
    for kind in ("commitment_letters", "financial_annex", "lead_statutes"):
        pdf = tmp_path / f"{kind}.pdf"
        pdf.write_bytes(blank_pdf())
        upload = page.get_by_test_id("document-form")
        upload.get_by_label("Pièce").select_option(kind)
        upload.get_by_label("Fichier PDF (20 Mo au plus)").set_input_files(pdf)
        click_through(upload.get_by_role("button", name="Téléverser"))
        expect(page.get_by_text("Pièce ajoutée.")).to_be_visible()
        expect(page.get_by_role("link", name=f"{kind}.pdf")).to_be_visible()
    assert sorted(dossier.documents.values_list("kind", flat=True)) == [
        "commitment_letters", "financial_annex", "lead_statutes"]
    visit(page, "lead-step-documents")

    step_link(page, "Budget")
    expect(page.locator(NOT_ELIGIBLE)).to_be_visible()
    expect(page.locator(ELIGIBLE)).to_have_count(0)
    visit(page, "lead-step-budget-before-annex")
    with page.expect_download() as download:
        page.get_by_role("link", name="Annexe financière à remplir (XLSX)").click()
    template = tmp_path / "annexe.xlsx"
    download.value.save_as(template)
    workbook = openpyxl.load_workbook(template)
    expenses, plan = workbook["Dépenses"], workbook["Financement"]
    prefilled = [row for row in expenses.iter_rows(min_row=2, values_only=True) if any(row)]
    assert [(row[0], Decimal(str(row[4])), row[5]) for row in prefilled] == [
        (member_siret, MEMBER_EXPENSE, "oui")]
    funding = [row for row in plan.iter_rows(min_row=2, values_only=True) if any(row)]
    assert [(row[1], Decimal(str(row[2]))) for row in funding] == [(member_siret, MEMBER_IN_KIND)]
    for category, label, amount in LEAD_EXPENSES:
        expenses.append([lead_siret, lead_name, category, label, amount, "oui"])
    plan.append(["Aide demandée", None, application.aid])
    plan.append(["Autofinancement", lead_siret, application.lead_cash])
    filled = tmp_path / "annexe-remplie.xlsx"
    workbook.save(filled)
    assert MEMBER_EXPENSE + sum(amount for *_, amount in LEAD_EXPENSES) == BASE
    # In kind: at most 30 % of the co-financing, in both calls.
    assert (BASE - application.aid) * limits.in_kind_cap_rate >= MEMBER_IN_KIND

    annex = page.get_by_test_id("annex-form")
    annex.get_by_label("Annexe financière remplie (XLSX)").set_input_files(filled)
    click_through(annex.get_by_role("button", name="Importer"))
    expect(page.get_by_text("Annexe financière importée.")).to_be_visible()
    expect(page.locator(ELIGIBLE)).to_be_visible()
    expect(page.locator(f"{VERDICT} li[data-ok=false]")).to_have_count(0)
    expect(page.locator(f'{VERDICT} li[data-rule="balanced_plan"][data-ok=true]')).to_be_visible()
    expect(page.get_by_test_id("expenses")).to_contain_text("1 000 000,00")
    visit(page, "lead-step-budget-eligible")
    step_link(page, "Plan de financement")
    visit(page, "lead-step-financement")

    # 5. Submission: receipt page, receipt PDF whose printed hash is the stored one.
    step_link(page, "Dépôt")
    expect(page.get_by_text("Le dossier est complet et éligible.")).to_be_visible()
    visit(page, "lead-step-depot")
    deposit = page.get_by_test_id("submit-form")
    tick(deposit.get_by_label(re.compile("Je certifie l'exactitude")))
    deposit.get_by_role("button", name="Déposer le dossier").click()
    page.wait_for_url(f"{base}/dossiers/{dossier.pk}/accuse/")
    submission = Submission.objects.get(dossier=dossier)
    dossier.refresh_from_db()
    expect(page.get_by_test_id("receipt-number")).to_have_text(dossier.receipt_number)
    expect(page.get_by_test_id("receipt-hash")).to_have_text(submission.sha256)
    visit(page, "lead-receipt")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'accusé de réception (PDF)").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert receipt_hash_from_pdf(pdf) == submission.sha256
    assert submission.sha256 == hashlib.sha256(submission.snapshot.encode()).hexdigest()
    assert submission.eligible is True
    assert submitted_envelope(submission.snapshot).answers == application.stored_answers

    deadline = time.monotonic() + 10  # the receipt mail leaves once the submission commits
    while not any(m.subject.startswith("Accusé de réception") for m in mailoutbox):
        assert time.monotonic() < deadline, [m.subject for m in mailoutbox]
        time.sleep(0.1)
    receipts = [m for m in mailoutbox if m.subject.startswith("Accusé de réception")]
    assert {address for mail in receipts for address in mail.to} == {LEAD_EMAIL, MEMBER_EMAIL}
    assert all(submission.sha256 in mail.body for mail in receipts)

    # 6. The member sees the receipt too; both dashboards list the submitted dossier.
    member_page.goto(f"{base}/dossiers/{dossier.pk}/accuse/")
    expect(member_page.get_by_test_id("receipt-hash")).to_have_text(submission.sha256)
    visit(member_page, "member-receipt")
    page.goto(f"{base}/espace/")
    expect(page.get_by_role("main")).to_contain_text(dossier.receipt_number)
    visit(page, "lead-dashboard-submitted")
