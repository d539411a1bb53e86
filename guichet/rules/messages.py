"""The sentences a verdict speaks, in French and English.

The rules core has no Django, so no gettext: each rule carries both languages here, with the
call's own thresholds filled in from its definition.
"""

import datetime as dt
from decimal import Decimal

from guichet.rules import vocabulary
from guichet.rules.money import format_eur_en, format_eur_fr, format_percent

# rule -> (ok in French, failed in French, ok in English, failed in English)
_TEXTS = {
    "complete": (
        "Le dossier est complet.",
        "Le dossier est incomplet ; à renseigner : {value}.",
        "The dossier is complete.",
        "The dossier is incomplete; still to fill in: {value}.",
    ),
    "consortium": (
        "Le consortium réunit {value} entités juridiques distinctes (minimum {limit}).",
        "Le consortium doit réunir au moins {limit} entités juridiques distinctes (SIRET "
        "distincts) ; il en compte {value}.",
        "The consortium brings together {value} distinct legal entities (minimum {limit}).",
        "The consortium needs at least {limit} distinct legal entities (distinct SIRET); "
        "it has {value}.",
    ),
    "lead": (
        "Le consortium a un chef de file.",
        "Le consortium doit avoir exactement {limit} chef de file ; il en déclare {value}.",
        "The consortium has one lead.",
        "The consortium must have exactly {limit} lead; it declares {value}.",
    ),
    "siret": (
        "Tous les SIRET des membres sont valides.",
        "SIRET invalide ou absent : {value}.",
        "Every member's SIRET is valid.",
        "Invalid or missing SIRET: {value}.",
    ),
    "member_kind": (
        "Tous les membres relèvent d'une catégorie admise par l'appel.",
        "Catégorie de membre non admise par l'appel : {value}.",
        "Every member belongs to a kind the call accepts.",
        "Member kind not accepted by the call: {value}.",
    ),
    "scope": (
        "La portée du projet est admise ({value}).",
        "La portée du projet doit être : {limit} (déclarée : {value}).",
        "The project's scope is accepted ({value}).",
        "The project's scope must be one of: {limit} (declared: {value}).",
    ),
    "pooling": (
        "Le consortium s'engage à mutualiser les productions du projet.",
        "L'engagement de mutualisation des productions du projet est requis.",
        "The consortium commits to pooling what the project produces.",
        "A commitment to pool what the project produces is required.",
    ),
    "duration": (
        "La durée du projet ({value} mois) ne dépasse pas {limit} mois.",
        "La durée du projet ({value} mois) doit être d'au plus {limit} mois.",
        "The project lasts {value} months, within {limit} months.",
        "The project must last at most {limit} months ({value} months declared).",
    ),
    "first_results": (
        "Les premiers résultats sont prévus au mois {value} (au plus tard au mois {limit}).",
        "Un jalon « premiers résultats » est requis au plus tard au mois {limit} "
        "(premier jalon déclaré : {value}).",
        "First results are planned for month {value} (month {limit} at the latest).",
        "A first-results milestone is required by month {limit} (earliest declared: {value}).",
    ),
    "minimum_base": (
        "L'assiette de dépenses éligibles ({value_fr}) atteint le minimum de {limit_fr}.",
        "L'assiette de dépenses éligibles ({value_fr}) doit atteindre {limit_fr}.",
        "The eligible expenditure base ({value_en}) reaches the minimum of {limit_en}.",
        "The eligible expenditure base ({value_en}) must reach {limit_en}.",
    ),
    "aid_cap": (
        "L'aide demandée ne dépasse pas {aid_rate} % de l'assiette éligible ({limit_fr}).",
        "L'aide demandée ({value_fr}) dépasse {aid_rate} % de l'assiette éligible ({limit_fr}).",
        "The aid requested is within {aid_rate}% of the eligible base ({limit_en}).",
        "The aid requested ({value_en}) exceeds {aid_rate}% of the eligible base ({limit_en}).",
    ),
    "cofinancing": (
        "Le cofinancement ({value_fr}) couvre au moins le complément de l'aide plafonnée "
        "({limit_fr}).",
        "Le cofinancement ({value_fr}) doit atteindre {limit_fr}, complément du plafond d'aide.",
        "Co-financing ({value_en}) covers at least the complement of the aid cap ({limit_en}).",
        "Co-financing ({value_en}) must reach {limit_en}, the complement of the aid cap.",
    ),
    "in_kind_cap": (
        "Les apports en nature ({value_fr}) ne dépassent pas {in_kind_rate} % du {in_kind_base_fr}"
        " ({limit_fr}).",
        "Les apports en nature ({value_fr}) dépassent {in_kind_rate} % du {in_kind_base_fr} "
        "({limit_fr}).",
        "In-kind contributions ({value_en}) are within {in_kind_rate}% of the {in_kind_base_en} "
        "({limit_en}).",
        "In-kind contributions ({value_en}) exceed {in_kind_rate}% of the {in_kind_base_en} "
        "({limit_en}).",
    ),
    "balanced_plan": (
        "Le plan de financement est équilibré ({value_fr}).",
        "Le plan de financement ({value_fr}) doit égaler l'assiette éligible ({limit_fr}) "
        "au centime près.",
        "The financing plan balances ({value_en}).",
        "The financing plan ({value_en}) must equal the eligible base ({limit_en}) to the cent.",
    ),
    "deadline": (
        "Reçu le {value}, dans la fenêtre de la vague (clôture {limit}).",
        "Reçu le {value}, hors de toute fenêtre de dépôt de l'appel.",
        "Received on {value}, within the wave's window (closing {limit}).",
        "Received on {value}, outside every submission window of the call.",
    ),
}

_IN_KIND_BASE = {"cofinancing": ("cofinancement", "co-financing"),
                 "eligible_base": ("assiette éligible", "eligible base")}
_NOT_GIVEN = ("non renseigné", "not given")
# The rules whose value and limit are codes: the sentence names them instead.
_NAMED = {"complete": vocabulary.DOSSIER_FIELDS, "member_kind": vocabulary.MEMBER_KINDS,
          "scope": vocabulary.SCOPES}


class MessageBook:
    """The sentences of one call definition, with its own thresholds already filled in."""

    def __init__(self, definition):
        rules = definition.eligibility
        base_fr, base_en = _IN_KIND_BASE[rules.in_kind_cap_base]
        constants_fr = {"aid_rate": format_percent(rules.aid_cap_rate),
                        "in_kind_rate": format_percent(rules.in_kind_cap_rate),
                        "in_kind_base_fr": base_fr}
        constants_en = {**constants_fr, "in_kind_base_en": base_en}
        self._texts = {
            rule: (_partial(ok_fr, constants_fr), _partial(ko_fr, constants_fr),
                   _partial(ok_en, constants_en), _partial(ko_en, constants_en))
            for rule, (ok_fr, ko_fr, ok_en, ko_en) in _TEXTS.items()
        }
        # A missing attachment or answer is named by the call's own label for it.
        attachments = {f"documents.{document.id}": (document.label, document.label_en)
                       for document in definition.documents}
        answers = {f"answers.{question.id}": (question.label, question.label_en)
                   for section in definition.sections for question in section.questions}
        self._named = {**_NAMED, "complete": {**_NAMED["complete"], **attachments, **answers}}

    def say(self, rule: str, ok: bool, value, limit) -> tuple[str, str]:
        ok_fr, ko_fr, ok_en, ko_en = self._texts[rule]
        french, english = (ok_fr, ok_en) if ok else (ko_fr, ko_en)
        if isinstance(value, Decimal):
            return (french.format(value_fr=format_eur_fr(value), limit_fr=format_eur_fr(limit)),
                    english.format(value_en=format_eur_en(value), limit_en=format_eur_en(limit)))
        if isinstance(value, dt.datetime):
            value, limit = _instant(value), limit and _instant(limit)
        named = self._named.get(rule)
        if named is not None:
            return tuple(template.format(value=_named(value, named, language),
                                         limit=_named(limit, named, language))
                         for language, template in enumerate((french, english)))
        if value is None:
            return (french.format(value=_NOT_GIVEN[0], limit=limit),
                    english.format(value=_NOT_GIVEN[1], limit=limit))
        return french.format(value=value, limit=limit), english.format(value=value, limit=limit)


def _named(codes, names: dict, language: int) -> str:
    return _NOT_GIVEN[language] if codes is None else vocabulary.names(codes, names, language)


def _partial(template: str, constants: dict) -> str:
    """Fill in the call's constants, leaving {value}, {limit} and their variants for later."""
    for name, text in constants.items():
        template = template.replace("{" + name + "}", text)
    return template


def _instant(instant: dt.datetime) -> str:
    return f"{instant:%d/%m/%Y %H:%M:%S} ({instant.tzname()})"
