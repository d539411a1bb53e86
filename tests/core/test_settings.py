import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# Each test starts a Python process on the production settings: not the quick loop.
pytestmark = pytest.mark.integration

PRODUCTION_IMPORT = "import django; from django.conf import settings; settings.DEBUG"
GOOD_KEY = secrets.token_urlsafe(50)
PRODUCTION = {"GUICHET_ENV": "production", "SECRET_KEY": GOOD_KEY,
              "ALLOWED_HOSTS": "guichet.example"}


ROOT = Path(__file__).resolve().parents[2]


def _start(env: dict, code: str = PRODUCTION_IMPORT) -> subprocess.CompletedProcess:
    # This checkout's code first, whichever checkout the environment was installed from.
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "guichet.settings",
            "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env},
                          capture_output=True, timeout=60, check=False)


def test_settings_production_without_secret_refused():
    done = _start({"GUICHET_ENV": "production", "ALLOWED_HOSTS": "guichet.example"})
    assert done.returncode != 0
    assert "refuses to start without SECRET_KEY" in done.stderr.decode()


def test_settings_production_without_hosts_refused():
    done = _start({"GUICHET_ENV": "production", "SECRET_KEY": GOOD_KEY})
    assert "refuses to start without ALLOWED_HOSTS" in done.stderr.decode()


def test_settings_production_with_both_starts_secure():
    code = ("from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)")
    done = _start(PRODUCTION, code)
    assert done.stdout.decode().split() == ["False", "True", "True"]


def test_settings_unknown_environment_refused():
    done = _start({"GUICHET_ENV": "staging"})
    assert "GUICHET_ENV='staging'" in done.stderr.decode()


def test_settings_production_short_secret_key_refused():
    done = _start({**PRODUCTION, "SECRET_KEY": "short-but-not-simple-0123456789"})
    assert done.returncode != 0
    assert ("refuses a SECRET_KEY of 31 characters with 24 distinct ones: it needs at least 50 "
            "characters and 5 distinct ones") in done.stderr.decode()


def test_settings_production_repetitive_secret_key_refused():
    done = _start({**PRODUCTION, "SECRET_KEY": "abab" * 20})
    assert done.returncode != 0
    assert "refuses a SECRET_KEY of 80 characters with 2 distinct ones" in done.stderr.decode()


def test_settings_production_sends_hsts_for_subdomains_without_preload():
    code = ("from django.conf import settings; print(settings.SECURE_HSTS_SECONDS, "
            "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD)")
    assert _start(PRODUCTION, code).stdout.decode().split() == ["31536000", "True", "False"]


def test_settings_production_passes_django_deploy_checklist():
    """What .ci/run checks too: `check --deploy` on the production settings, no warning."""
    django_admin = Path(sys.executable).with_name("django-admin")
    done = subprocess.run(
        [str(django_admin), "check", "--deploy", "--settings=guichet.settings",
         "--fail-level", "WARNING"],
        env={"PATH": "/usr/bin:/bin", **PRODUCTION}, capture_output=True, timeout=120,
        check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert "System check identified no issues" in done.stdout.decode()


def test_settings_smtp_read_from_environment():
    code = ("from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, "
            "s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, "
            "s.EMAIL_USE_SSL, s.EMAIL_TIMEOUT, s.DEFAULT_FROM_EMAIL)")
    done = _start({**PRODUCTION, "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587",
                   "EMAIL_HOST_USER": "guichet", "EMAIL_HOST_PASSWORD": "s3cret",
                   "EMAIL_USE_TLS": "1", "EMAIL_TIMEOUT": "12",
                   "DEFAULT_FROM_EMAIL": "guichet@example.org"}, code)
    assert done.stdout.decode().split() == [
        "django.core.mail.backends.smtp.EmailBackend", "smtp.example.org", "587", "guichet",
        "s3cret", "True", "False", "12", "guichet@example.org"]


def test_settings_smtp_tls_and_ssl_together_refused():
    done = _start({**PRODUCTION, "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"})
    assert done.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other" in done.stderr.decode()


@pytest.mark.parametrize(("env", "expected"), [
    (PRODUCTION, ["True", "False"]), ({"GUICHET_ENV": "development"}, ["False", "True"])])
def test_settings_staff_second_factor_and_internal_webhooks_by_environment(env, expected):
    code = ("from django.conf import settings; "
            "print(settings.STAFF_MFA_REQUIRED, settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)")
    assert _start(env, code).stdout.decode().split() == expected
