"""The steps of a dossier's form, shared by the applicant's portal (which shows them) and the
call editor's preview (which shows what an applicant will see)."""

from django.utils.translation import gettext_lazy as _

from guichet.core import labels

# The steps of every dossier's form; the call's own sections come between the two.
STEPS_BEFORE_SECTIONS = [
    ("projet", _("Projet")), ("consortium", _("Consortium")), ("calendrier", _("Calendrier")),
    ("budget", _("Budget")), ("financement", _("Plan de financement")),
]
STEPS_AFTER_SECTIONS = [("documents", _("Pièces")), ("depot", _("Dépôt"))]


def steps_of(definition) -> list[tuple[str, str]]:
    """The steps of the form of a dossier of the call `definition`, as (id, label)."""
    sections = [(section.id, labels.of(section)) for section in definition.sections]
    return [*STEPS_BEFORE_SECTIONS, *sections, *STEPS_AFTER_SECTIONS]
