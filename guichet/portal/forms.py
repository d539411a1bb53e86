"""The applicant's forms (State design system markup through django-dsfr)."""


from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.core import labels
from guichet.core.fields import AmountField, DateField, SingleLineField
from guichet.core.uploads import max_size
from guichet.dossiers.annex.schema import MAX_ANNEX_BYTES
from guichet.dossiers.pdf_check import MAX_DOCUMENT_BYTES
from guichet.rules.sections import total_errors


class VersionedForm(DsfrBaseForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class OrganisationForm(DsfrBaseForm):
    siret = forms.CharField(label="SIRET", max_length=20,
                            help_text=_("14 chiffres, sans espace ou avec espaces."))
    name = SingleLineField(label=_("Raison sociale"), max_length=300)
    region = forms.ChoiceField(label=_("Région du siège"), required=False,
                               choices=[("", "—"), *labels.REGION_CHOICES])
    address = SingleLineField(label=_("Adresse"), max_length=300, required=False)
    legal_form = forms.CharField(label=_("Catégorie juridique"), max_length=4, required=False,
                                 help_text=_("Code INSEE à 4 chiffres, ex. 9220 pour une "
                                             "association déclarée."))
    activity_code = forms.CharField(label=_("Code d'activité (NAF)"), max_length=6,
                                    required=False, help_text=_("Ex. 85.59A."))


class StartDossierForm(DsfrBaseForm):
    """A new dossier: in which of the open calls (chosen only when several are open), for
    which of the person's organisations, as what, under which title."""

    call = forms.ChoiceField(label=_("Appel à projets"))
    organisation = forms.ModelChoiceField(label=_("Organisme chef de file"), queryset=None)
    kind = forms.ChoiceField(label=_("Catégorie de l'organisme"),
                             choices=labels.MEMBER_KIND_CHOICES)
    title = SingleLineField(label=_("Titre du projet"), max_length=300)

    def __init__(self, *args, organisations, calls, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.open_calls = {call.code: call for call in calls}
        field = self.fields["call"]
        field.choices = [(call.code, labels.localised_name(call)) for call in calls]
        if len(calls) <= 1:  # nothing to choose: the one open call (or none, said on clean)
            field.widget, field.required = forms.HiddenInput(), False
            field.initial = calls[0].code if calls else None

    def clean_call(self):
        return self.open_calls.get(self.cleaned_data["call"] or next(iter(self.open_calls), ""))

    def clean(self):
        cleaned = super().clean()
        if not self.open_calls:
            raise forms.ValidationError(_("Aucun appel à projets n'est ouvert."))
        return cleaned


class AcceptInvitationForm(DsfrBaseForm):
    """For a new partner, which of the person's organisations joins, and as what; for an
    invitation naming an existing member, nothing to choose."""

    organisation = forms.ModelChoiceField(label=_("Organisme que vous représentez"),
                                          queryset=None)
    kind = forms.ChoiceField(label=_("Catégorie de l'organisme"),
                             choices=labels.MEMBER_KIND_CHOICES)

    def __init__(self, *args, organisations, for_member=None, **kwargs):
        super().__init__(*args, **kwargs)
        if for_member is not None:
            del self.fields["organisation"], self.fields["kind"]
        else:
            self.fields["organisation"].queryset = organisations


class ProjectForm(VersionedForm):
    title = SingleLineField(label=_("Titre du projet"), max_length=300, required=False)
    summary = forms.CharField(label=_("Résumé"), widget=forms.Textarea(attrs={"rows": 5}),
                              max_length=10_000, required=False)
    scope = forms.ChoiceField(label=_("Portée"), required=False,
                              choices=[("", "—"), *labels.SCOPE_CHOICES])
    pooling_commitment = forms.BooleanField(
        label=_("Le consortium s'engage à mutualiser les productions du projet dans son "
                "réseau, son secteur ou sa filière"), required=False)
    start_date = DateField(label=_("Date de début"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    duration_months = forms.IntegerField(label=_("Durée (mois)"), required=False, min_value=1,
                                         max_value=120)
    sector = forms.ChoiceField(label=_("Filière principale"), required=False)
    keywords = SingleLineField(label=_("Mots-clés (séparés par des virgules)"), required=False,
                               max_length=500)

    def __init__(self, *args, sectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"].choices = [("", "—"), *sectors]


class InviteForm(DsfrBaseForm):
    email = forms.EmailField(label=_("Adresse électronique du membre invité"))
    member = forms.ModelChoiceField(
        label=_("Pour le compte de"), queryset=None, required=False,
        empty_label=_("Un nouvel organisme partenaire (la personne invitée le choisit)"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class MilestoneForm(DsfrBaseForm):
    month = forms.IntegerField(label=_("Mois (1 = premier mois du projet)"), min_value=1,
                               max_value=120)
    kind = forms.ChoiceField(label=_("Type de jalon"), choices=labels.MILESTONE_KIND_CHOICES)
    label = SingleLineField(label=_("Libellé"), max_length=500)


class ExpenseForm(DsfrBaseForm):
    member = forms.ModelChoiceField(label=_("Membre"), queryset=None)
    category = forms.ChoiceField(label=_("Catégorie de dépense"))
    label = SingleLineField(label=_("Libellé"), max_length=500)
    amount = AmountField(label=_("Montant (€)"))
    eligible = forms.BooleanField(label=_("Dépense éligible"), required=False, initial=True)

    def __init__(self, *args, members, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["category"].choices = categories


class FinancingForm(DsfrBaseForm):
    source = forms.ChoiceField(label=_("Source"), choices=labels.FINANCING_SOURCE_CHOICES)
    member = forms.ModelChoiceField(label=_("Membre (pour un apport propre)"), queryset=None,
                                    required=False)
    amount = AmountField(label=_("Montant (€)"))

    def __init__(self, *args, members, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["source"].choices = [choice for choice in labels.FINANCING_SOURCE_CHOICES
                                         if choice[0] in sources]


class SectionForm(VersionedForm):
    """The questions of one of the call's sections (guichet.rules.sections), as the call
    declares them. Nothing is required here (the form saves as one types); a required question
    is asked for before the deposit. A file question is answered on the documents step."""

    BLANK_ROWS = 2  # empty rows offered below a table's rows

    def __init__(self, *args, section, definition, rows=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section, self.definition = section, definition
        self.rows = rows or {}  # table question id -> rows offered
        for question in section.questions:
            for name, field in self._fields_of(question):
                self.fields[name] = field

    @classmethod
    def for_answers(cls, section, definition, values: dict, version: int):
        """The form showing the stored `values`."""
        initial = {"version": version}
        rows = {}
        for question in section.questions:
            value = values.get(question.id)
            if question.type == "indicators":
                initial |= {f"{question.id}__{key}": target
                            for key, target in (value or {}).items()}
            elif question.type == "table":
                rows[question.id] = len(value or [])
                initial |= {f"{question.id}__{index}__{column}": cell
                            for index, row in enumerate(value or [])
                            for column, cell in row.items()}
            elif value is not None:
                initial[question.id] = value
        return cls(initial=initial, section=section, definition=definition, rows=rows)

    def answers(self) -> dict:
        """{question id: answer or None} for each question whose every field is valid (the
        targets of indicators: those valid, by indicator)."""
        data = self.cleaned_data
        changes = {}
        for question in self.section.questions:
            names = [name for name, _field in self._fields_of(question)]
            # A target typed wrong keeps its stored value; the others are saved.
            partial = question.type == "indicators"
            if question.type == "file" or not (partial or all(name in data for name in names)):
                continue
            changes[question.id] = self._answer(
                question, {name: data[name] for name in names if name in data})
        return changes

    def clean(self):
        data = super().clean()
        given = {q.id: data.get(q.id) for q in self.section.questions if q.type == "number"}
        for question_id, total in total_errors(self.section, given):
            self.add_error(question_id, labels.of_message(total))
        return data

    def _fields_of(self, question):
        label = labels.of(question)
        help_text = self._help(question)
        if question.type == "text":
            field_class = forms.CharField if question.multiline else SingleLineField
            widget = forms.Textarea(attrs={"rows": 3}) if question.multiline else None
            return [(question.id, field_class(label=label, required=False, help_text=help_text,
                                              max_length=question.max_length, widget=widget))]
        if question.type == "number":
            return [(question.id, _number_field(label, help_text, question))]
        if question.type == "choice":
            return [(question.id, forms.ChoiceField(
                label=label, required=False, help_text=help_text,
                choices=[("", "—"), *[(c.id, labels.of(c)) for c in question.choices]]))]
        if question.type == "indicators":
            return [(f"{question.id}__{key}", forms.IntegerField(
                label=_("Cible — %(indicator)s") % {"indicator": name}, required=False,
                min_value=0, max_value=10**12 - 1))
                for key, name in labels.call_choices(self.definition, "indicators")]
        if question.type == "table":
            count = min(self.rows.get(question.id, 0) + self.BLANK_ROWS, question.max_rows)
            return [(f"{question.id}__{index}__{column.id}", _cell_field(question, column, index))
                    for index in range(count) for column in question.columns]
        return []  # a file: the documents step

    def _help(self, question) -> str:
        notes = [question.help_en if labels.in_english() and question.help_en else question.help]
        if question.required:
            notes.append(str(_("Réponse attendue pour déposer le dossier.")))
        if question.when is not None:
            asked = self.definition.question(question.when.question)
            answers = [labels.of(c) for c in asked.choices if c.id in question.when.equals]
            notes.append(str(_("Seulement si « %(question)s » : %(answers)s.")
                             % {"question": labels.of(asked), "answers": ", ".join(answers)}))
        return " ".join(note for note in notes if note)

    @staticmethod
    def _answer(question, values: dict):
        if question.type == "indicators":  # None: a target removed
            return {name.rsplit("__", 1)[1]: value for name, value in values.items()}
        if question.type == "table":
            rows: dict[int, dict] = {}
            for name, value in values.items():
                _question, index, column = name.rsplit("__", 2)
                if value not in (None, ""):
                    rows.setdefault(int(index), {})[column] = _plain(value)
            return [rows[index] for index in sorted(rows)]
        (value,) = values.values()
        return None if value in (None, "") else _plain(value)


def _number_field(label, help_text, question):
    bounds = {"min_value": question.minimum, "max_value": question.maximum}
    if question.decimals == 0:
        return forms.IntegerField(label=label, required=False, help_text=help_text,
                                  **{k: int(v) for k, v in bounds.items() if v is not None})
    return forms.DecimalField(label=label, required=False, help_text=help_text,
                              max_digits=14, decimal_places=question.decimals,
                              **{k: v for k, v in bounds.items() if v is not None})


def _cell_field(question, column, index):
    label = _("%(column)s, ligne %(row)s") % {"column": labels.of(column), "row": index + 1}
    if column.type == "number":
        return forms.DecimalField(label=label, required=False, max_digits=14, decimal_places=2)
    return SingleLineField(label=label, required=False, max_length=2000)


def _plain(value):
    """A form's value as an answer is stored: decimals as exact strings."""
    return str(value) if isinstance(value, Decimal) else value


class DocumentForm(DsfrBaseForm):
    kind = forms.ChoiceField(label=_("Pièce"))
    file = forms.FileField(label=_("Fichier PDF (20 Mo au plus)"),
                           validators=[max_size(MAX_DOCUMENT_BYTES)],
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds


class AnnexForm(DsfrBaseForm):
    file = forms.FileField(label=_("Annexe financière remplie (XLSX)"),
                           help_text=_("5 Mo au plus."), validators=[max_size(MAX_ANNEX_BYTES)])


class SubmitForm(DsfrBaseForm):
    confirm = forms.BooleanField(
        label=_("Je certifie l'exactitude des informations et dépose le dossier au nom du "
                "consortium"))



class MessageForm(DsfrBaseForm):
    body = forms.CharField(label=_("Votre message à l'équipe d'instruction"),
                           widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000)
