"""Generated documents: a Django template rendered to PDF by WeasyPrint, in French, with no
external resource (no protocol is allowed, so none can sneak in through the data)."""

import weasyprint
from django.template.loader import render_to_string
from django.utils import translation


def render_pdf(template: str, context: dict) -> bytes:
    with translation.override("fr"):
        html = render_to_string(template, context)
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
