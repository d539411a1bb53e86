"""The journeys on a 390 px phone (touch, mobile user agent): everything the header offers is
reached from the DSFR menu, tables scroll inside their container and never widen the page, and
every page passes axe-core with no JavaScript error."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guichet.demo.dossiers import DEMO_PASSWORD
from guichet.demo.grants import STAFF
from guichet.dossiers.models import Dossier, DossierStatus, Submission
from guichet.grants.models import Grant
from guichet.review.models import Role
from tests.e2e.conftest import PHONE, click_through, paris_today, tick, visit
from tests.e2e.test_applicant_journey import declare_organisation, link_in
from tests.factories import fresh_siret, lead_and_member, make_dossier

pytestmark = pytest.mark.e2e

EMAIL = "cheffe.de.file@tiers-lieu-mobile.example"
PASSWORD = "Formation-Mobile-2024!"
LEAD_PASSWORD = "Formation-Hybride-2021!"  # make_user's default
PHONE_WIDTH = PHONE["viewport"]["width"]
STEPS = ["Projet", "Consortium", "Calendrier", "Budget", "Plan de financement", "Hybridation",
         "Pièces", "Dépôt"]


def on_phone(page, name: str) -> None:
    """`visit`, once sure the page does not scroll sideways (wide tables scroll in their
    own container) and every table sits in the DSFR scrolling wrapper."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"« {name} » is {width} px wide on a {PHONE_WIDTH} px phone"
    unwrapped = page.evaluate("""() => [...document.querySelectorAll('main table')]
        .filter(t => !t.closest('.fr-table__container')).length""")
    assert unwrapped == 0, f"« {name} »: {unwrapped} table(s) outside fr-table__container"
    visit(page, name)


def open_menu(page):
    """Open the header's menu with the burger button, as a person on a phone does."""
    page.get_by_role("button", name="Menu", exact=True).tap()
    menu = page.locator("#fr-menu-mobile")
    expect(menu).to_be_visible()
    return menu


def menu_link(page, name: str) -> None:
    click_through(open_menu(page).get_by_role("link", name=name, exact=True))


def menu_button(page, name: str) -> None:
    click_through(open_menu(page).get_by_role("button", name=name, exact=True))


def log_in_from_menu(page, base: str, email: str, password: str, landing: str) -> None:
    page.goto(f"{base}/")
    menu_link(page, "Se connecter")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Connexion").tap()
    page.wait_for_url(f"{base}{landing}")


def test_phone_header_tools_are_in_the_menu(mobile_page, live_server, deffinum_open):
    page = mobile_page
    page.goto(f"{live_server.url}/")
    expect(page.locator(".fr-header__tools-links")).to_be_hidden()  # the phone layout
    on_phone(page, "home")
    menu = open_menu(page)
    for name in ("Se connecter", "Créer un compte"):
        expect(menu.get_by_role("link", name=name)).to_be_visible()
    expect(menu.get_by_role("button", name="English")).to_be_visible()
    expect(menu.get_by_role("link", name="Appels à projets")).to_be_visible()
    on_phone(page, "menu-open")


def test_phone_applicant_signs_up_from_the_menu_and_starts_a_dossier(
        mobile_page, live_server, deffinum_open, mailoutbox):
    page, base = mobile_page, live_server.url
    page.goto(f"{base}/")
    menu_link(page, "Créer un compte")
    on_phone(page, "signup")
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Mot de passe (confirmation)").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Création de compte").tap()
    page.wait_for_url(f"{base}/comptes/confirm-email/")
    on_phone(page, "verification-sent")
    page.goto(link_in(mailoutbox, EMAIL, r"/comptes/confirm-email/[-:\w]+/", base))
    page.locator("main").get_by_role("button", name=re.compile("Confirmer")).tap()
    page.wait_for_url(f"{base}/espace/")
    on_phone(page, "dashboard")

    siret, name = fresh_siret(), "Tiers-lieu numérique du Cher"
    declare_organisation(page, siret, name)
    expect(page.get_by_text("Organisme enregistré.")).to_be_visible()
    start = page.get_by_test_id("start-form")
    start.get_by_label("Organisme chef de file").select_option(label=f"{name} ({siret})")
    start.get_by_label("Catégorie de l'organisme").select_option("training_network")
    start.get_by_label("Titre du projet").fill("Tiers-lieux apprenants")
    start.get_by_role("button", name="Créer le dossier").tap()
    page.wait_for_url(re.compile(r"/dossiers/\d+/etape/projet/$"))
    on_phone(page, "step-projet-new")
    assert Dossier.objects.get(title="Tiers-lieux apprenants").status == DossierStatus.DRAFT


def test_phone_lead_walks_every_step_and_deposits(
        mobile_page, live_server, deffinum_open, example_document):
    page, base = mobile_page, live_server.url
    dossier = make_dossier(example_document)  # complete and eligible
    lead, _member = lead_and_member(dossier)
    log_in_from_menu(page, base, lead.email, LEAD_PASSWORD, "/espace/")
    on_phone(page, "dashboard")
    click_through(page.get_by_role("link", name=dossier.title))
    steps = page.get_by_role("navigation", name="Étapes du dossier")
    for number, step in enumerate(STEPS, start=1):
        click_through(steps.get_by_role("link", name=f"{number}. {step}"))
        expect(page.locator(".fr-stepper__title")).to_contain_text(step)
        on_phone(page, f"step-{number}-{step}")
    expect(page.get_by_text("Le dossier est complet et éligible.")).to_be_visible()
    deposit = page.get_by_test_id("submit-form")
    tick(deposit.get_by_label(re.compile("Je certifie l'exactitude")))
    deposit.get_by_role("button", name="Déposer le dossier").tap()
    page.wait_for_url(f"{base}/dossiers/{dossier.pk}/accuse/")
    expect(page.get_by_test_id("receipt-hash")).to_have_text(
        Submission.objects.get(dossier=dossier).sha256)
    on_phone(page, "receipt")


def test_phone_language_switch_and_log_out_from_the_menu(
        mobile_page, live_server, deffinum_open, example_document):
    page, base = mobile_page, live_server.url
    lead, _member = lead_and_member(make_dossier(example_document))
    log_in_from_menu(page, base, lead.email, LEAD_PASSWORD, "/espace/")
    menu_button(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    on_phone(page, "dashboard-english")
    menu = open_menu(page)
    expect(menu.get_by_role("button", name="Français")).to_be_visible()
    on_phone(page, "menu-english")
    click_through(menu.get_by_role("button", name="Log out"))
    menu = open_menu(page)
    expect(menu.get_by_role("link", name="Log in")).to_be_visible()
    on_phone(page, "logged-out")
    page.goto(f"{base}/espace/")
    expect(page).to_have_url(re.compile(r"/comptes/login/\?next=/espace/$"))


def test_phone_staff_journey_through_the_back_office(mobile_page, live_server, deffinum_open):
    page, base = mobile_page, live_server.url
    call_command("seeddemo", stdout=io.StringIO())  # a decided wave, signed grants, payments
    log_in_from_menu(page, base, STAFF[Role.ADMINISTRATOR], DEMO_PASSWORD, "/instruction/")
    on_phone(page, "backoffice-home")
    expect(open_menu(page).get_by_role("link", name="Espace instruction")).to_be_visible()
    page.keyboard.press("Escape")
    grant = Grant.objects.order_by("pk").first()
    pages = [
        ("dossiers", "dossiers", "Dossiers déposés"),
        ("experts", "experts", "Vivier d'experts"),
        ("comité Vague 1", "committee", "Comité de sélection — Vague 1"),
        ("subventions", "grants", "Subventions"),
        ("Tableau de bord financier", "dashboard", "Tableau de bord financier"),
    ]
    for link, name, heading in pages:
        page.goto(f"{base}/instruction/")
        click_through(page.locator("main").get_by_role("link", name=link, exact=True))
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        on_phone(page, f"backoffice-{name}")
    page.goto(f"{base}/instruction/appels/deffinum/dossiers/")
    click_through(page.get_by_test_id("dossiers").get_by_role(
        "link", name=grant.dossier.receipt_number))
    expect(page.get_by_role("heading", level=1)).to_have_text(grant.dossier.title)
    on_phone(page, "backoffice-dossier")
    page.goto(f"{base}/instruction/appels/deffinum/subventions/")
    click_through(page.get_by_test_id("grants").get_by_role(
        "link", name=re.compile(grant.dossier.receipt_number)))
    expect(page.get_by_test_id("award")).to_be_visible()
    on_phone(page, "backoffice-grant")
    assert paris_today() == grant.tranches.get(number=1).payment.paid_on
