"""What-if on a call's thresholds: which frozen dossiers would change verdict if the minimum
eligible base, the maximum aid rate or the in-kind cap were different.

Pure: it reads frozen dossiers and their frozen verdicts, evaluates them against a modified
copy of the call definition, and returns the comparison; nothing is written anywhere."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from guichet.rules.definition import CallDefinition
from guichet.rules.dossier import Dossier
from guichet.rules.eligibility import evaluate

# The rules whose outcome depends on the three thresholds (and on nothing else they change).
THRESHOLD_RULES = frozenset({"minimum_base", "aid_cap", "cofinancing", "in_kind_cap"})


class ThresholdError(ValueError):
    """A threshold out of bounds; `field` names it."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Thresholds:
    minimum_base: Decimal
    aid_cap_rate: Decimal
    in_kind_cap_rate: Decimal


@dataclass(frozen=True)
class FrozenDossier:
    key: str
    dossier: Dossier
    failed: frozenset[str]  # the rules its frozen verdict failed
    aid: Decimal  # the aid it requests


@dataclass(frozen=True)
class Change:
    key: str
    eligible_before: bool
    eligible_after: bool
    failed_after: tuple[str, ...]
    aid: Decimal


@dataclass(frozen=True)
class WhatIf:
    changes: list[Change]  # only the dossiers whose verdict changes
    eligible_before: int
    eligible_after: int
    aid_before: Decimal  # aid requested by the eligible dossiers
    aid_after: Decimal


def thresholds_of(definition: CallDefinition) -> Thresholds:
    rules = definition.eligibility
    return Thresholds(rules.minimum_base, rules.aid_cap_rate, rules.in_kind_cap_rate)


def with_thresholds(definition: CallDefinition, thresholds: Thresholds) -> CallDefinition:
    """A copy of the definition with other thresholds (the definition itself is immutable)."""
    if not (thresholds.minimum_base.is_finite() and thresholds.minimum_base >= 0):
        raise ThresholdError("minimum_base")
    for name in ("aid_cap_rate", "in_kind_cap_rate"):
        rate = getattr(thresholds, name)
        if not (rate.is_finite() and 0 < rate <= 1):
            raise ThresholdError(name)
    eligibility = msgspec.structs.replace(
        definition.eligibility, minimum_base=thresholds.minimum_base,
        aid_cap_rate=thresholds.aid_cap_rate, in_kind_cap_rate=thresholds.in_kind_cap_rate)
    return msgspec.structs.replace(definition, eligibility=eligibility)


def what_if(dossiers: Iterable[FrozenDossier], definition: CallDefinition,
            thresholds: Thresholds) -> WhatIf:
    """Each dossier keeps the outcome of its frozen verdict on every rule the thresholds do not
    touch; the rules they touch are evaluated again under the modified definition."""
    modified = with_thresholds(definition, thresholds)
    changes, before, after = [], [], []
    for frozen in dossiers:
        verdict = evaluate(frozen.dossier, modified)
        failed = (frozen.failed - THRESHOLD_RULES) | {
            rule for rule in verdict.failed if rule in THRESHOLD_RULES}
        was, becomes = not frozen.failed, not failed
        before += [frozen.aid] if was else []
        after += [frozen.aid] if becomes else []
        if was != becomes:
            changes.append(Change(frozen.key, was, becomes, tuple(sorted(failed)), frozen.aid))
    return WhatIf(changes, len(before), len(after), sum(before, Decimal(0)),
                  sum(after, Decimal(0)))
