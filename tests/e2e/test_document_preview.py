"""The preview of a document in Chromium: the whole-dossier view shows the PDF itself in its
frame, and a file that is an HTML page with a script under a PDF's name runs nothing.

Found by this test: with the frame's `sandbox` attribute, Chromium showed no PDF at all (a
blocked-frame icon); the sandbox is now the preview response's own Content-Security-Policy.
Desktop only: Chromium's phone emulation still has the desktop PDF viewer, so it would prove
nothing about phones, whose browsers open PDFs outside the page (the download link is there).
"""

import io
import time

import pytest
import weasyprint
from PIL import Image

from guichet.dossiers.services import submit
from guichet.review.models import Role
from tests.e2e.conftest import log_in
from tests.factories import make_dossier, staff

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"  # make_user's default
MARKER = "script-ran-in-the-preview"
DISGUISED = (f"<html><body><h1>{MARKER}</h1><script>alert('{MARKER}');"
             f"top.document.title = '{MARKER}';</script></body></html>").encode()
RED_PAGE = ('<div style="background: #ff0000; width: 15cm; height: 20cm"></div>')


def _overwrite(document, content: bytes) -> None:
    with document.file.storage.open(document.file.name, "wb") as stored:
        stored.write(content)


def _red_share(element) -> float:
    """The share of the element's pixels that are pure red (the PDF's page drawn)."""
    rgb = Image.open(io.BytesIO(element.screenshot())).convert("RGB").tobytes()
    red = sum(1 for i in range(0, len(rgb), 3)
              if rgb[i] > 200 and rgb[i + 1] < 60 and rgb[i + 2] < 60)
    return red / (len(rgb) // 3)


def test_document_preview_shows_the_pdf_and_a_disguised_page_runs_nothing(
        new_page, live_server, deffinum_open, example_document):
    dossier = make_dossier(example_document)
    submit(dossier)
    instructor = staff(deffinum_open, "instructrice.apercu@example.fr", Role.INSTRUCTOR)
    shown, disguised = dossier.documents.order_by("pk")[:2]
    _overwrite(shown, weasyprint.HTML(string=RED_PAGE).write_pdf())
    _overwrite(disguised, DISGUISED)
    page = new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server.url, instructor.email, PASSWORD)
    page.goto(f"{live_server.url}/instruction/dossiers/{dossier.pk}/complet/")
    title = page.title()

    frame = page.locator(f'iframe[src$="/pieces/{shown.pk}/apercu/"]')
    frame.scroll_into_view_if_needed()
    deadline, share = time.monotonic() + 15, 0.0
    while time.monotonic() < deadline and share < 0.2:
        page.wait_for_timeout(250)
        share = _red_share(frame)
    assert share >= 0.2, f"the PDF is not drawn in its frame ({share:.0%} red)"

    page.locator(f'iframe[src$="/pieces/{disguised.pk}/apercu/"]').scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    assert dialogs == []
    assert page.title() == title
    frames = [frame for frame in page.frames if frame.url.endswith(
        f"/pieces/{disguised.pk}/apercu/")]
    assert frames
    for loaded in frames:
        assert MARKER not in loaded.evaluate("document.documentElement.outerHTML")
