import re

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.core.fields import AmountField, DateTimeField, parse_typed_amount
from guichet.grants.models import Outcome

# Committee simulation inputs: internal dossier ids ("d12") and minimal counts.
DOSSIER_ID = re.compile(r"d[0-9]{1,19}")
MIN_COUNT = re.compile(r"[0-9]{1,4}")


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


class ConflictForm(DsfrBaseForm):
    reason = forms.CharField(label=_("Nature du conflit d'intérêts"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class SimulationForm(DsfrBaseForm):
    objective = forms.ChoiceField(label=_("Objectif"), choices=[
        ("score_weighted_aid", _("note × aide (ligne de financement classique)")),
        ("score_sum", _("somme des notes (favorise les projets moins coûteux)"))])
    normalised = forms.BooleanField(label=_("Notes normalisées par expert (z-score)"),
                                    required=False)
    caps = forms.CharField(label=_("Plafonds, un par ligne : region|11|30000000.00 ou "
                                   "sector|btp|20000000.00"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    floors = forms.CharField(label=_("Planchers, un par ligne : sector|sante|2"),
                             required=False, widget=forms.Textarea(attrs={"rows": 2}))
    pinned_in = forms.CharField(label=_("Retenus d'office (numéros de dossier internes, "
                                        "ex. d12, d15)"), required=False)
    pinned_out = forms.CharField(label=_("Écartés d'office"), required=False)

    def clean_caps(self):
        # The amount travels in the selection instance as a decimal string (JSON, exact).
        return [{"group": g, "value": v, "max_aid": str(parse_typed_amount(a))}
                for g, v, a in self._lines("caps")]

    def clean_floors(self):
        rows = self._lines("floors")
        if any(not MIN_COUNT.fullmatch(n) for _g, _v, n in rows):
            raise forms.ValidationError(_("Le nombre minimal doit être un entier positif ou nul "
                                          "(au plus 9999)."))
        return [{"group": g, "value": v, "min_count": int(n)} for g, v, n in rows]

    def clean_pinned_in(self):
        return self._ids("pinned_in")

    def clean_pinned_out(self):
        return self._ids("pinned_out")

    def _ids(self, name):
        ids = [part.strip() for part in self.cleaned_data[name].split(",") if part.strip()]
        wrong = [value for value in ids if not DOSSIER_ID.fullmatch(value)]
        if wrong:
            raise forms.ValidationError(
                _("Numéro de dossier interne attendu (ex. d12) : %(values)s.")
                % {"values": ", ".join(wrong[:3])})
        return ids

    def _lines(self, name):
        rows = []
        for number, line in enumerate(self.cleaned_data[name].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or parts[0] not in ("region", "sector") or not all(parts):
                raise forms.ValidationError(
                    _("Ligne %(n)d : attendu groupe|valeur|nombre, groupe region ou sector.")
                    % {"n": number})
            rows.append(parts)
        return rows


class DecisionForm(DsfrBaseForm):
    outcome = forms.ChoiceField(label=_("Décision"), choices=Outcome.choices)
    awarded_aid = AmountField(label=_("Aide attribuée (€)"), required=False)
    motivation = forms.CharField(label=_("Motivation"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    redirected_to = forms.CharField(label=_("Programme de réorientation"), required=False)


class RevertForm(DsfrBaseForm):
    motivation = forms.CharField(label=_("Motif de l'annulation"),
                                 widget=forms.Textarea(attrs={"rows": 2}))
