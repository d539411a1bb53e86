"""The selection instance (contracts/optimisation.md, "Portfolio selection") as msgspec Structs.

Amounts are read exactly, to the cent: a decimal string, an integer, or a JSON number read as a
decimal (never through a binary float); a Python float handed to `parse_selection_instance` is
refused, since it cannot be read exactly. Scores are finite numbers. Any failure raises
`InstanceError` naming the field.
"""

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec

from guichet.rules.errors import convert_builtins, decode_json
from guichet.rules.money import AmountError, exact_cents

OBJECTIVES = ("score_sum", "score_weighted_aid")


class InstanceError(ValueError):
    """The instance cannot be read: `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class Amount(Decimal):
    """An amount in euros with exactly two decimals, ≥ 0 and at most `money.MAX_AMOUNT`."""

    __slots__ = ()


class Score(float):
    """A finite number (a score or the threshold `min_score`)."""

    __slots__ = ()


Name = Annotated[str, msgspec.Meta(min_length=1)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Candidate(_Strict):
    id: Name
    aid: Amount
    score: Score
    # Values checked by `_check_dossiers`, to name the group (msgspec would say `groups[...]`).
    groups: dict[str, Any] = {}


class Cap(_Strict):
    group: Name
    value: Name
    max_aid: Amount


class Floor(_Strict):
    group: Name
    value: Name
    min_count: Count


class _Document(_Strict):
    """The instance exactly as the contract writes it."""

    budget: Amount
    objective: str
    dossiers: tuple[Candidate, ...]
    min_score: Score | None = None
    caps: tuple[Cap, ...] = ()
    floors: tuple[Floor, ...] = ()
    pinned_in: tuple[Name, ...] = ()
    pinned_out: tuple[Name, ...] = ()


class SelectionInstance(_Document, frozen=True):
    """A checked instance: known objective, unique ids, pins naming dossiers (each once)."""

    notes: tuple[str, ...] = ()  # readable but worth saying (a cap on a group nobody has…)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _amount(value: object) -> Amount:
    if isinstance(value, float):
        raise ValueError("a binary float cannot be read exactly; give the amount as a decimal "
                         "string")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"expected a decimal amount, got {_kind(value)}")
    try:
        return Amount(exact_cents(Decimal(value.strip() if isinstance(value, str) else value)))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    except AmountError as exc:
        raise ValueError(str(exc)) from None


def _score(value: object) -> Score:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the largest float
        number = math.inf
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return Score(number)


def _decode_hook(kind: type, value: object) -> object:
    """msgspec hands `Amount` and `Score` values over as decoded (JSON numbers as `Decimal`)."""
    if kind is Amount:
        return _amount(value)
    if kind is Score:
        return _score(value)
    raise NotImplementedError(kind)


_decoder = msgspec.json.Decoder(_Document, dec_hook=_decode_hook, float_hook=Decimal)


def read_selection_instance(document: bytes | str) -> SelectionInstance:
    """Read a JSON instance (numbers read exactly as `Decimal`) and check it."""
    return _checked(decode_json(_decoder, document, InstanceError))


def parse_selection_instance(data: object) -> SelectionInstance:
    """Check an already decoded instance (amounts as decimal strings, integers or `Decimal`)."""
    return _checked(convert_builtins(data, _Document, InstanceError, dec_hook=_decode_hook))


def _checked(document: _Document) -> SelectionInstance:
    """What types alone cannot say; raise `InstanceError` naming the field."""
    if document.objective not in OBJECTIVES:
        raise InstanceError("objective", f"unknown objective {document.objective!r}; expected "
                            f"one of {', '.join(OBJECTIVES)}")
    known = _check_dossiers(document.dossiers)
    fields = msgspec.structs.asdict(document)
    fields.update(pinned_in=_pins(document.pinned_in, "pinned_in", known),
                  pinned_out=_pins(document.pinned_out, "pinned_out", known))
    return SelectionInstance(**fields, notes=_group_notes(document))


def _check_dossiers(dossiers: tuple[Candidate, ...]) -> dict[str, int]:
    """Group values are non-empty strings and ids unique; return each id's position."""
    seen: dict[str, int] = {}
    for index, dossier in enumerate(dossiers):
        for name, value in dossier.groups.items():
            if not isinstance(value, str) or not value:
                raise InstanceError(f"dossiers[{index}].groups.{name}",
                                    f"expected a non-empty string, got {_kind(value)}")
        if dossier.id in seen:
            raise InstanceError(f"dossiers[{index}].id",
                                f"duplicate id {dossier.id!r} (also dossiers[{seen[dossier.id]}])")
        seen[dossier.id] = index
    return seen


def _pins(names: tuple[str, ...], where: str, known: dict[str, int]) -> tuple[str, ...]:
    for index, name in enumerate(names):
        if name not in known:
            raise InstanceError(f"{where}[{index}]", f"unknown dossier id {name!r}")
    return tuple(dict.fromkeys(names))  # each once, in order


def _group_notes(document: _Document) -> tuple[str, ...]:
    """Caps and floors on a group, or a group value, that no dossier has."""
    values: dict[str, set[str]] = {}
    for dossier in document.dossiers:
        for name, value in dossier.groups.items():
            values.setdefault(name, set()).add(value)
    notes = []
    for kind, items in (("caps", document.caps), ("floors", document.floors)):
        for index, item in enumerate(items):
            if item.group not in values:
                notes.append(f"{kind}[{index}]: no dossier has a group {item.group!r}")
            elif item.value not in values[item.group]:
                notes.append(f"{kind}[{index}]: no dossier has {item.group}={item.value}")
    return tuple(notes)
