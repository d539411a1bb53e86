"""Template tags of every Guichet page (portal, back office, PDF documents): labels in the
page's language, amounts, DSFR tables."""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from guichet.calls import selectors as call_selectors
from guichet.calls.models import WebhookEvent
from guichet.core import labels
from guichet.core.clock import now
from guichet.notifications.selectors import unread_count
from guichet.review import permissions
from guichet.review.selectors import Waiting, total, waiting_total

register = template.Library()


@register.simple_tag
def rule_message(result) -> str:
    """The verdict sentence in the page's language (a `RuleResult`, or one stored as a dict in
    a submission's verdict)."""
    if isinstance(result, dict):
        return result.get("message_en") if labels.in_english() else result["message"]
    return result.message_en if labels.in_english() else result.message


@register.simple_tag
def unread_notifications(user) -> int:
    """How many notifications the person has not read (the header's badge)."""
    return unread_count(user) if user.is_authenticated else 0


@register.filter
def opens_backoffice(user) -> bool:
    """`{% if user|opens_backoffice %}`: the person serves a call (the back office's link)."""
    return permissions.opens_backoffice(user)


@register.simple_tag(takes_context=True)
def waiting_for(context, user) -> int:
    """How many things wait for a staff member, all roles together (the header's count; a
    fixed number of queries, see guichet.review.selectors.waiting_work). The back-office
    home has counted them already: its figures are reused."""
    figures = context.get("waiting")
    return total(figures) if isinstance(figures, Waiting) else waiting_total(user, now())


@register.filter
def money(amount) -> str:
    return labels.money(amount)


@register.filter
def percent(rate) -> str:
    return labels.percent(rate)


@register.filter
def missing_labels(codes: list[str], definition) -> str:
    """What is missing, in words: fields by name, attachments by their label in the call."""
    return labels.missing_items(codes, definition)


@register.filter(name="label")
def label_filter(code: str | None, kind: str) -> str:
    """`{{ dossier.scope|label:"scope" }}`: a code of a fixed vocabulary, in words."""
    return labels.label(kind, code)


@register.filter(name="in_sentence")
def in_sentence_filter(code: str | None, kind: str) -> str:
    """`{{ kind|in_sentence:"member_kind" }}`: the same words, not capitalised."""
    return labels.in_sentence(kind, code)


@register.simple_tag
def call_label(definition, kind: str, codes) -> str:
    """`{% call_label call.rules "sectors" expert.sectors %}`: what a call definition calls one
    code or a list of codes (sectors, criteria, documents, indicators, expense_categories,
    tranches), joined with commas."""
    if isinstance(codes, str) or codes is None:
        return labels.call_label(definition, kind, codes)
    return ", ".join(labels.call_label(definition, kind, code) for code in codes)


@register.filter
def localised_name(row) -> str:
    """A call's (or a wave's) name in the page's language."""
    return labels.localised_name(row)


@register.filter
def wave_label(wave) -> str:
    """The wave's name in the page's language, "(annulée)" when the call closed before it."""
    return call_selectors.wave_label(wave, get_language())


@register.filter
def webhook_event(code: str) -> str:
    """A webhook event (calls.models.WebhookEvent) in words; "—" for one no longer known."""
    try:
        return str(WebhookEvent(code).label)
    except ValueError:
        return "—"


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
