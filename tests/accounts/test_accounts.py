"""Applicant accounts (django-allauth): flows, French DSFR pages, accessibility of the forms."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from tests.factories import make_user
from tests.html import XHTML, one, tag, text

ROOT = Path(__file__).resolve().parents[2]
STRONG_PASSWORD = "Lanterne-Boréale-Quartz-47"
NEW_PASSWORD = "Cerf-Volant-Marée-Haute-93"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the cache, which would otherwise leak from test to test."""
    cache.clear()
    yield
    cache.clear()


def _verified_user(email="candidate@example.fr", password=STRONG_PASSWORD):
    return make_user(email, password=password)


def _link(mail, pattern: str) -> str:
    """The path of the mail's link, which points to SITE_URL (not the request's host)."""
    match = re.search(rf"{re.escape(settings.SITE_URL)}(/comptes/{pattern})", mail.body)
    assert match, mail.body
    return match.group(1)


def _signup(client, email="candidate@example.fr", password=STRONG_PASSWORD):
    return client.post("/comptes/signup/",
                       {"email": email, "password1": password, "password2": password})


class _Page(HTMLParser):
    """What the accessibility checks need: controls, labels, ids, groups holding each id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: dict[str, list[str]] = {}  # id -> classes of the enclosing elements
        self.inside: dict[str, list[str]] = {}  # id -> ids of the enclosing elements
        self._stack: list[tuple[str, str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag in ("input", "select", "textarea"):
            self.controls.append(attributes | {"tag": tag})
        if tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])
        if attributes.get("id"):
            self.ids[attributes["id"]] = [classes for _tag, classes, _id in self._stack]
            self.inside[attributes["id"]] = [id_ for _tag, _classes, id_ in self._stack if id_]
        if tag not in self.VOID:
            self._stack.append((tag, attributes.get("class", ""), attributes.get("id", "")))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def visible_controls(self) -> list[dict]:
        return [c for c in self.controls if c.get("type") != "hidden"]


def _assert_dsfr_page(response):
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<html lang="fr"', html)
    assert 'class="fr-header"' in html
    assert 'class="fr-skiplinks"' in html
    assert 'href="#content"' in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    page = _Page(html)
    for control in page.visible_controls():
        assert control.get("id") in page.label_for, f"no <label for> for {control}"
        for target in control.get("aria-describedby", "").split():
            assert target in page.ids, f"aria-describedby={target} points nowhere"
    return html


def test_signup_with_strong_password_sends_one_confirmation_and_stays_logged_out(
        client, mailoutbox):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/comptes/confirm-email/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["candidate@example.fr"]
    assert mailoutbox[0].subject.startswith("[Guichet] ")
    assert "/comptes/confirm-email/" in mailoutbox[0].body
    assert "_auth_user_id" not in client.session
    address = EmailAddress.objects.get(email="candidate@example.fr")
    assert address.verified is False
    assert client.get("/comptes/password/change/")["Location"].startswith("/comptes/login/")


def test_signup_confirmation_link_posted_confirms_and_logs_in(client, mailoutbox):
    _signup(client)
    confirm_url = _link(mailoutbox[0], r"confirm-email/[-:\w]+/")
    page = client.get(confirm_url)
    assert "Confirmer" in page.content.decode()
    assert "_auth_user_id" not in client.session  # GET confirms nothing
    response = client.post(confirm_url)
    user = get_user_model().objects.get(email="candidate@example.fr")
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified is True


def test_signup_with_common_password_puts_error_in_password_group(client, mailoutbox):
    response = _signup(client, password="qwerty123456")
    html = response.content.decode()
    assert response.status_code == 200
    assert not get_user_model().objects.exists()
    assert mailoutbox == []
    page = _Page(html)
    error = one(html, "#id_password1-error-1")
    assert (tag(error), error.get("class"), text(error)) == (
        "p", "fr-message fr-message--error", "Ce mot de passe est trop courant.")
    assert "fr-input-group fr-input-group--error" in page.ids["id_password1-error-1"]
    assert "id_password1-group" in page.inside["id_password1-error-1"]
    assert page.inside["id_password1-error-1"][-1] == "id_password1-messages"
    password1 = next(c for c in page.controls if c.get("name") == "password1")
    assert password1["aria-describedby"] == "id_password1-messages"
    assert password1["aria-invalid"] == "true"
    summary = one(html, 'div.fr-alert.fr-alert--error[role="alert"]')
    assert [link.get("href") for link in summary.iter(f"{XHTML}a")] == ["#id_password1"]


def test_signup_password_fields_show_rules_and_email_autocompletes(client):
    html = client.get("/comptes/signup/").content.decode()
    page = _Page(html)
    email = next(c for c in page.controls if c.get("name") == "email")
    assert email["autocomplete"] == "email"
    assert email["type"] == "email"
    assert "fr-input" in email["class"]
    assert "au minimum 12 caractères" in html
    assert 'id="id_password1-hint"' in html
    for name in ("password1", "password2"):
        control = next(c for c in page.controls if c.get("name") == name)
        assert control["autocomplete"] == "new-password"
        assert "value" not in control


def test_signup_with_script_in_email_shows_it_inert(client):
    response = _signup(client, email="<script>alert(1)</script>@x.fr")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;@x.fr"' in html
    assert 'id="id_email-error-1"' in html
    assert not get_user_model().objects.exists()


def test_login_checkbox_is_a_dsfr_checkbox(client):
    html = client.get("/comptes/login/").content.decode()
    box = one(html, "div.fr-checkbox-group > input#id_remember")
    assert (box.get("type"), box.get("name")) == ("checkbox", "remember")
    label = one(html, 'label.fr-label[for="id_remember"]')
    assert text(label) == "Se souvenir de moi"


def test_login_with_verified_account_logs_in(client):
    user = _verified_user()
    response = client.post("/comptes/login/",
                           {"login": "candidate@example.fr", "password": STRONG_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_wrong_password_shows_summary_alert(client):
    _verified_user()
    response = client.post("/comptes/login/",
                           {"login": "candidate@example.fr", "password": "pas-le-bon-mot"})
    html = response.content.decode()
    assert response.status_code == 200
    alert = one(html, 'div.fr-alert.fr-alert--error[role="alert"]')
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in text(alert)
    assert "_auth_user_id" not in client.session


def test_login_after_five_failures_is_refused_even_with_right_password(client):
    _verified_user()
    for _ in range(5):
        failed = client.post("/comptes/login/",
                             {"login": "candidate@example.fr", "password": "pas-le-bon-mot"})
        assert "Trop de tentatives" not in failed.content.decode()
    response = client.post("/comptes/login/",
                           {"login": "candidate@example.fr", "password": STRONG_PASSWORD})
    html = response.content.decode()
    # allauth 65 refuses through a form error (HTTP 200), not a 429 page.
    assert response.status_code == 200
    assert ("Trop de tentatives de connexion échouées. "
            "Veuillez réessayer ultérieurement.") in html
    assert re.search(r'role="alert".*Trop de tentatives', html, re.S)
    assert "_auth_user_id" not in client.session


def test_signup_posts_beyond_twenty_an_hour_get_429(client):
    for _ in range(20):
        assert _signup(client, email="pas-une-adresse").status_code == 200
    response = _signup(client, email="pas-une-adresse")
    assert response.status_code == 429


def test_password_reset_link_sets_password_usable_for_login(client, mailoutbox):
    user = _verified_user()
    response = client.post("/comptes/password/reset/", {"email": "candidate@example.fr"})
    assert response["Location"] == "/comptes/password/reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["candidate@example.fr"]
    key_url = _link(mailoutbox[0], r"password/reset/key/[0-9A-Za-z]+-[^/\s]+/")
    form_url = client.get(key_url)["Location"]  # allauth moves the key into the session
    assert "set-password" in form_url
    form_page = client.get(form_url)
    assert 'name="password1"' in form_page.content.decode()
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done["Location"] == "/comptes/password/reset/key/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    login = client.post("/comptes/login/",
                        {"login": "candidate@example.fr", "password": NEW_PASSWORD})
    assert login["Location"] == "/espace/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_by_post_ends_session_and_get_does_not(client):
    client.force_login(_verified_user())
    assert client.get("/comptes/logout/").status_code == 200
    assert "_auth_user_id" in client.session
    response = client.post("/comptes/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def _confirm_email_url(client, mailoutbox) -> str:
    _signup(client, email="page@example.fr")
    return _link(mailoutbox[-1], r"confirm-email/[-:\w]+/")


def _reset_key_url(client, mailoutbox) -> str:
    _verified_user(email="reset@example.fr")
    client.post("/comptes/password/reset/", {"email": "reset@example.fr"})
    return client.get(_link(mailoutbox[-1], r"password/reset/key/[0-9A-Za-z]+-[^/\s]+/"))[
        "Location"]


ANONYMOUS_PAGES = {
    "signup": lambda client, mailoutbox: "/comptes/signup/",
    "login": lambda client, mailoutbox: "/comptes/login/",
    "verification_sent": lambda client, mailoutbox: "/comptes/confirm-email/",
    "email_confirm": _confirm_email_url,
    "email_confirm_invalid": lambda client, mailoutbox: "/comptes/confirm-email/nope/",
    "password_reset": lambda client, mailoutbox: "/comptes/password/reset/",
    "password_reset_done": lambda client, mailoutbox: "/comptes/password/reset/done/",
    "password_reset_from_key": _reset_key_url,
    "password_reset_bad_key": lambda client, mailoutbox: "/comptes/password/reset/key/1-nope/",
    "password_reset_from_key_done":
        lambda client, mailoutbox: "/comptes/password/reset/key/done/",
}


@pytest.mark.parametrize("page", ANONYMOUS_PAGES)
def test_account_page_renders_in_dsfr_layout_anonymous(client, mailoutbox, page):
    url = ANONYMOUS_PAGES[page](client, mailoutbox)
    _assert_dsfr_page(client.get(url))


@pytest.mark.parametrize("url", ["/comptes/logout/", "/comptes/password/change/",
                                 "/comptes/email/"])
def test_account_page_renders_in_dsfr_layout_signed_in(client, url):
    client.force_login(_verified_user())
    html = _assert_dsfr_page(client.get(url))
    assert 'class="fr-btn' in html


@pytest.mark.parametrize(("url", "data"), [
    ("/comptes/signup/", {"email": "pas-une-adresse", "password1": "court", "password2": "x"}),
    ("/comptes/login/", {"login": "", "password": ""}),
    ("/comptes/password/reset/", {"email": "pas-une-adresse"}),
])
def test_account_form_errors_are_tied_to_fields(client, url, data):
    html = _assert_dsfr_page(client.post(url, data))
    page = _Page(html)
    errors = [i for i in page.ids if re.fullmatch(r"id_\w+-error-\d+", i)]
    assert errors
    for error_id in errors:
        field_id = error_id.split("-error-")[0]
        control = next(c for c in page.controls if c.get("id") == field_id)
        assert f"{field_id}-messages" in control["aria-describedby"].split()
        assert control["aria-invalid"] == "true"
        assert any("--error" in classes for classes in page.ids[error_id])
    assert 'role="alert"' in html


def test_password_change_updates_password_and_confirms(client):
    user = _verified_user()
    client.force_login(user)
    response = client.post("/comptes/password/change/", {
        "oldpassword": STRONG_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True)
    html = _assert_dsfr_page(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert re.search(r'<div class="fr-alert fr-alert--success[^"]*"[^>]*>\s*<p>'
                     r"Mot de passe modifié", html)


def _real_settings_value(name: str, **environment: str):
    """A value of guichet.settings as a fresh process reads it (not the test settings, which
    hash with MD5 for speed): the environment is ours less GUICHET_ENV and the Django settings
    module, plus `environment`."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("GUICHET_ENV", "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
                          "ALLOWED_HOSTS")}
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c",
         f"import json, guichet.settings as s; print(json.dumps(s.{name}))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_signup_with_production_hashers_stores_argon2_hash(client, settings):
    production = _real_settings_value("PASSWORD_HASHERS", GUICHET_ENV="production",
                                      SECRET_KEY="production-hasher-test-" + "0123456789abcdef" * 3,
                                      ALLOWED_HOSTS="guichet.example.fr")
    assert _real_settings_value("PASSWORD_HASHERS") == production  # GUICHET_ENV unset
    settings.PASSWORD_HASHERS = production
    _signup(client)
    user = get_user_model().objects.get()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(STRONG_PASSWORD)


def test_development_settings_hash_passwords_with_argon2():
    hashers = _real_settings_value("PASSWORD_HASHERS", GUICHET_ENV="development")
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
