"""Form fields shared by the portal and the back office."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from guichet.core.text import has_control_characters, single_line_message
from guichet.rules.money import AmountError, exact_cents


class AmountField(forms.Field):
    """Euros to the cent; accepts "1 234,50" and "1234.50"; never goes through a float."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                    "maxlength": 24})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        cleaned = "".join(str(value).split()).replace(",", ".")
        try:
            return exact_cents(Decimal(cleaned))
        except (AmountError, ArithmeticError, ValueError):
            raise forms.ValidationError(
                _("Saisissez un montant positif en euros, au centime près (ex. 1 234,50)."),
                code="amount") from None


class SingleLineField(forms.CharField):
    """Text on one line: line breaks, tabs and other control characters are refused, with a
    message naming the field (they would break mail subjects and documents)."""

    def validate(self, value):
        super().validate(value)
        if value and has_control_characters(value):
            raise forms.ValidationError(single_line_message(str(self.label)),
                                        code="control_characters")
