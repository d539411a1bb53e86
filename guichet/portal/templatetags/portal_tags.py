import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext

from guichet.calls import selectors as call_selectors
from guichet.core import labels

register = template.Library()


@register.simple_tag
def rule_message(result) -> str:
    """The verdict sentence in the page's language (a `RuleResult`, or one stored as a dict in
    a submission's verdict)."""
    if isinstance(result, dict):
        return result.get("message_en") if labels.in_english() else result["message"]
    return result.message_en if labels.in_english() else result.message


@register.filter
def money(amount) -> str:
    return labels.money(amount)


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
def live_form():
    """htmx attributes: post the form, swap the step and the verdict panel, no page reload.
    Without JavaScript the form posts normally."""
    return mark_safe(  # a constant string: nothing to escape
        'hx-post="" hx-target="#step-zone" hx-select="#step-zone" hx-swap="outerHTML" '
        'hx-select-oob="#verdict"')


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


@register.filter
def missing_labels(codes: list[str], definition) -> str:
    """What is missing, in words: fields by name, attachments by their label in the call."""
    return labels.missing_items(codes, definition)


@register.filter(name="label")
def label_filter(code: str | None, kind: str) -> str:
    """`{{ dossier.scope|label:"scope" }}`: a code of a fixed vocabulary, in words."""
    return labels.label(kind, code)


@register.simple_tag
def call_label(definition, kind: str, codes) -> str:
    """`{% call_label call.rules "sectors" expert.sectors %}`: what a call definition calls one
    code or a list of codes (sectors, criteria, documents, indicators, expense_categories,
    tranches), joined with commas."""
    if isinstance(codes, str) or codes is None:
        return labels.call_label(definition, kind, codes)
    return ", ".join(labels.call_label(definition, kind, code) for code in codes)


@register.filter
def wave_label(wave) -> str:
    """The wave's name in the page's language, "(annulée)" when the call closed before it."""
    return call_selectors.wave_label(wave, get_language())


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key)


class ScrollingTableNode(template.Node):
    def __init__(self, nodelist, extra_class):
        self.nodelist, self.extra_class = nodelist, extra_class

    def render(self, context) -> str:
        classes = " ".join(["fr-table", *([self.extra_class] if self.extra_class else [])])
        return format_html(TABLE_WRAPPER, classes, self.nodelist.render(context))


# DSFR 1.14 table markup: the container scrolls sideways when the table is wider than the
# screen, instead of the page overflowing; it takes the keyboard focus, so that it can be
# scrolled without a mouse (RGAA / axe scrollable-region-focusable).
TABLE_WRAPPER = ('<div class="{}"><div class="fr-table__wrapper"><div class="fr-table__'
                 'container" tabindex="0"><div class="fr-table__content">{}</div></div></div>'
                 '</div>')


@register.tag("scrolling_table")
def scrolling_table(parser, token):
    """`{% scrolling_table %}<table>…</table>{% endscrolling_table %}`: a DSFR table that
    scrolls inside its container on narrow screens; `{% scrolling_table "fr-table--…" %}` adds
    a DSFR modifier class (a literal)."""
    _tag, *classes = token.split_contents()
    quoted = all(len(c) > 1 and c[0] == c[-1] and c[0] in "\"'" for c in classes)
    if len(classes) > 1 or not quoted:
        raise template.TemplateSyntaxError("scrolling_table takes at most one quoted class")
    nodelist = parser.parse(("endscrolling_table",))
    parser.delete_first_token()
    return ScrollingTableNode(nodelist, classes[0][1:-1] if classes else "")
