"""The forms of the pages every signed-in person shares."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from guichet.accounts.models import TokenScope
from guichet.core.fields import SingleLineField


class LanguageForm(DsfrBaseForm):
    language = forms.ChoiceField(
        label=_("Langue des pages et des courriels"), choices=settings.LANGUAGES,
        help_text=_("Les pages, une fois connecté, et tous les courriels qui vous sont "
                    "envoyés."))


class ApiTokenForm(DsfrBaseForm):
    name = SingleLineField(label=_("Nom du jeton"), max_length=80,
                           help_text=_("Pour le reconnaître, ex. « Logiciel financier »."))
    scope = forms.ChoiceField(label=_("Portée"), choices=TokenScope.choices,
                              initial=TokenScope.READ, widget=forms.RadioSelect)
