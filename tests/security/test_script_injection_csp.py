"""Injected script or style (a stored XSS that slipped past escaping) is refused by the
browser: every response carries a Content-Security-Policy that allows no inline script or
style, and no template served to a browser relies on one."""

import re
from pathlib import Path

import pytest

import guichet

pytestmark = pytest.mark.django_db

PACKAGE = Path(guichet.__file__).resolve().parent
EXPECTED_DIRECTIVES = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
    "img-src": "'self' data:", "object-src": "'none'", "base-uri": "'self'",
    "form-action": "'self'", "frame-ancestors": "'none'"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style\b|\bstyle=")


def _policy(response) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in
                  response["Content-Security-Policy"].split(";") if part.strip())
    return {name: value for name, value in directives}


@pytest.mark.parametrize("url", ["/", "/comptes/login/", "/comptes/signup/", "/nulle-part/"])
def test_script_injection_refused_by_content_security_policy(client, deffinum, url):
    policy = _policy(client.get(url))
    for name, value in EXPECTED_DIRECTIVES.items():
        assert policy.get(name) == value, name
    assert "unsafe-inline" not in str(policy)
    assert "unsafe-eval" not in str(policy)


def _browser_templates() -> list[Path]:
    """Every HTML template a browser may receive: PDF templates (WeasyPrint, which ignores
    the CSP; recognised by their @page rule) are left out."""
    return [path for path in sorted(PACKAGE.rglob("templates/**/*.html"))
            if "@page" not in path.read_text(encoding="utf-8")]


def test_script_injection_no_template_needs_inline_script_or_style():
    offenders = []
    for path in _browser_templates():
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(PACKAGE)}: {match.group(0)}"
                      for pattern in (INLINE_SCRIPT, INLINE_STYLE)
                      for match in pattern.finditer(text)]
    assert offenders == []
    assert len(_browser_templates()) > 40
