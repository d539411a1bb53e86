"""Templates hold no inline style or script: the Content-Security-Policy refuses both, so
everything comes from guichet/core/static/guichet/guichet.css and the static scripts."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "guichet"
TEMPLATES = sorted(path for path in PACKAGE.glob("**/templates/**/*.html"))
# Rendered to PDF by WeasyPrint (guichet.core.pdf.render_pdf), never served to a browser: no
# CSP applies, and WeasyPrint reads no stylesheet from the static files, so their style is
# inline.
PDF_TEMPLATES = {"dossiers/receipt_pdf.html", "dossiers/summary_pdf.html", "grants/agreement.html",
                 "grants/decision_letter.html", "grants/recovery_order.html",
                 "web/commitment_letter.html"}

STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
# onclick=…, and htmx's hx-on:click=… (htmx evaluates it as script).
EVENT_HANDLER = re.compile(r"<[^>]*\s(?:on[a-z]+|(?:data-)?hx-on[:-][^\s=]*)\s*=",
                           re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# A data block (`type="application/json"`, read by allauth's own script) is never executed.
DATA_BLOCK = re.compile(r"""\stype\s*=\s*["']application/json["']""", re.IGNORECASE)

pytestmark = pytest.mark.unit


def template_name(path: Path) -> str:
    return path.as_posix().split("/templates/", 1)[1]


def inline_code(text: str) -> list[str]:
    """What the CSP would refuse in a template: style attributes and elements, event handler
    attributes, and script elements with a body (a data block aside)."""
    found = [match.group(0) for pattern in (STYLE_ATTRIBUTE, STYLE_ELEMENT, EVENT_HANDLER)
             for match in pattern.finditer(text)]
    found += [match.group(0)[:80] for match in SCRIPT.finditer(text)
              if match.group(2).strip() and not DATA_BLOCK.search(match.group(1))]
    return found


def test_templates_found():
    names = {template_name(path) for path in TEMPLATES}
    assert "guichet/base.html" in names
    assert names >= PDF_TEMPLATES  # an exemption never outlives its template


@pytest.mark.parametrize("path", [path for path in TEMPLATES
                                  if template_name(path) not in PDF_TEMPLATES],
                         ids=template_name)
def test_template_without_inline_style_or_script(path):
    assert inline_code(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("text", [
    '<p style="color: red">', "<style>p { color: red }</style>", '<a onclick="go()">',
    '<form hx-on::after-request="go()">',
    "<script>alert(1)</script>", '<script type="module">\n import "x";\n</script>',
])
def test_inline_code_with_inline_style_or_script_found(text):
    assert inline_code(text)


@pytest.mark.parametrize("text", [
    '<script src="/static/portal/htmx.min.js"></script>', '<p class="styled">',
    '<script type="application/json">{"a": 1}</script>', '<meta name="htmx-config">',
])
def test_inline_code_without_inline_style_or_script_empty(text):
    assert inline_code(text) == []
