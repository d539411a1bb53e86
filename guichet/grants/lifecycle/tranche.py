"""The tranche's states: the only code that writes `Tranche.status` (guichet.core.lifecycle).

Tranches are created scheduled with the grant (guichet.grants.commitment.commit_grant), one per
tranche of the call's definition, each with its trigger. Transitions and their side effects
(written by the service, in the same transaction):
- scheduled --make_due--> due (guichet.grants.payments.make_due, its amount fixed): tranche 1
  when the agreement is signed (audit `grant.signed`), tranche 2 when the intermediate report is
  approved (audit `grant.report_reviewed`), the balance when the final report is approved (the
  balance computed, a recovery order issued if it is negative, audit `grant.balance_computed`).
- due --pay--> paid (record_payment): the payment entry, audit `grant.tranche_paid`, the grant
  settled once every tranche is paid.
- paid --reverse--> due (reverse_payment): the reversal entry, a settled grant reopened, audit
  `grant.payment_reversed`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.core.lifecycle import Lifecycle, Transition
from guichet.grants.models import Tranche, TrancheStatus


class TrancheAction(StrEnum):
    MAKE_DUE = "make_due"
    PAY = "pay"
    REVERSE = "reverse"


TRANCHE = Lifecycle(Tranche, _("cette tranche"), TrancheAction, (
    Transition(TrancheStatus.SCHEDULED, TrancheAction.MAKE_DUE, TrancheStatus.DUE),
    Transition(TrancheStatus.DUE, TrancheAction.PAY, TrancheStatus.PAID),
    Transition(TrancheStatus.PAID, TrancheAction.REVERSE, TrancheStatus.DUE),
))


def apply_tranche_transition(tranche: Tranche, action: TrancheAction, **fields) -> str:
    return TRANCHE.apply(tranche, action, **fields)
