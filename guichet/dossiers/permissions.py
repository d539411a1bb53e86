"""Who may do what on a dossier: declarative predicates (django-rules).

Participants are the people affiliated to an organisation that is a confirmed member of the
dossier's consortium; the lead is a participant of the lead organisation. Views also scope
their querysets to the user's dossiers, so that another consortium's dossier is a 404.
"""

import rules

from guichet.dossiers.models import (
    ConsortiumMember,
    Dossier,
    DossierStatus,
    ExpenseLine,
    FinancingLine,
)


def participant_members(user, dossier: Dossier):
    return ConsortiumMember.objects.filter(
        consortium_id=dossier.consortium_id, confirmed_at__isnull=False,
        organisation__affiliations__user=user)


@rules.predicate
def is_participant(user, dossier: Dossier) -> bool:
    return user.is_authenticated and participant_members(user, dossier).exists()


@rules.predicate
def is_lead(user, dossier: Dossier) -> bool:
    return user.is_authenticated and participant_members(user, dossier).filter(
        is_lead=True).exists()


EDITABLE_STATUSES = (DossierStatus.DRAFT, DossierStatus.CORRECTION_REQUESTED)


@rules.predicate
def is_draft(user, dossier: Dossier) -> bool:
    """Editable by the applicants: a draft, or a dossier sent back for corrections."""
    return dossier.status in EDITABLE_STATUSES


@rules.predicate
def is_line_of_own_organisation(user, line: ExpenseLine | FinancingLine) -> bool:
    return line.member_id is not None and participant_members(user, line.dossier).filter(
        pk=line.member_id).exists()


@rules.predicate
def line_dossier_is_draft(user, line) -> bool:
    return line.dossier.status in EDITABLE_STATUSES


@rules.predicate
def is_lead_of_line_dossier(user, line) -> bool:
    return is_lead(user, line.dossier)


rules.add_perm("dossiers.view_dossier", is_participant)
rules.add_perm("dossiers.edit_project", is_lead & is_draft)
rules.add_perm("dossiers.invite_member", is_lead & is_draft)
rules.add_perm("dossiers.add_line", is_participant & is_draft)
rules.add_perm("dossiers.edit_line",
               line_dossier_is_draft & (is_lead_of_line_dossier | is_line_of_own_organisation))
rules.add_perm("dossiers.import_annex", is_lead & is_draft)
rules.add_perm("dossiers.upload_document", is_participant & is_draft)
rules.add_perm("dossiers.submit_dossier", is_lead & is_draft)
