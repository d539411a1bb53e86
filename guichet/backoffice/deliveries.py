"""The failed deliveries a person may see and retry: those of the calls they administer.

An outbox row names what it is about by primary keys in its payload (a dossier, a grant, a
report…), never by its call; the call is found from there, so that one funder's administrators
never see another funder's mails, addresses or errors. Rows about no call (a person's daily
digest) are for the platform's superusers alone.
"""

from collections import defaultdict

from guichet.calls.models import Call, WebhookEndpoint
from guichet.dossiers.models import Dossier, Invitation, WaveArchive
from guichet.grants.models import Decision, Grant, Payment, Report
from guichet.notifications.models import OutboxMessage, OutboxStatus
from guichet.notifications.selectors import failed_messages
from guichet.review.models import Assignment, CallRole, ExpertProfile, Role

# A payload key -> the model it names and the path from that model to its call.
CALL_PATHS = {
    "dossier": (Dossier, "call_id"),
    "grant": (Grant, "dossier__call_id"),
    "payment": (Payment, "tranche__grant__dossier__call_id"),
    "decision": (Decision, "dossier__call_id"),
    "report": (Report, "grant__dossier__call_id"),
    "assignment": (Assignment, "dossier__call_id"),
    "expert": (ExpertProfile, "call_id"),
    "archive": (WaveArchive, "wave__call_id"),
    "invitation": (Invitation, "consortium__dossiers__call_id"),
    "endpoint": (WebhookEndpoint, "call_id"),
}
CALL_KEYS = ("call", "call_pk")


def _subject(message: OutboxMessage) -> tuple[str, int] | None:
    """The (payload key, primary key) the row is about, the call itself first."""
    context = message.payload.get("context", message.payload)
    for key in (*CALL_KEYS, *CALL_PATHS):
        value = context.get(key)
        if isinstance(value, int):
            return key, value
    return None


def calls_of(messages: list[OutboxMessage]) -> dict[int, int | None]:
    """Each row's call id (None when it is about no call), in one query per kind of subject."""
    wanted = defaultdict(set)
    subjects = {message.pk: _subject(message) for message in messages}
    for subject in subjects.values():
        if subject and subject[0] in CALL_PATHS:
            wanted[subject[0]].add(subject[1])
    found = {}
    for key, pks in wanted.items():
        model, path = CALL_PATHS[key]
        found[key] = dict(model.objects.filter(pk__in=pks).values_list("pk", path))
    return {pk: (subject[1] if subject[0] in CALL_KEYS else found[subject[0]].get(subject[1]))
            if subject else None
            for pk, subject in subjects.items()}


def _administered(user) -> set[int]:
    return set(CallRole.objects.filter(user=user, role=Role.ADMINISTRATOR)
               .values_list("call_id", flat=True))


def visible_to(user, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """The rows of `messages` that `user` may see: all for a superuser, else those of a call
    they administer."""
    if user.is_superuser:
        return messages
    mine = _administered(user)
    calls = calls_of(messages)
    return [message for message in messages if calls[message.pk] in mine]


def failed_deliveries(user, limit: int = 200) -> list[OutboxMessage]:
    """The most recent failed rows that `user` may see and retry, each with its `label`."""
    return visible_to(user, failed_messages(limit=None))[:limit]


def delivery_of(user, pk: int) -> OutboxMessage | None:
    """The outbox row `pk` if `user` may handle it, whatever its status; else None."""
    message = OutboxMessage.objects.filter(pk=pk).first()
    return message if message and visible_to(user, [message]) else None


def webhook_log(call: Call, recent: int = 10) -> list[WebhookEndpoint]:
    """The call's endpoints, each with its `recent` deliveries (with what the endpoint
    answered) and the deliveries still `waiting` (pending or failed, with their last error)."""
    endpoints = list(call.webhooks.order_by("-active", "-created_at"))
    for endpoint in endpoints:
        endpoint.recent = list(endpoint.deliveries.all()[:recent])
        waiting = OutboxMessage.objects.filter(
            task="webhook", payload__endpoint=endpoint.pk,
            status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED))
        endpoint.waiting = list(waiting.order_by("-created_at")[:recent])
    return endpoints
