"""The API checks what it receives with the portal's own forms: the same limits, choices and
messages as the pages, for every field."""

from django.utils.translation import gettext as _

from guichet.api.problems import Problem


def validated(form):
    """The form once valid; else a 422 naming each field at fault and why."""
    if form.is_valid():
        return form
    errors = [{"field": None if name == "__all__" else name, "detail": str(message)}
              for name, messages in form.errors.items() for message in messages]
    raise Problem(422, _("Des valeurs sont refusées : voyez chaque champ."), code="invalid",
                  field=errors[0]["field"], errors=errors)
