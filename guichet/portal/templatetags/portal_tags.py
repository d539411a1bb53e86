import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext

from guichet.rules.money import format_eur_en, format_eur_fr

register = template.Library()


@register.simple_tag
def rule_message(result) -> str:
    """The verdict sentence in the page's language."""
    return result.message_en if get_language() == "en" else result.message


@register.filter
def money(amount) -> str:
    if amount is None:
        return "—"
    return format_eur_en(amount) if get_language() == "en" else format_eur_fr(amount)


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
def live_form(trigger: str = "submit"):
    """htmx attributes: post the form, swap the step and the verdict panel, no page reload.
    Without JavaScript the form posts normally."""
    return format_html(
        'hx-post="" hx-trigger="{}" hx-target="#step-zone" hx-select="#step-zone" '
        'hx-swap="outerHTML" hx-select-oob="#verdict"', trigger)
