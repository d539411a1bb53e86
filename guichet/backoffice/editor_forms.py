"""The call editor's forms: one per part of a definition. Each types what people write (ids,
labels, amounts, rates, instants) with a message on its field; what the values mean together
is the rules core's to say, through the service (`calls.editor`), on the same fields."""

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.backoffice.forms import paris_aware
from guichet.core.clock import PARIS
from guichet.core.fields import AmountField, DateTimeField, SingleLineField
from guichet.core.labels import SCOPE_CHOICES

IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
IDENTIFIER_MESSAGE = _("Identifiant : lettres minuscules sans accent, chiffres, « - » ou « _ », "
                       "64 caractères au plus, sans espace.")
_DECIMAL = re.compile(r"-?[0-9]{1,12}(?:[.,][0-9]{1,6})?")
QUESTION_TYPES = [("text", _("Texte")), ("number", _("Nombre")), ("choice", _("Choix")),
                  ("file", _("Fichier")), ("table", _("Tableau")),
                  ("indicators", _("Cibles des indicateurs"))]
MAX_COUNT = 10_000


class IdentifierField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Identifiant"))
        super().__init__(max_length=64, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not IDENTIFIER.fullmatch(value):
            raise forms.ValidationError(IDENTIFIER_MESSAGE, code="identifier")


class DecimalTextField(forms.CharField):
    """A decimal number as people type it ("0,60", "0.6"), never through a float."""

    message = _("Saisissez un nombre décimal (ex. 0,60), sans espace ni exposant.")

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal",
                                                           "maxlength": 24}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if len(value) > 24 or not _DECIMAL.fullmatch(value):
            raise forms.ValidationError(self.message, code="decimal")
        return Decimal(value.replace(",", "."))


def label_field(label, **kwargs) -> SingleLineField:
    return SingleLineField(label=label, max_length=300, **kwargs)


def count_field(label) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=MAX_COUNT)


def paris_input(value: str) -> str:
    """An instant of the definition ("2021-08-31T12:00:00+02:00") for a datetime-local input."""
    return dt.datetime.fromisoformat(value).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def instant_field(label) -> DateTimeField:
    return DateTimeField(label=label, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class DraftForm(DsfrBaseForm):
    """Every change carries the draft's version the page was made from."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def values(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key != "version"}


class CopyForm(DsfrBaseForm):
    code = IdentifierField(label=_("Identifiant du nouvel appel"),
                           help_text=_("Il devient aussi celui de son programme."))
    name = label_field(_("Nom"))
    name_en = label_field(_("Nom en anglais"))


class GeneralForm(DraftForm):
    name = label_field(_("Nom"))
    name_en = label_field(_("Nom en anglais"))
    funder = label_field(_("Financeur"))
    operator = label_field(_("Opérateur"))


class ProgrammeForm(DraftForm):
    id = IdentifierField(label=_("Identifiant du programme"))
    name = label_field(_("Nom du programme"))
    name_en = label_field(_("Nom du programme en anglais"))
    envelope = AmountField(label=_("Enveloppe du programme (€)"))


class EligibilityForm(DraftForm):
    min_members = count_field(_("Nombre minimal de membres"))
    leads = count_field(_("Nombre de chefs de file"))
    allowed_scopes = forms.MultipleChoiceField(label=_("Portées admises"),
                                               widget=forms.CheckboxSelectMultiple,
                                               choices=SCOPE_CHOICES)
    max_duration_months = count_field(_("Durée maximale (mois)"))
    first_results_month = count_field(_("Mois des premiers résultats au plus tard"))
    minimum_base = AmountField(label=_("Assiette minimale des dépenses éligibles (€)"))
    aid_cap_rate = DecimalTextField(label=_("Taux d'aide maximal"),
                                    help_text=_("Entre 0 et 1 : 0,70 pour 70 %."))
    in_kind_cap_rate = DecimalTextField(label=_("Plafond des apports en nature"),
                                        help_text=_("Entre 0 et 1 : 0,30 pour 30 %."))
    pooling_required = forms.BooleanField(label=_("Mutualisation exigée"), required=False)
    balanced_plan = forms.BooleanField(label=_("Plan de financement équilibré au centime"),
                                       required=False)


class WaveForm(DraftForm):
    name = label_field(_("Nom"))
    name_en = label_field(_("Nom en anglais"))
    opens_at = instant_field(_("Ouverture (heure de Paris)"))
    closes_at = instant_field(_("Clôture (heure de Paris)"))
    budget = AmountField(label=_("Budget (€)"), required=False,
                         help_text=_("Vide : ce qui reste de l'enveloppe du programme."))

    def values(self) -> dict:
        values = super().values()
        for key in ("opens_at", "closes_at"):
            values[key] = paris_aware(values[key])
        return values

    @staticmethod
    def initial_of(wave: dict) -> dict:
        return dict(wave, opens_at=paris_input(wave["opens_at"]),
                    closes_at=paris_input(wave["closes_at"]))


class NewWaveForm(WaveForm):
    id = IdentifierField()
    field_order = ["id"]


class CriterionForm(DraftForm):
    label = label_field(_("Libellé"))
    label_en = label_field(_("Libellé en anglais"))
    weight = DecimalTextField(label=_("Poids"))


class NewCriterionForm(CriterionForm):
    id = IdentifierField()
    field_order = ["id"]


class DocumentForm(DraftForm):
    label = label_field(_("Libellé"))
    label_en = label_field(_("Libellé en anglais"))
    required = forms.BooleanField(label=_("Pièce obligatoire"), required=False)


class NewDocumentForm(DocumentForm):
    id = IdentifierField()
    field_order = ["id"]


def _lines(value: str, message, width: int) -> list[list[str]]:
    """Lines of "a ; b ; c": the cells of each non-blank line, `width` of them (a fourth cell,
    when `width` is 4, is "nombre" or "texte" and may be left out)."""
    rows = []
    for number, line in enumerate((value or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(";")]
        if len(cells) not in (width, 3) or not all(cells[:3]) or \
                cells[3:] not in ([], ["nombre"], ["texte"]):
            raise forms.ValidationError(message, code="lines", params={"line": number})
        rows.append(cells)
    return rows


class QuestionForm(DraftForm):
    id = IdentifierField(label=_("Identifiant de la question"))
    label = label_field(_("Libellé de la question"))
    label_en = label_field(_("Libellé en anglais"))
    type = forms.ChoiceField(label=_("Type"), choices=QUESTION_TYPES)
    required = forms.BooleanField(label=_("Réponse obligatoire"), required=False)
    multiline = forms.BooleanField(label=_("Texte sur plusieurs lignes"), required=False)
    choices = forms.CharField(
        label=_("Choix (question à choix)"), required=False, max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Un par ligne : identifiant ; libellé ; libellé en anglais."))
    columns = forms.CharField(
        label=_("Colonnes (question tableau)"), required=False, max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Une par ligne : identifiant ; libellé ; libellé en anglais ; nombre "
                    "(pour une colonne de nombres)."))
    minimum = DecimalTextField(label=_("Minimum (question nombre)"), required=False)
    maximum = DecimalTextField(label=_("Maximum (question nombre)"), required=False)
    unit = SingleLineField(label=_("Unité (question nombre)"), required=False, max_length=20)
    when_question = IdentifierField(label=_("Posée seulement si la question…"), required=False,
                                    help_text=_("Identifiant d'une question à choix posée "
                                                "avant celle-ci."))
    when_equals = SingleLineField(label=_("… a pour réponse l'un de ces choix"),
                                  required=False, max_length=2000,
                                  help_text=_("Identifiants des choix, séparés par des "
                                              "virgules."))

    def clean_choices(self):
        message = _("Ligne %(line)s : écrivez « identifiant ; libellé ; libellé en anglais ».")
        return [{"id": c[0], "label": c[1], "label_en": c[2]}
                for c in _lines(self.cleaned_data["choices"], message, 3)]

    def clean_columns(self):
        message = _("Ligne %(line)s : écrivez « identifiant ; libellé ; libellé en anglais », "
                    "suivi de « ; nombre » pour une colonne de nombres.")
        return [{"id": c[0], "label": c[1], "label_en": c[2],
                 "type": "number" if c[3:] == ["nombre"] else "text"}
                for c in _lines(self.cleaned_data["columns"], message, 4)]

    def clean(self):
        data = super().clean()
        if data.get("when_question") and not data.get("when_equals"):
            self.add_error("when_equals", _("Donnez les choix qui font poser la question."))
        return data

    def item(self) -> dict:
        data = self.cleaned_data
        question = {key: data[key] for key in ("id", "label", "label_en", "type",
                                                        "required")}
        optional = {"multiline": data["multiline"], "choices": data["choices"],
                    "columns": data["columns"], "minimum": data["minimum"],
                    "maximum": data["maximum"], "unit": data["unit"]}
        question.update({key: value for key, value in optional.items()
                         if value not in (None, "", [], False)})
        if data["when_question"]:
            question["when"] = {"question": data["when_question"], "equals": [
                value.strip() for value in data["when_equals"].split(",") if value.strip()]}
        return question


class SectionForm(QuestionForm):
    """A new section with its first question (a section has at least one)."""

    section_id = IdentifierField(label=_("Identifiant de la section"))
    section_label = label_field(_("Titre de la section"))
    section_label_en = label_field(_("Titre en anglais"))
    section_intro = forms.CharField(label=_("Introduction"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["section_id", "section_label", "section_label_en", "section_intro"]

    def section(self) -> dict:
        data = self.cleaned_data
        return {"id": data["section_id"], "label": data["section_label"],
                "label_en": data["section_label_en"], "intro": data["section_intro"],
                "questions": [self.item()]}


class PublishForm(DraftForm):
    rules_version = SingleLineField(
        label=_("Nouvelle version des règles"), max_length=64,
        help_text=_("Différente de toutes les versions déjà publiées de l'appel (ex. "
                    "deffinum-2026.1) : les dossiers gardent la version contre laquelle ils "
                    "ont été vérifiés."))
