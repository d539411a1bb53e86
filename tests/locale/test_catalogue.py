"""The English catalogue: complete, valid for msgfmt, and used only when the switch asks for it."""

import contextlib
import re
import shutil
import subprocess

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
