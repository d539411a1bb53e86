"""The English catalogue: complete, valid for msgfmt, and used only when the switch asks for it."""

import contextlib
import os
import re
import shutil
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.utils.translation.reloader import translation_file_changed

from guichet.calls.services import load_call
from tests.conftest import DEFFINUM_TOML, ROOT

PACKAGE_DIR = ROOT / "guichet"
EN_PO = PACKAGE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")
FRENCH_TITLE = "Appels à projets"
ENGLISH_TITLE = "Calls for projects"


def _msgfmt(*args: str) -> subprocess.CompletedProcess:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is needed to build the translations"
    return subprocess.run([msgfmt, *args, "-o", "/dev/null", str(EN_PO)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def compiled_catalogue():
    """Compile the .po files as the build does (`cd guichet && compilemessages`), then drop the
    translations Django may already have cached from before the .mo existed."""
    with contextlib.chdir(PACKAGE_DIR):
        call_command("compilemessages", ignore=[".venv"], verbosity=0)
    translation_file_changed(sender=None, file_path=EN_MO)
    return EN_MO


def test_en_po_statistics_no_untranslated_or_fuzzy():
    done = _msgfmt("--statistics")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"(\d+) translated messages?\.\n", done.stderr), done.stderr
    assert int(done.stderr.split()[0]) > 200


def test_en_po_flags_no_fuzzy_even_in_header():
    flags = re.findall(r"^#,(.*)$", EN_PO.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert [line for line in flags if "fuzzy" in line] == []


def test_en_po_header_declares_english_plurals():
    text = EN_PO.read_text(encoding="utf-8")
    assert '"Language: en\\n"' in text
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in text


def test_en_po_msgfmt_check_passes_cleanly():
    done = _msgfmt("--check")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_compiled_catalogue_written_next_to_po(compiled_catalogue):
    assert compiled_catalogue.is_file()
    assert compiled_catalogue.stat().st_mtime >= EN_PO.stat().st_mtime


@pytest.mark.django_db
def test_home_english_after_switch_shows_translated_title(client, compiled_catalogue):
    load_call(DEFFINUM_TOML)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in html
    assert f"<h1>{ENGLISH_TITLE}</h1>" in html
    assert "Submission waves (Paris time)" in html
    assert FRENCH_TITLE not in html


@pytest.mark.django_db
def test_home_french_by_default_shows_french_title(client, compiled_catalogue):
    load_call(DEFFINUM_TOML)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert f"<h1>{FRENCH_TITLE}</h1>" in html
    assert ENGLISH_TITLE not in html


@pytest.mark.django_db
def test_home_accept_language_en_without_switch_stays_french(client, compiled_catalogue):
    load_call(DEFFINUM_TOML)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert f"<h1>{FRENCH_TITLE}</h1>" in html
    assert ENGLISH_TITLE not in html


MAKEMESSAGES = """
import sys
sys.path = [path for path in sys.path if path not in ('', {package!r})]
sys.path.insert(0, {root!r})
from django.core.management import execute_from_command_line
execute_from_command_line(['django-admin', 'makemessages', '-l', 'en', '--no-location', '-v0'])
"""


@pytest.mark.integration
def test_en_po_translates_every_msgid_the_code_holds(tmp_path):
    """makemessages over a copy of the code finds no msgid left untranslated or matched only
    fuzzily (a new French string without its English, or a msgid written by hand that is not
    the one the code asks for, e.g. a % not doubled in a blocktranslate)."""
    copy = tmp_path / "guichet"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    script = MAKEMESSAGES.format(package=str(copy), root=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "guichet.settings"})
    assert done.returncode == 0, done.stderr
    merged = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    left = {}
    for flag in ("--untranslated", "--only-fuzzy"):
        listed = subprocess.run(["msgattrib", flag, "--no-wrap", str(merged)],
                                capture_output=True, text=True, timeout=60, check=True).stdout
        left[flag] = [line for line in listed.splitlines()
                      if line.startswith("msgid ") and line != 'msgid ""']
    assert left == {"--untranslated": [], "--only-fuzzy": []}
