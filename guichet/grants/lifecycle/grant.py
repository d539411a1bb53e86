"""The grant's states: the only code that writes `Grant.status` (guichet.core.lifecycle).

A grant is created committed (guichet.grants.commitment.commit_grant, when its decision is
published: tranches scheduled, reports due, audit `grant.committed`) and deleted if the decision
is reverted before any payment (release_grant, audit `grant.released`). Transitions and their
side effects (written by the service, in the same transaction):
- committed --sign--> signed (guichet.grants.agreement.sign_agreement, the lead): the signed PDF
  checked, hashed and stored, tranche 1 due, audit `grant.signed`.
- signed --settle--> closed (guichet.grants.payments.record_payment, when its last tranche is
  paid): audit `grant.tranche_paid` for that payment.
- closed --reopen--> signed (guichet.grants.payments.reverse_payment, when a payment of a settled
  grant is reversed): the tranche due again, audit `grant.payment_reversed`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.core.lifecycle import Lifecycle, Transition
from guichet.grants.models import Grant, GrantStatus


class GrantAction(StrEnum):
    SIGN = "sign"
    SETTLE = "settle"
    REOPEN = "reopen"


GRANT = Lifecycle(Grant, _("cette subvention"), GrantAction, (
    Transition(GrantStatus.COMMITTED, GrantAction.SIGN, GrantStatus.SIGNED),
    Transition(GrantStatus.SIGNED, GrantAction.SETTLE, GrantStatus.CLOSED),
    Transition(GrantStatus.CLOSED, GrantAction.REOPEN, GrantStatus.SIGNED),
))


def apply_grant_transition(grant: Grant, action: GrantAction, **fields) -> str:
    return GRANT.apply(grant, action, **fields)
