"""Generated documents: a Django template rendered to PDF by WeasyPrint, in French, with no
external resource (no protocol is allowed, so none can sneak in through the data)."""

import threading

import weasyprint
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint.text.fonts import FontConfiguration

_per_thread = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread, kept for the life of the process.

    Without one, WeasyPrint builds a new FontConfiguration for every document: Fontconfig
    loads its configuration and scans the fonts again, and a new Pango font map fills its own
    caches, which are not given back (benchmarks/pdf_memory.py: the process grew by about a
    quarter MiB per receipt with no plateau). Per thread, because Pango's font map must not be
    shared between threads (gunicorn's gthread workers). The documents use only installed
    fonts, so nothing is added to it from one document to the next."""
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        config = _per_thread.font_config = FontConfiguration()
    return config


def render_pdf(template: str, context: dict) -> bytes:
    """The template as a tagged PDF (PDF/UA structure: headings, paragraphs, tables), so that
    a screen reader reads it; its title and language come from the template's <title> and
    <html lang>."""
    with translation.override("fr"):
        html = render_to_string(template, context)
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        font_config=_font_config(), pdf_tags=True)
