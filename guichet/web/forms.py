"""The forms of the pages every signed-in person shares."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm


class LanguageForm(DsfrBaseForm):
    language = forms.ChoiceField(
        label=_("Langue des pages et des courriels"), choices=settings.LANGUAGES,
        help_text=_("Les pages, une fois connecté, et tous les courriels qui vous sont "
                    "envoyés."))
