"""State machines of the stateful objects: a table of allowed transitions and the one function
that applies them.

Each stateful model (dossier, decision, grant, tranche, report) has one module that declares
its `Lifecycle`: its transitions, as `Transition(source, action, target)` records. Calling the
lifecycle's `apply` is the only way the code changes that model's status (an AST test,
tests/core/test_state_ownership.py, holds every other module to it): it refuses a transition that is
not in the table with a `TransitionRefused` naming the object and its state, and writes the new
status (with the other fields the service changes at the same time) only if the row is still
in the state the service read, so that a concurrent change is refused, never overwritten.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext as _

from guichet.core.errors import ServiceError


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str


class TransitionRefused(ServiceError):
    code = "transition_refused"


class Lifecycle:
    """The allowed transitions of one model's `status` field."""

    def __init__(self, model: type[models.Model], noun, actions: type[StrEnum],
                 transitions: Iterable[Transition]):
        self.model = model
        self.noun = noun  # e.g. "ce dossier": how a refusal names the object, in French
        self.actions = actions
        self.transitions = tuple(transitions)
        self.table = {(t.source, t.action): t.target for t in self.transitions}
        if len(self.table) != len(self.transitions):
            raise ValueError(f"{model.__name__}: one (status, action) has two targets")
        statuses = set(self.statuses)
        unknown = {s for t in self.transitions for s in (t.source, t.target)} - statuses
        unknown_actions = {t.action for t in self.transitions} - set(actions)
        if unknown or unknown_actions:
            raise ValueError(f"{model.__name__}: unknown {sorted(unknown | unknown_actions)}")

    @property
    def statuses(self) -> list[str]:
        return [value for value, _label in self.model._meta.get_field("status").choices]

    def target(self, source: str, action: str) -> str:
        """The status `action` leads to from `source`; refused when the table has no such
        transition."""
        try:
            return self.table[(source, action)]
        except KeyError:
            raise TransitionRefused(self._refusal(source), details={
                "model": self.model._meta.label_lower, "status": source,
                "action": str(action)}) from None

    def allows(self, source: str, action: str) -> bool:
        return (source, action) in self.table

    def apply(self, instance: models.Model, action: str, **fields) -> str:
        """Move `instance` by `action`, writing its new status and `fields` in one UPDATE
        conditioned on the status it had; the instance is updated in memory too."""
        source = instance.status
        target = self.target(source, action)
        written = self.model.objects.filter(pk=instance.pk, status=source).update(
            status=target, **fields)
        if written != 1:
            current = self.model.objects.filter(pk=instance.pk).values_list(
                "status", flat=True).first()
            raise TransitionRefused(self._refusal(current or source), details={
                "model": self.model._meta.label_lower, "status": current,
                "action": str(action)})
        instance.status = target
        for name, value in fields.items():
            setattr(instance, name, value)
        return target

    def _refusal(self, status: str) -> str:
        label = dict(self.model._meta.get_field("status").choices).get(status, status)
        return _("Action impossible : %(object)s est à l'état « %(status)s ».") % {
            "object": self.noun, "status": label}
