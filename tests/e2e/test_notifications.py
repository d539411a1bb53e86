"""An applicant finds, in the in-app list, what staff did on their dossier: the header shows
how many are unread, the page lists them and marks them read; on a desktop and at 390 px."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guichet.demo.dossiers import DEMO_LEAD_EMAIL, DEMO_PASSWORD, lead_user
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.review.instruction import post_message, record_instruction
from guichet.review.models import CallRole, Role
from tests.e2e.conftest import click_through, log_in, visit
from tests.factories import lead_and_member, make_dossier, make_user

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "390px"])
def test_applicant_sees_staff_actions_in_notifications(new_page, live_server, deffinum_open,
                                                       example_document, mobile):
    base = live_server.url
    instructor = make_user("instructeur@deffinum.example.fr")
    CallRole.objects.create(user=instructor, call=deffinum_open, role=Role.INSTRUCTOR)
    dossier = make_dossier(example_document)
    submit(dossier)
    dossier.refresh_from_db()
    lead, _member = lead_and_member(dossier)
    # Staff act through the services; each action commits, so its notification is written.
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    post_message(dossier, instructor, "Votre dossier passe en expertise.")

    page = new_page(mobile=mobile)
    log_in(page, base, lead.email, PASSWORD)
    # On a phone the header's tools are in the menu (DSFR copies them there).
    if mobile:
        page.get_by_role("button", name="Menu", exact=True).tap()
    header = page.locator("#fr-menu-mobile" if mobile else ".fr-header__tools")
    link = header.get_by_role("link", name="Notifications 2 non lues")
    expect(link).to_be_visible()
    click_through(link)
    visit(page, f"notifications-{'mobile' if mobile else 'desktop'}")
    expect(page.get_by_test_id("notification-instruction_done")).to_contain_text(
        dossier.receipt_number)
    expect(page.get_by_test_id("notification-message_posted")).to_contain_text(
        "Nouveau message sur un dossier")
    click_through(page.get_by_test_id("notification-instruction_done").get_by_role("button"))
    expect(page.get_by_test_id("notification-instruction_done")).not_to_contain_text("Nouveau ")
    click_through(page.get_by_test_id("read-all"))
    expect(page.get_by_test_id("unread-count")).to_have_count(0)
    visit(page, f"notifications-read-{'mobile' if mobile else 'desktop'}")
    click_through(page.get_by_test_id("notification-instruction_done").get_by_role("link"))
    expect(page).to_have_url(f"{base}/dossiers/{dossier.pk}/etape/depot/")


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "390px"])
def test_applicant_is_told_of_each_step_from_receipt_to_payment(new_page, live_server,
                                                                deffinum_open, mailoutbox,
                                                                mobile):
    """The demo's first grant went from submission to two payments: its lead got a mail and an
    in-app notification of each step, each naming the dossier and opening its page."""
    call_command("seeddemo", stdout=io.StringIO())
    number = lead_user_dossier().receipt_number
    mailed = {mail.subject for mail in mailoutbox if DEMO_LEAD_EMAIL in mail.to}
    assert mailed == {f"Accusé de réception {number} — Campus hybride des métiers du bâtiment",
                      f"Dossier {number} : instruction terminée",
                      f"Décision sur votre dossier {number}",
                      f"Subvention {number} : rapports attendus",
                      f"Subvention {number} : rapport intermédiaire approuvé",
                      f"Subvention {number} : versement de la tranche 1",
                      f"Subvention {number} : versement de la tranche 2"}

    page = new_page(mobile=mobile)
    log_in(page, live_server.url, DEMO_LEAD_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/notifications/")
    visit(page, f"notifications-demo-{'mobile' if mobile else 'desktop'}")
    for kind, label in (("receipt", "Accusé de réception"),
                        ("instruction_done", "Instruction terminée"),
                        ("decision_published", "Publication d'une décision"),
                        ("report_requested", "Rapports attendus"),
                        ("report_approved", "Rapport approuvé"),
                        ("payment_made", "Versement effectué")):
        row = page.get_by_test_id(f"notification-{kind}").first
        expect(row).to_contain_text(label)
        expect(row.get_by_role("link", name=re.compile(number))).to_be_visible()
    expect(page.get_by_test_id("notification-payment_made")).to_have_count(2)
    click_through(page.get_by_test_id("notification-receipt").get_by_role("link"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accusé de réception")
    visit(page, f"notifications-demo-receipt-{'mobile' if mobile else 'desktop'}")


def lead_user_dossier() -> Dossier:
    """The demo lead's dossier that became a grant."""
    return next(dossier for dossier in Dossier.objects.filter(grant__isnull=False)
                if lead_user(dossier).email == DEMO_LEAD_EMAIL)
