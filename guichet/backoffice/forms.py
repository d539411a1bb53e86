import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.calls.webhooks import SUBSCRIBABLE
from guichet.core import labels
from guichet.core.clock import PARIS
from guichet.core.fields import AmountField, DateField, DateTimeField, parse_id
from guichet.grants.models import Outcome
from guichet.review.models import AnnotationKind, BadgeColour
from guichet.rules.whatif import Thresholds


class InstructionForm(DsfrBaseForm):
    admissible = forms.TypedChoiceField(
        label=_("Recevabilité"), coerce=lambda v: v == "yes",
        choices=[("yes", _("Recevable")), ("no", _("Irrecevable"))])
    eligible = forms.TypedChoiceField(
        label=_("Éligibilité"), coerce=lambda v: v == "yes",
        choices=[("yes", _("Éligible")), ("no", _("Non éligible"))])
    motivation = forms.CharField(label=_("Motivation (obligatoire pour s'écarter du verdict "
                                         "automatique)"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))


class CorrectionForm(DsfrBaseForm):
    points = forms.CharField(label=_("Points à corriger"),
                             widget=forms.Textarea(attrs={"rows": 4}))
    deadline = DateTimeField(label=_("Date limite (heure de Paris)"),
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class MessageForm(DsfrBaseForm):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
    private = forms.BooleanField(label=_("Note privée (jamais visible des porteurs)"),
                                 required=False)


class ExpertInviteForm(DsfrBaseForm):
    email = forms.EmailField(label=_("Adresse électronique de l'expert"))
    sectors = forms.MultipleChoiceField(label=_("Filières d'expertise"),
                                        widget=forms.CheckboxSelectMultiple)
    keywords = forms.CharField(label=_("Mots-clés (séparés par des virgules)"), required=False)
    max_load = forms.IntegerField(label=_("Nombre maximal de dossiers"), min_value=1,
                                  max_value=200, initial=8)
    siret = forms.CharField(label=_("SIRET de son organisme (pour les conflits d'intérêts)"),
                            required=False, max_length=20)

    def __init__(self, *args, sectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sectors"].choices = sectors


class AddExpertForm(DsfrBaseForm):
    expert = forms.ModelChoiceField(label=_("Ajouter un expert"), queryset=None)

    def __init__(self, *args, experts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].queryset = experts
        self.fields["expert"].label_from_instance = lambda profile: str(profile.user)


class ConflictForm(DsfrBaseForm):
    reason = forms.CharField(label=_("Nature du conflit d'intérêts"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class SimulationForm(DsfrBaseForm):
    """The committee's options for a funding-line simulation: objective, scores normalised or
    not, caps and floors on groups (a region or a sector), dossiers taken or set aside by the
    committee (by receipt number). Caps and floors come as numbered rows, one blank row more
    than the last run used, so that the form shows the last run's constraints again."""

    MAX_ROWS = 30

    objective = forms.ChoiceField(label=_("Objectif"), choices=[
        (code, capfirst(name)) for code, name in labels.OBJECTIVES.items()])
    normalised = forms.BooleanField(label=_("Notes normalisées par expert (z-score)"),
                                    required=False)
    pinned_in = forms.CharField(
        label=_("Retenus d'office"), required=False,
        help_text=_("Numéros de dossier séparés par des virgules, tels que dans le classement."))
    pinned_out = forms.CharField(
        label=_("Écartés d'office"), required=False,
        help_text=_("Numéros de dossier séparés par des virgules, tels que dans le classement."))

    def __init__(self, *args, groups, dossiers: dict[str, int], caps: int = 1, floors: int = 1,
                 **kwargs):
        """`groups`: choices of "region:11"-like values (grouped); `dossiers`: the ranked and
        scored dossiers, receipt number -> primary key; `caps`, `floors`: how many rows."""
        super().__init__(*args, **kwargs)
        self._dossiers = {number.upper(): pk for number, pk in dossiers.items()}
        self.cap_rows = [self._row("cap", n, groups, AmountField(
            label=_("Aide maximale (€)"), required=False)) for n in range(caps)]
        self.floor_rows = [self._row("floor", n, groups, forms.IntegerField(
            label=_("Nombre minimal de dossiers"), required=False, min_value=1,
            max_value=10_000)) for n in range(floors)]

    @classmethod
    def rows_in(cls, data, kind: str) -> int:
        """How many `kind` rows a posted form holds (within MAX_ROWS)."""
        numbers = [int(match[1]) for key in data
                   if (match := re.fullmatch(rf"{kind}_(\d+)_group", key))]
        return min(max(numbers, default=-1) + 1, cls.MAX_ROWS)

    def _row(self, kind: str, number: int, groups, limit: forms.Field) -> tuple:
        """Add a row's two fields (the group, the limit); return them bound, for the page."""
        title = (_("Plafond %(n)d") if kind == "cap" else _("Plancher %(n)d")) % {"n": number + 1}
        self.fields[f"{kind}_{number}_group"] = forms.ChoiceField(
            label=_("%(row)s : groupe") % {"row": title}, required=False,
            choices=[("", "—"), *groups])
        limit.label = f"{title} : {limit.label}"
        self.fields[f"{kind}_{number}_limit"] = limit
        return self[f"{kind}_{number}_group"], self[f"{kind}_{number}_limit"]

    def clean_pinned_in(self):
        return self._pins("pinned_in")

    def clean_pinned_out(self):
        return self._pins("pinned_out")

    def _pins(self, name) -> list[int]:
        numbers = [part.strip().upper() for part in self.cleaned_data[name].split(",")
                   if part.strip()]
        unknown = [number for number in numbers if number not in self._dossiers]
        if unknown:
            raise forms.ValidationError(
                _("Numéro inconnu parmi les dossiers notés de la vague : %(numbers)s.")
                % {"numbers": ", ".join(unknown)})
        return list(dict.fromkeys(self._dossiers[number] for number in numbers))

    def clean(self):
        data = super().clean()
        both = set(data.get("pinned_in") or ()) & set(data.get("pinned_out") or ())
        if both:
            self.add_error("pinned_out", _("Un dossier ne peut être à la fois retenu et écarté "
                                           "d'office."))
        data["caps"] = [{"group": group, "value": value, "max_aid": str(limit)}
                        for group, value, limit in self._constraints("cap")]
        data["floors"] = [{"group": group, "value": value, "min_count": limit}
                          for group, value, limit in self._constraints("floor")]
        return data

    def _constraints(self, kind: str):
        rows = self.cap_rows if kind == "cap" else self.floor_rows
        for group_field, limit_field in rows:
            group = self.cleaned_data.get(group_field.name)
            limit = self.cleaned_data.get(limit_field.name)
            if group and limit is None and limit_field.name not in self.errors:
                self.add_error(limit_field.name, _("Indiquez la limite de ce groupe."))
            elif limit is not None and not group:
                self.add_error(group_field.name, _("Choisissez le groupe de cette limite."))
            elif group and limit is not None:
                yield (*group.split(":", 1), limit)


def selection_groups(definition) -> list:
    """The groups a cap or a floor may concern, for `SimulationForm`: regions and sectors."""
    return [(labels.label("selection_group", "region"),
             [(f"region:{code}", name) for code, name in labels.REGION_CHOICES]),
            (labels.label("selection_group", "sector"),
             [(f"sector:{code}", name)
              for code, name in labels.call_choices(definition, "sectors")])]


def simulation_initial(run, names: dict[str, str]) -> dict:
    """The form's values for the options of a past run (`names`: the receipt number of each
    dossier of the run's instance, by its id there)."""
    instance = run.instance
    initial = {"objective": instance["objective"], "normalised": run.normalised}
    for name in ("pinned_in", "pinned_out"):
        initial[name] = ", ".join(names[i] for i in instance.get(name, []) if i in names)
    for kind, limit in (("cap", "max_aid"), ("floor", "min_count")):
        for n, item in enumerate(instance.get(f"{kind}s", [])):
            initial[f"{kind}_{n}_group"] = f"{item['group']}:{item['value']}"
            initial[f"{kind}_{n}_limit"] = item[limit]
    return initial


class AdoptionForm(DsfrBaseForm):
    """The simulation adopted: the run the page showed (refused if another came since)."""

    run = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _per_cent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


class WhatIfForm(DsfrBaseForm):
    """Other thresholds for the call, rates in per cent as the rules say them."""

    minimum_base = AmountField(label=_("Assiette éligible minimale (€)"))
    aid_cap_rate = forms.DecimalField(label=_("Taux d'aide maximal (%)"), min_value=Decimal(1),
                                      max_value=Decimal(100), decimal_places=2, localize=True)
    in_kind_cap_rate = forms.DecimalField(label=_("Plafond des apports en nature (%)"),
                                          min_value=Decimal(1), max_value=Decimal(100),
                                          decimal_places=2, localize=True)

    @staticmethod
    def initial_of(thresholds) -> dict:
        """The call's thresholds as the form shows them: rates in per cent ("70", not
        "7E+1", which is how a normalised Decimal prints)."""
        return {"minimum_base": thresholds.minimum_base,
                "aid_cap_rate": _per_cent(thresholds.aid_cap_rate),
                "in_kind_cap_rate": _per_cent(thresholds.in_kind_cap_rate)}

    def thresholds(self) -> Thresholds:
        data = self.cleaned_data
        return Thresholds(data["minimum_base"], data["aid_cap_rate"] / 100,
                                data["in_kind_cap_rate"] / 100)


class DecisionForm(DsfrBaseForm):
    outcome = forms.ChoiceField(label=_("Décision"), choices=Outcome.choices)
    awarded_aid = AmountField(label=_("Aide attribuée (€)"), required=False)
    motivation = forms.CharField(label=_("Motivation"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    redirected_to = forms.CharField(label=_("Programme de réorientation"), required=False)


class RevertForm(DsfrBaseForm):
    motivation = forms.CharField(label=_("Motif de l'annulation"),
                                 widget=forms.Textarea(attrs={"rows": 2}))


class PaymentForm(DsfrBaseForm):
    paid_on = DateField(label=_("Date du virement"),
                        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reference = forms.CharField(label=_("Référence du virement"), max_length=100)


class ReversalForm(DsfrBaseForm):
    reason = forms.CharField(label=_("Motif de l'annulation du versement"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReportReviewForm(DsfrBaseForm):
    decision = forms.ChoiceField(label=_("Décision"), choices=[
        ("approve", _("Approuver")), ("changes", _("Demander des compléments"))])
    comment = forms.CharField(label=_("Commentaire"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AmendmentForm(DsfrBaseForm):
    duration_months = forms.IntegerField(label=_("Nouvelle durée (mois)"), min_value=1,
                                         max_value=120)
    reason = forms.CharField(label=_("Motif de l'avenant"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class BudgetMoveForm(DsfrBaseForm):
    from_line = forms.TypedChoiceField(label=_("Ligne d'origine"), coerce=int)
    to_line = forms.TypedChoiceField(label=_("Ligne de destination"), coerce=int)
    amount = AmountField(label=_("Montant déplacé (€)"))
    reason = forms.CharField(label=_("Motif de l'avenant"),
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_line"].choices = self.fields["to_line"].choices = lines


class ClosureForm(DsfrBaseForm):
    message = forms.CharField(label=_("Message publié sur l'appel"),
                              widget=forms.Textarea(attrs={"rows": 3}))


# --- the instruction workbench -----------------------------------------------------------

class LabelForm(DsfrBaseForm):
    name = forms.CharField(label=_("Nom de l'étiquette"), max_length=60)
    colour = forms.ChoiceField(label=_("Couleur"), choices=BadgeColour.choices)


class SavedFilterForm(DsfrBaseForm):
    name = forms.CharField(label=_("Nom du filtre"), max_length=80)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


class AnnotationForm(DsfrBaseForm):
    kind = forms.ChoiceField(label=_("Nature"), choices=AnnotationKind.choices)
    body = forms.CharField(label=_("Annotation (jamais visible des porteurs ni des experts)"),
                           widget=forms.Textarea(attrs={"rows": 3}))


class DossierLabelForm(DsfrBaseForm):
    """Put one of the call's labels on a dossier, or take it off."""

    label = forms.ModelChoiceField(label=_("Étiquette"), queryset=None)
    present = forms.TypedChoiceField(
        label=_("Action"), choices=[("oui", _("Ajouter")), ("non", _("Retirer"))],
        coerce=lambda value: value == "oui")

    def __init__(self, *args, labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].queryset = labels


class IdListField(forms.Field):
    """Repeated ids of a form (checked boxes); one that is not an id is refused."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = [parse_id(item) for item in value or []]
        if None in ids:
            raise forms.ValidationError(_("Un dossier coché n'est pas valide."))
        return ids


class ExportCheckedForm(DsfrBaseForm):
    """The checked dossiers of the list, to export in one of the list's formats."""

    ids = IdListField(label=_("Dossiers cochés"))
    format = forms.ChoiceField(label=_("Format"), choices=[
        ("csv", _("CSV pour Excel (point-virgule)")), ("xlsx", _("Excel (XLSX)")),
        ("ods", _("OpenDocument (ODS)"))])


class BulkForm(DsfrBaseForm):
    """An action on the dossiers checked in the list, with what that action needs."""

    ACTIONS = [("add_label", _("Ajouter l'étiquette")),
               ("remove_label", _("Retirer l'étiquette")),
               ("assign_instructor", _("Confier à l'instructeur")),
               ("request_documents", _("Demander des pièces ou corrections")),
               ("prepare_decision", _("Préparer la décision"))]
    NEEDS = {"add_label": ("label",), "remove_label": ("label",),
             "assign_instructor": ("instructor",), "request_documents": ("points", "deadline"),
             "prepare_decision": ("outcome",)}

    ids = IdListField(label=_("Dossiers cochés"))
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    label = forms.ModelChoiceField(label=_("Étiquette"), queryset=None, required=False)
    instructor = forms.ModelChoiceField(label=_("Instructeur"), queryset=None, required=False)
    points = forms.CharField(label=_("Pièces ou points à corriger"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    deadline = DateTimeField(label=_("Date limite (heure de Paris)"), required=False,
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    outcome = forms.ChoiceField(label=_("Décision"), choices=[("", "—"), *Outcome.choices],
                                required=False)
    motivation = forms.CharField(label=_("Motivation"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    redirected_to = forms.CharField(label=_("Programme de réorientation"), required=False)

    def __init__(self, *args, labels, instructors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].queryset = labels
        self.fields["instructor"].queryset = instructors
        self.fields["instructor"].label_from_instance = str

    def clean(self):
        data = super().clean()
        for name in self.NEEDS.get(data.get("action"), ()):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("Renseignez ce champ pour cette action."))
        return data

    def params(self) -> dict:
        """The keyword arguments of the chosen action's service."""
        data = self.cleaned_data
        if data["action"] in ("add_label", "remove_label"):
            return {"label": data["label"]}
        if data["action"] == "assign_instructor":
            return {"instructor": data["instructor"]}
        if data["action"] == "request_documents":
            return {"points": data["points"], "deadline": paris_aware(data["deadline"])}
        return {"outcome": data["outcome"], "motivation": data["motivation"],
                "redirected_to": data["redirected_to"]}


def paris_aware(value: dt.datetime) -> dt.datetime:
    """A date and time typed without an offset is Paris time."""
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


class WebhookForm(DsfrBaseForm):
    url = forms.CharField(label=_("Adresse du système à prévenir"), max_length=500,
                          help_text=_("Une URL https:// qui reçoit chaque événement en POST."))
    events = forms.MultipleChoiceField(
        label=_("Événements"), widget=forms.CheckboxSelectMultiple,
        choices=[(event.value, event.label) for event in SUBSCRIBABLE])


class MailTextForm(DsfrBaseForm):
    subject = forms.CharField(label=_("Objet"), max_length=200)
    body = forms.CharField(label=_("Texte"), max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 14}))
