"""The internal codes that must never reach a person, and the check of a text against them.

A page or an export shows labels; a code (a rule id, an enum value, a criterion id, an
objective, a selection id "d12", a wave code "w2"…) seen as text is a defect. The known codes
are gathered from the vocabularies themselves, so that a new code is checked without editing
this file: the rules core's tuples and rule ids, every model field's choices, the call
definitions (shipped and loaded) and the selection and assignment vocabularies.

Text is cut into whole tokens (letters, digits, "_", "." inside a path such as
"financing.aid", "@" and "-" so that an e-mail address or a receipt number stays one token),
compared case-sensitively: codes are lower case, so "SIRET" or "BTP" written for people are not
codes, while "siret" or "btp" are.
"""

import re

from django.apps import apps

from guichet.calls.models import Call
from guichet.review.experts import NoExpert
from guichet.rules import dossier, vocabulary
from guichet.rules.definition import SHIPPED_DIR, load_definition
from guichet.rules.eligibility import RULE_IDS
from guichet.rules.selection import INFEASIBILITY_TEXTS, OBJECTIVES, REASON_KINDS

TOKEN = re.compile(r"[\w.@+-]+")
# Ids the optimisers use for dossiers and experts ("d12", "e3"): never for people.
OPTIMISER_IDS = re.compile(r"[de]\d+")

# Codes that are also ordinary French words, shown legitimately in French text; checking them
# would flag correct pages. Each with the reason it may appear.
ORDINARY_WORDS = {
    "national": "adjective (« Programme national »; a scope's code and its English label)",
    "local": "adjective (« un tiers-lieu local »; a scope's code)",
    "final": "adjective (« rapport final », « Bilan final »; a report and milestone kind)",
    "expert": "noun (« Vivier d'experts », « expert »; a staff role)",
    "consortium": "noun used on every dossier page (a rule id)",
    "innovation": "noun in titles and criteria labels (a criterion id)",
    "transformation": "noun in the programme's name (a criterion id)",
    "industrie": "noun in project titles (« l'industrie »; a sector id)",
    "commerce": "noun (a sector id)",
    "agriculture": "noun (a sector id)",
    "transport": "noun (a sector id)",
    "transverse": "adjective (« compétences transverses »; a sector id)",
    "optimal": "adjective (« Portefeuille optimal »; a solver status)",
    "vigilance": "noun (« point de vigilance »; an annotation kind)",
    "question": "noun (« question à instruire »; an annotation kind)",
    "invitation": "noun (« cette invitation expire », in a mail's text; a kind of mail)",
    "en": "preposition (« en cours », « en ligne »; a language code of the account)",
}
# Digits alone ("11", a region's INSEE code) cannot be told from a number, a date or an
# amount: region codes are checked where they would appear (the list export, the filters) by
# tests of their own, not here.


def _model_choices() -> set[str]:
    values = set()
    for model in apps.get_models():
        if not model.__module__.startswith("guichet."):
            continue  # Django's and allauth's own choices (language codes…) are theirs
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str):
                    values.add(value)
    return values


def _definition_codes(definition) -> set[str]:
    items = [*definition.waves, *definition.sectors, *definition.selection.criteria,
             *definition.documents, *definition.indicators, *definition.expense_categories,
             *definition.tranches]
    codes = {item.id for item in items}
    codes |= {f"documents.{document.id}" for document in definition.documents}
    codes |= {tranche.trigger for tranche in definition.tranches}
    codes |= {definition.id, definition.programme.id, definition.eligibility.in_kind_cap_base,
              definition.eligibility.aid_cap_rounding, definition.eligibility.cofinancing_floor}
    return codes


def known_codes() -> set[str]:
    """Every code of the vocabularies, shipped definitions and loaded calls included."""
    codes = {*RULE_IDS, *dossier.SCOPES, *dossier.MEMBER_KINDS, *dossier.MILESTONE_KINDS,
             *dossier.FINANCING_SOURCES, *vocabulary.DOSSIER_FIELDS, *OBJECTIVES,
             *REASON_KINDS, *INFEASIBILITY_TEXTS, "region", "sector", "time_limit",
             "tolerance_violation", "infeasible", *NoExpert.values}
    codes |= {value for value in _model_choices() if not value.isdigit()}
    for path in SHIPPED_DIR.glob("*.toml"):
        codes |= _definition_codes(load_definition(path))
    for call in Call.objects.all():
        codes |= _definition_codes(call.rules()) | {call.code}
    return codes - set(ORDINARY_WORDS)


def codes_in(text: str, codes: set[str] | None = None) -> list[str]:
    """The codes `text` shows, each once, in order of appearance."""
    codes = known_codes() if codes is None else codes
    found = []
    for token in TOKEN.findall(text):
        token = token.strip(".-+")
        if (token in codes or OPTIMISER_IDS.fullmatch(token)) and token not in found:
            found.append(token)
    return found
