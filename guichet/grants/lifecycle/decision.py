"""The decision's states: the only code that writes `Decision.status` (guichet.core.lifecycle).

A decision is created pending (guichet.grants.decisions.prepare_decision, audit
`decision.prepared`; preparing again deletes the pending one). Transitions and their side
effects (written by the service, in the same transaction):
- pending --publish--> published (publish_decisions, every pending decision of a wave at one
  instant): the dossier moves to the outcome's state, a selected aid is committed against the
  envelopes (guichet.grants.commitment.commit_grant: the grant, its tranches and reports, audit
  `grant.committed`, the call closed if the programme is exhausted), audit `decision.published`,
  participants mailed the decision letter after commit.
- published --revert--> reverted (revert_decision, an administrator, with a motivation): the
  grant released (refused once money was paid; audit `grant.released`), the dossier back to
  instructed, audit `decision.reverted`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.core.lifecycle import Lifecycle, Transition
from guichet.grants.models import Decision, DecisionStatus


class DecisionAction(StrEnum):
    PUBLISH = "publish"
    REVERT = "revert"


DECISION = Lifecycle(Decision, _("cette décision"), DecisionAction, (
    Transition(DecisionStatus.PENDING, DecisionAction.PUBLISH, DecisionStatus.PUBLISHED),
    Transition(DecisionStatus.PUBLISHED, DecisionAction.REVERT, DecisionStatus.REVERTED),
))


def apply_decision_transition(decision: Decision, action: DecisionAction, **fields) -> str:
    return DECISION.apply(decision, action, **fields)
