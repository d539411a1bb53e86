"""Staff two-factor authentication in a real browser: an instructor is made to set up an
authenticator app before the first back-office page, then signs in with password and code."""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from playwright.sync_api import expect

from guichet.review.models import Role
from tests.e2e.conftest import click_through, visit
from tests.factories import give_roles, make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"


def totp(secret: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for `secret` (RFC 6238: SHA-1, 30 s)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((at or time.time()) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** 6:06d}"


def password_step(page, base: str, email: str) -> None:
    page.goto(f"{base}/comptes/login/?next=/instruction/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    click_through(page.locator("main").get_by_role("button", name="Connexion"))


@pytest.mark.e2e
def test_staff_enrols_totp_then_signs_in_with_it(new_page, live_server, deffinum_open, settings):
    settings.STAFF_MFA_REQUIRED = True
    base = live_server.url
    instructor = make_user("instructeur@deffinum.example.fr")
    give_roles(instructor, deffinum_open, Role.INSTRUCTOR)
    page = new_page()

    # 1. Password only: the back office sends the instructor to set up an authenticator app.
    # allauth asks for the password once more before a security change.
    password_step(page, base, instructor.email)
    page.wait_for_url(f"{base}/comptes/reauthenticate/?next=%2Fcomptes%2F2fa%2Ftotp%2Factivate%2F")
    expect(page.get_by_text("demandent une double authentification")).to_be_visible()
    visit(page, "staff-reauthenticate")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    click_through(page.locator("main").locator("button[type=submit]").last)
    page.wait_for_url(f"{base}/comptes/2fa/totp/activate/")
    visit(page, "staff-totp-activate")
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    page.locator("input[name=code]").fill(totp(secret))
    click_through(page.locator("main").locator("button[type=submit]").last)
    page.goto(f"{base}/instruction/")
    expect(page).to_have_url(f"{base}/instruction/")
    visit(page, "staff-home-after-totp")

    # 2. A new browser: password, then the code from the app, then the back office.
    page = new_page(mobile=True)
    password_step(page, base, instructor.email)
    page.wait_for_url(f"{base}/comptes/2fa/authenticate/*")
    visit(page, "staff-totp-authenticate-phone")
    sign_in = page.locator("main").locator("button[type=submit]").first  # then "cancel"
    page.locator("input[name=code]").fill("000000" if totp(secret) != "000000" else "111111")
    click_through(sign_in)
    expect(page).to_have_url(f"{base}/comptes/2fa/authenticate/")  # a wrong code: asked again
    expect(page.locator("input[name=code]")).to_have_attribute("aria-invalid", "true")
    page.locator("input[name=code]").fill(totp(secret))
    click_through(sign_in)
    page.wait_for_url(f"{base}/instruction/")
    expect(page.locator("h1")).to_have_text("Espace instruction")


@pytest.mark.e2e
def test_applicant_not_asked_for_a_second_factor(new_page, live_server, deffinum_open,
                                                 settings):
    settings.STAFF_MFA_REQUIRED = True
    base = live_server.url
    make_user("porteur@example.fr")
    page = new_page()
    page.goto(f"{base}/comptes/login/")
    page.get_by_label("Courriel").fill("porteur@example.fr")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    click_through(page.locator("main").get_by_role("button", name="Connexion"))
    page.wait_for_url(f"{base}/espace/")
