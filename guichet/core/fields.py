"""Parsing what people type or post: form fields and small parsers shared by the portal, the
back office and their list filters, so that odd input (NaN, a NUL, "²", 5 000 digits) is
refused the same way everywhere and never reaches the database or a solver."""

import re
from decimal import Decimal

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from guichet.core.text import has_control_characters, single_line_message
from guichet.rules.dossier import EARLIEST_DATE, LATEST_DATE
from guichet.rules.money import AmountError, exact_cents

# Typed euros: ASCII digits with a decimal comma or dot (spaces between groups are removed
# first); whole cents are checked after. No sign, exponent, NaN, infinity or non-ASCII digit.
_TYPED_AMOUNT = re.compile(r"(?=[.,]?[0-9])[0-9]{0,15}(?:[.,][0-9]{0,10})?")
# A database id: ASCII digits (str.isdigit() also says yes to "²"), within a 64-bit key.
_ID = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1
# A code of the call definitions (wave, sector…): what `rules.definition.Identifier` allows.
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
AMOUNT_MESSAGE = _("Saisissez un montant positif en euros, au centime près (ex. 1 234,50).")


def parse_typed_amount(value) -> Decimal:
    """Euros as people type them ("1 234,50", "1234.50") as exact cents, or ValidationError."""
    cleaned = "".join(str(value).split())
    if not _TYPED_AMOUNT.fullmatch(cleaned):
        raise forms.ValidationError(AMOUNT_MESSAGE, code="amount")
    try:
        return exact_cents(Decimal(cleaned.replace(",", ".")))
    except AmountError:
        raise forms.ValidationError(AMOUNT_MESSAGE, code="amount") from None


def parse_id(value) -> int | None:
    """A posted or queried database id, or None when the text is not one."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def id_or_404(value) -> int:
    """`parse_id`, for views: a malformed id names no object, hence a 404 (never a 500)."""
    number = parse_id(value)
    if number is None:
        raise Http404
    return number


def code_or_404(value) -> str:
    """A posted code of the call's definition (a wave…); anything else names nothing: 404."""
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise Http404
    return value


class AmountField(forms.Field):
    """Euros to the cent; accepts "1 234,50" and "1234.50"; never goes through a float."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                    "maxlength": 24})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_typed_amount(value)


class _Bounded:
    """A date or instant within the platform's range (`rules.dossier.EARLIEST_DATE` to
    `LATEST_DATE`): year 1 or 9999 would overflow as soon as it is shown in Paris or moved."""

    def validate(self, value):
        super().validate(value)
        day = value.date() if hasattr(value, "date") else value
        if value is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise forms.ValidationError(
                _("Saisissez une date entre le %(earliest)s et le %(latest)s.")
                % {"earliest": f"{EARLIEST_DATE:%d/%m/%Y}", "latest": f"{LATEST_DATE:%d/%m/%Y}"},
                code="date_range")


class DateField(_Bounded, forms.DateField):
    pass


class DateTimeField(_Bounded, forms.DateTimeField):
    pass


class SingleLineField(forms.CharField):
    """Text on one line: line breaks, tabs and other control characters are refused, with a
    message naming the field (they would break mail subjects and documents)."""

    def validate(self, value):
        super().validate(value)
        if value and has_control_characters(value):
            raise forms.ValidationError(single_line_message(str(self.label)),
                                        code="control_characters")
