import subprocess
import sys

PRODUCTION_IMPORT = "import django; from django.conf import settings; settings.DEBUG"


def _start(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "guichet.settings"}
    return subprocess.run([sys.executable, "-c", PRODUCTION_IMPORT], env={**base, **env},
                          capture_output=True, timeout=60, check=False)


def test_settings_production_without_secret_refused():
    done = _start({"GUICHET_ENV": "production", "ALLOWED_HOSTS": "guichet.example"})
    assert done.returncode != 0
    assert "refuses to start without SECRET_KEY" in done.stderr.decode()


def test_settings_production_without_hosts_refused():
    done = _start({"GUICHET_ENV": "production", "SECRET_KEY": "x" * 50})
    assert "refuses to start without ALLOWED_HOSTS" in done.stderr.decode()


def test_settings_production_with_both_starts_secure():
    code = ("from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "guichet.settings",
             "GUICHET_ENV": "production", "SECRET_KEY": "x" * 50,
             "ALLOWED_HOSTS": "guichet.example"})
    assert done.stdout.decode().split() == ["False", "True", "True"]


def test_settings_unknown_environment_refused():
    done = _start({"GUICHET_ENV": "staging"})
    assert "GUICHET_ENV='staging'" in done.stderr.decode()
