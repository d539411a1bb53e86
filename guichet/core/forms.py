"""The one form renderer of the project."""

from dsfr.forms import DsfrDjangoTemplates


class SharedDsfrRenderer(DsfrDjangoTemplates):
    """DSFR's form templates, rendered by one engine per process.

    Left to itself, django-dsfr gives every form a new renderer, hence a new template engine
    whose cache starts empty: each form on a page parsed its templates again (about a third of
    the staff dossier page's CPU). Named in FORM_RENDERER, it is built once
    (`get_default_renderer` caches it) and DSFR's forms use it.
    """
