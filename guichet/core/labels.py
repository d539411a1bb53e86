"""Labels: what people read instead of codes, in the page's language (French first).

The one place to look for the label of anything coded that is shown to a person:
- the dossier format's codes (scopes, member kinds, milestone kinds, financing sources, the
  sections a dossier may lack): named in `guichet.rules.vocabulary`, French and English side by
  side, because the rules core speaks them in its verdicts without Django;
- what a call definition names (sectors, criteria, documents, indicators, expense categories,
  tranches, waves): its own `label` and `label_en`;
- regions: their INSEE code's name (`guichet.rules.regions`);
- the selection's objectives and groups: here, through gettext;
- statuses and other model enums: their `TextChoices` (`get_FOO_display`).
Models' choices, forms, templates (the `label` filter and `call_label` tag of `guichet_tags`)
and exports all go through this module.
"""

from decimal import Decimal

from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guichet.rules import vocabulary
from guichet.rules.money import format_eur_en, format_eur_fr, format_percent
from guichet.rules.regions import REGIONS
from guichet.rules.sections import all_questions, file_questions
from guichet.rules.vocabulary import Name

OBJECTIVES = {
    "score_weighted_aid": _("note × aide (ligne de financement classique)"),
    "score_sum": _("somme des notes (favorise les projets moins coûteux)"),
}
SELECTION_GROUPS = {"region": _("région"), "sector": _("filière")}

_NAMED = {"scope": vocabulary.SCOPES, "member_kind": vocabulary.MEMBER_KINDS,
          "milestone_kind": vocabulary.MILESTONE_KINDS,
          "financing_source": vocabulary.FINANCING_SOURCES,
          "dossier_field": vocabulary.DOSSIER_FIELDS}
_TRANSLATED = {"objective": OBJECTIVES, "selection_group": SELECTION_GROUPS, "region": REGIONS}


def in_english() -> bool:
    return (get_language() or "fr").startswith("en")


def spoken(name: Name) -> str:
    """A (French, English) name in the active language."""
    return name[1] if in_english() else name[0]


_spoken_lazily = lazy(spoken, str)


def choices(names: dict[str, Name]) -> list[tuple[str, str]]:
    """Choices for a model field or a form: the codes with their names, capitalised, resolved
    in the language of whoever reads them."""
    return [(code, capfirst(_spoken_lazily(name))) for code, name in names.items()]


SCOPE_CHOICES = choices(vocabulary.SCOPES)
MEMBER_KIND_CHOICES = choices(vocabulary.MEMBER_KINDS)
MILESTONE_KIND_CHOICES = choices(vocabulary.MILESTONE_KINDS)
FINANCING_SOURCE_CHOICES = choices(vocabulary.FINANCING_SOURCES)
REGION_CHOICES = sorted(REGIONS.items(), key=lambda item: item[1])


def label(kind: str, code: str | None) -> str:
    """The label of `code` in the vocabulary `kind` (scope, member_kind, milestone_kind,
    financing_source, dossier_field, objective, selection_group, region), as it stands alone
    (in a cell, a list): capitalised; "" for no code."""
    return capfirst(in_sentence(kind, code))


def in_sentence(kind: str, code: str | None) -> str:
    """The label of `code` as it reads inside a sentence: "réseau de CFA", "OPCO" (a list
    lowered with `|lower` would write the acronym as its code)."""
    if not code:
        return ""
    if kind in _NAMED:
        return vocabulary.names(code, _NAMED[kind], 1 if in_english() else 0)
    return str(_TRANSLATED[kind].get(code, code))


def _definition_items(definition, kind: str):
    return {"sectors": definition.sectors, "criteria": definition.selection.criteria,
            "documents": definition.documents, "indicators": definition.indicators,
            "expense_categories": definition.expense_categories,
            "tranches": definition.tranches, "waves": definition.waves,
            "attachments": [*definition.documents, *file_questions(definition.sections)],
            }[kind]


def of(item) -> str:
    """The label of an item of a call definition (sector, criterion, document…)."""
    return item.label_en if in_english() else item.label


def of_message(item) -> str:
    """The message of an item of a call definition (a section's total) in the active language."""
    return item.message_en if in_english() else item.message


def call_choices(definition, kind: str) -> list[tuple[str, str]]:
    """(id, label) of every item of a call definition's vocabulary `kind` (sectors, criteria,
    documents, indicators, expense_categories, tranches; attachments: the documents and the
    file questions)."""
    return [(item.id, of(item)) for item in _definition_items(definition, kind)]


def call_label(definition, kind: str, code: str | None) -> str:
    """The label a call definition gives to `code` in `kind` (an unknown id stays as it is)."""
    if not code:
        return ""
    return next((of(item) for item in _definition_items(definition, kind) if item.id == code),
                code)


def localised_name(row) -> str:
    """The name of a call or a wave (a row, or a definition's wave), in the active language."""
    return row.name_en if in_english() and row.name_en else row.name


def money(amount) -> str:
    """An amount in euros as people read it in the active language; "—" for none."""
    if amount is None:
        return "—"
    return format_eur_en(amount) if in_english() else format_eur_fr(amount)


def percent(rate) -> str:
    """A fraction (0.2125) as a percentage in the active language: "21,25 %", "21.25%"."""
    if rate is None:
        return "—"
    number = format_percent(Decimal(rate))
    return f"{number}%" if in_english() else f"{number.replace('.', ',')}\u00a0%"


def missing_items(codes: list[str], definition) -> str:
    """What a dossier still lacks, in words: sections by name, attachments by their label in
    the call (`dossiers.services.missing_items` gives the codes)."""
    named = {f"documents.{item.id}": of(item) for item in definition.documents}
    named.update({f"answers.{item.id}": of(item) for item in all_questions(definition.sections)})
    language = 1 if in_english() else 0
    return ", ".join(named.get(code) or vocabulary.names(code, vocabulary.DOSSIER_FIELDS,
                                                          language) for code in codes)
