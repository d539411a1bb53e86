"""Template tags of the applicant's pages only (htmx forms, durations); the shared ones are
in `guichet_tags`."""

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def duration_fr(delta: dt.timedelta | None) -> str:
    if delta is None:
        return ""
    days, hours = delta.days, delta.seconds // 3600
    minutes = (delta.seconds % 3600) // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d jour", "%(n)d jours", days) % {"n": days})
    if hours or days:
        parts.append(ngettext("%(n)d heure", "%(n)d heures", hours) % {"n": hours})
    if not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


@register.simple_tag
def live_form(url: str = ""):
    """htmx attributes: post the form (to `url`, the page's own address when empty), swap the
    step and the verdict panel, no page reload; an action elsewhere redirects to the step, which
    htmx follows. Without JavaScript the form posts normally (give it `action` too)."""
    return format_html(
        'hx-post="{}" hx-target="#step-zone" hx-select="#step-zone" hx-swap="outerHTML" '
        'hx-select-oob="#verdict"', url)


@register.simple_tag
def autosave_form():
    """htmx attributes for a form saved as one types: on each change the form is posted in the
    background and only the verdict, the version and the save status are swapped in, so that
    nothing typed meanwhile is lost. The valid fields are saved even when another is not;
    guichet/autosave.js shows each error next to its field (from the save status) and warns
    before leaving the page with changes not saved yet. The "Enregistrer" button posts the
    whole form normally (with its field errors)."""
    return mark_safe(  # a constant string: nothing to escape
        'data-autosave hx-post="" hx-trigger="change delay:400ms" hx-swap="none" '
        'hx-select-oob="#verdict,#id_version,#autosave-status,#dossier-title"')
