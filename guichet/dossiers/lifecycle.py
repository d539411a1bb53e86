"""The dossier's states: the only code that writes `Dossier.status` (guichet.core.lifecycle).

Transitions and their side effects (written by the service, in the same transaction):
- draft --submit--> submitted (guichet.dossiers.services.submit): frozen snapshot and its
  SHA-256, receipt number and wave, audit `dossier.submitted`, receipt mailed after commit.
- correction_requested --resubmit--> submitted (submit): a new snapshot version keeping the
  receipt number and wave, the correction request answered, audit `dossier.submitted`, receipt.
- submitted|instructed --instruct--> instructed (guichet.review.instruction.record_instruction):
  the instruction record (with the motivation of any override), audit `dossier.instructed`.
- submitted|instructed --request_correction--> correction_requested (request_correction): the
  correction request with its deadline, audit `dossier.correction_requested`, participants
  mailed after commit.
- instructed --select|reject|redirect--> selected|rejected|redirected
  (guichet.grants.decisions.publish_decisions): the decision published, the grant committed for
  a selection (guichet.grants.commitment.commit_grant, which may close the call early), audit
  `decision.published`, participants mailed the decision letter after commit.
- selected|rejected|redirected --revert_decision--> instructed (revert_decision): the grant
  released, audit `decision.reverted`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.core.lifecycle import Lifecycle, Transition
from guichet.dossiers.models import Dossier, DossierStatus


class DossierAction(StrEnum):
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    INSTRUCT = "instruct"
    REQUEST_CORRECTION = "request_correction"
    SELECT = "select"
    REJECT = "reject"
    REDIRECT = "redirect"
    REVERT_DECISION = "revert_decision"


S, A = DossierStatus, DossierAction
DOSSIER = Lifecycle(Dossier, _("ce dossier"), DossierAction, (
    Transition(S.DRAFT, A.SUBMIT, S.SUBMITTED),
    Transition(S.CORRECTION_REQUESTED, A.RESUBMIT, S.SUBMITTED),
    Transition(S.SUBMITTED, A.INSTRUCT, S.INSTRUCTED),
    Transition(S.INSTRUCTED, A.INSTRUCT, S.INSTRUCTED),
    Transition(S.SUBMITTED, A.REQUEST_CORRECTION, S.CORRECTION_REQUESTED),
    Transition(S.INSTRUCTED, A.REQUEST_CORRECTION, S.CORRECTION_REQUESTED),
    Transition(S.INSTRUCTED, A.SELECT, S.SELECTED),
    Transition(S.INSTRUCTED, A.REJECT, S.REJECTED),
    Transition(S.INSTRUCTED, A.REDIRECT, S.REDIRECTED),
    Transition(S.SELECTED, A.REVERT_DECISION, S.INSTRUCTED),
    Transition(S.REJECTED, A.REVERT_DECISION, S.INSTRUCTED),
    Transition(S.REDIRECTED, A.REVERT_DECISION, S.INSTRUCTED),
))


def apply_dossier_transition(dossier: Dossier, action: DossierAction, **fields) -> str:
    """Move the dossier by `action` (refused if the table does not allow it), writing `fields`
    with its new status."""
    return DOSSIER.apply(dossier, action, **fields)
