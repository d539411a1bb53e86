"""The applicant's forms (State design system markup through django-dsfr)."""


from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.core import labels
from guichet.core.fields import AmountField, DateField, SingleLineField
from guichet.core.uploads import max_size
from guichet.dossiers.annex.schema import MAX_ANNEX_BYTES
from guichet.dossiers.pdf_check import MAX_DOCUMENT_BYTES


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


class HybridProfileForm(VersionedForm):
    synchronous_share = forms.IntegerField(label=_("Temps synchrone (%)"), required=False,
                                           min_value=0, max_value=100)
    asynchronous_share = forms.IntegerField(label=_("Temps asynchrone (%)"), required=False,
                                            min_value=0, max_value=100)
    in_person_share = forms.IntegerField(label=_("En présentiel, centre ou tiers-lieu (%)"),
                                         required=False, min_value=0, max_value=100)
    distance_share = forms.IntegerField(label=_("À distance (%)"), required=False, min_value=0,
                                        max_value=100)
    work_situation_share = forms.IntegerField(label=_("En situation de travail, AFEST (%)"),
                                              required=False, min_value=0, max_value=100)
    immersive_tools = forms.CharField(label=_("Outils immersifs"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    positioning_tools = forms.CharField(label=_("Outils numériques de positionnement"),
                                        required=False, widget=forms.Textarea(attrs={"rows": 2}))
    learners_targeted = forms.CharField(label=_("Publics visés"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    trades_targeted = forms.CharField(label=_("Métiers visés"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        for indicator_id, label in indicators:
            self.fields[f"target_{indicator_id}"] = forms.IntegerField(
                label=_("Cible — %(indicator)s") % {"indicator": label}, required=False,
                min_value=0)

    def indicator_targets(self) -> dict[str, int]:
        return {name.removeprefix("target_"): value for name, value in self.cleaned_data.items()
                if name.startswith("target_") and value is not None}

    def clean(self):
        data = super().clean()
        for pair, message in (
            (("synchronous_share", "asynchronous_share"),
             _("Les temps synchrone et asynchrone doivent totaliser 100 %.")),
            (("in_person_share", "distance_share", "work_situation_share"),
             _("Présentiel, distance et situation de travail doivent totaliser 100 %.")),
        ):
            values = [data.get(name) for name in pair]
            if all(v is not None for v in values) and sum(values) != 100:
                self.add_error(pair[-1], message)
        return data


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
