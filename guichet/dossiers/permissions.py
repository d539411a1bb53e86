"""Who may do what on a dossier: declarative predicates (django-rules).

Participants are the people with a `Participant` record for a member of the dossier's
consortium: the person who created the dossier, the people who accepted the lead's invitation,
and the account an operator named on import. Acting for a member organisation (an affiliation)
grants nothing here: a SIRET is public. The lead is a participant of the lead member. Views
also scope their querysets to the user's dossiers, so that another consortium's dossier is a
404.
"""

import rules

from guichet.dossiers.models import (
    ConsortiumMember,
    Document,
    Dossier,
    DossierStatus,
    ExpenseLine,
    FinancingLine,
)


def participant_members(user, dossier: Dossier):
    """The members of the dossier's consortium the user takes part in (usually one)."""
    if user.pk is None:  # anonymous: `participants__user_id=None` would match members without one
        return ConsortiumMember.objects.none()
    return ConsortiumMember.objects.filter(consortium_id=dossier.consortium_id,
                                           participants__user_id=user.pk)


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
def parent_dossier_is_draft(user, item: ExpenseLine | FinancingLine | Document) -> bool:
    return item.dossier.status in EDITABLE_STATUSES


@rules.predicate
def is_lead_of_parent_dossier(user, item: ExpenseLine | FinancingLine | Document) -> bool:
    return is_lead(user, item.dossier)


@rules.predicate
def is_uploader(user, document: Document) -> bool:
    return (user.is_authenticated and document.uploaded_by_id == user.pk
            and is_participant(user, document.dossier))


rules.add_perm("dossiers.view_dossier", is_participant)
rules.add_perm("dossiers.edit_project", is_lead & is_draft)
rules.add_perm("dossiers.invite_member", is_lead & is_draft)
rules.add_perm("dossiers.revoke_invitation", is_lead)
rules.add_perm("dossiers.add_line", is_participant & is_draft)
rules.add_perm("dossiers.edit_line",
               parent_dossier_is_draft & (is_lead_of_parent_dossier | is_line_of_own_organisation))
rules.add_perm("dossiers.import_annex", is_lead & is_draft)
rules.add_perm("dossiers.upload_document", is_participant & is_draft)
rules.add_perm("dossiers.remove_document",
               parent_dossier_is_draft & (is_lead_of_parent_dossier | is_uploader))
rules.add_perm("dossiers.submit_dossier", is_lead & is_draft)
