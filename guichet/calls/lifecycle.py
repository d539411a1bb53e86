"""The call's states: the only code that writes `Call.status` (guichet.core.lifecycle).

Transitions and their side effects (written by the service, in the same transaction):
- open --close--> closed (guichet.calls.services.close_call, by an administrator or by itself
  when the programme's envelope runs out): the closing message and instant stored, the open
  wave closed now, the waves not yet open cancelled, audit `call.closed`, every account holder
  mailed after commit.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.calls.models import Call, CallStatus
from guichet.core.lifecycle import Lifecycle, Transition


class CallAction(StrEnum):
    CLOSE = "close"


CALL = Lifecycle(Call, _("cet appel"), CallAction, (
    Transition(CallStatus.OPEN, CallAction.CLOSE, CallStatus.CLOSED),
))


def apply_call_transition(call: Call, action: CallAction, **fields) -> str:
    return CALL.apply(call, action, **fields)
