"""The dossier interchange format, version 1 (contracts/dossier-format.md).

Parsing is strict: amounts are read exactly as `Decimal` (never through a float), with whole
cents and no negatives; unknown fields and unknown formats are refused with the field named.
Missing sections are allowed (a draft is incomplete, not unreadable): the `complete` rule of the
eligibility engine lists them.
"""

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from guichet.rules.errors import convert_builtins, decode_json
from guichet.rules.money import AmountError, exact_cents

FORMAT_ID = "guichet.dossier/1"

SCOPES = ("national", "interregional", "regional", "local")
MEMBER_KINDS = (
    "training_network", "cfa_network", "school", "branch", "opco", "training_operator",
    "company", "content_publisher", "edtech", "siae", "research_lab", "other",
)
MILESTONE_KINDS = ("first_results", "intermediate", "final", "other")
FINANCING_SOURCES = ("aid", "own_cash", "own_in_kind", "private", "other_public")
AID, OWN_CASH, OWN_IN_KIND, PRIVATE, OTHER_PUBLIC = FINANCING_SOURCES
# A member's own contributions: each line names the member who brings it.
MEMBER_CONTRIBUTIONS = (OWN_CASH, OWN_IN_KIND)

Scope = Literal["national", "interregional", "regional", "local"]
MemberKind = Literal[
    "training_network", "cfa_network", "school", "branch", "opco", "training_operator",
    "company", "content_publisher", "edtech", "siae", "research_lab", "other",
]
MilestoneKind = Literal["first_results", "intermediate", "final", "other"]
FinancingSource = Literal["aid", "own_cash", "own_in_kind", "private", "other_public"]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Month = Annotated[int, msgspec.Meta(ge=1, le=1200)]
# Dates and instants the platform computes with (report due dates run up to 1 200 months after
# the start; instants are shown in Europe/Paris): far enough from the calendar's limits (years
# 1 and 9999) that no arithmetic on them can leave it.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


class DossierFormatError(ValueError):
    """The document cannot be read as a dossier: `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Member(_Strict):
    siret: str
    name: Text
    kind: MemberKind
    lead: bool = False


class Milestone(_Strict):
    month: Month
    kind: MilestoneKind
    label: Text


class Expense(_Strict):
    member: str
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    label: Text
    amount: Decimal
    eligible: bool


class Financing(_Strict):
    source: FinancingSource
    amount: Decimal
    member: str | None = None


class Dossier(_Strict):
    format: Literal["guichet.dossier/1"]
    call: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    title: Text | None = None
    summary: Text | None = None
    scope: Scope | None = None
    pooling_commitment: bool | None = None
    start_date: dt.date | None = None
    duration_months: Month | None = None
    members: list[Member] = []
    milestones: list[Milestone] = []
    expenses: list[Expense] = []
    financing: list[Financing] = []
    submitted_at: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None
    # A dossier re-submitted after a correction round: `submitted_at` is this version's receipt
    # instant, `first_submitted_at` the first receipt's (the one the deadline is judged on).
    first_submitted_at: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None
    # The answers to the call's own questions (guichet.rules.sections), by question id; read
    # against the call's definition by `eligibility.checked_answers`. Absent when there are
    # none, so that a dossier without them reads and hashes as before sections existed.
    answers: Annotated[dict[str, Any], msgspec.Meta(
        description="Answers to the call's own questions, by question id (see the call's "
                    "definition, `sections`): text, a choice's id, a number (a string when "
                    "it has decimals), {indicator: target} or a table's rows.")
    ] | msgspec.UnsetType = msgspec.UNSET


# A number typed with decimals is read exactly, never through a float.
_decoder = msgspec.json.Decoder(Dossier, float_hook=Decimal)
_encoder = msgspec.json.Encoder(order="sorted", decimal_format="string")


def parse_dossier(document: bytes | str) -> Dossier:
    """Read a JSON document as a dossier, or raise `DossierFormatError` naming the field."""
    dossier = decode_json(_decoder, document, DossierFormatError)
    raw = document.encode() if isinstance(document, str) else document
    # JSON carries a NUL only as the escape \u0000: look for the fields only when it is there.
    return normalise(dossier, may_hold_nul=b"\\u0000" in raw)


def dossier_from_builtins(data: dict) -> Dossier:
    """Same as `parse_dossier` for an already decoded mapping (amounts as strings or Decimal)."""
    return normalise(convert_builtins(data, Dossier, DossierFormatError, strict=True))


def normalise(dossier: Dossier, *, may_hold_nul: bool = True) -> Dossier:
    """Check what types alone cannot say; amounts become exact two-decimal values."""
    if may_hold_nul:
        _refuse_nul_characters(dossier)
    # Blank text is missing text: a title of spaces (any Unicode whitespace) is no title.
    if dossier.title is not None and not dossier.title.strip():
        dossier.title = None
    if dossier.summary is not None and not dossier.summary.strip():
        dossier.summary = None
    if dossier.start_date is not None:
        check_date("start_date", dossier.start_date)
    if dossier.submitted_at is not None:
        check_date("submitted_at", dossier.submitted_at)
    if dossier.first_submitted_at is not None:
        _check_first_receipt(dossier.first_submitted_at, dossier.submitted_at)
    sirets = {member.siret for member in dossier.members}
    for index, expense in enumerate(dossier.expenses):
        expense.amount = _cents(expense.amount, f"expenses[{index}].amount")
        if expense.member not in sirets:
            raise DossierFormatError(
                f"expenses[{index}].member", f"{expense.member!r} is not a member's SIRET"
            )
    for index, line in enumerate(dossier.financing):
        line.amount = _cents(line.amount, f"financing[{index}].amount")
        if line.member is not None and line.member not in sirets:
            raise DossierFormatError(
                f"financing[{index}].member", f"{line.member!r} is not a member's SIRET"
            )
    return dossier


def check_date(field: str, value: dt.date | dt.datetime) -> None:
    """Refuse a date (or an instant, by its own calendar date) outside the platform's range."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise DossierFormatError(field, f"{value.isoformat()} is out of range "
                                 f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})")


def _check_first_receipt(first: dt.datetime, latest: dt.datetime | None) -> None:
    check_date("first_submitted_at", first)
    if latest is None:
        raise DossierFormatError("first_submitted_at", "given without submitted_at")
    if first > latest:
        raise DossierFormatError("first_submitted_at", "after submitted_at")


def _refuse_nul_characters(dossier: Dossier) -> None:
    """A NUL character is no text (and no database stores it): refuse it where it hides."""
    texts = [("title", dossier.title), ("summary", dossier.summary)]
    texts += [(f"members[{i}].name", m.name) for i, m in enumerate(dossier.members)]
    texts += [(f"milestones[{i}].label", m.label) for i, m in enumerate(dossier.milestones)]
    texts += [(f"expenses[{i}].{name}", getattr(e, name)) for i, e in enumerate(dossier.expenses)
              for name in ("label", "category")]
    for field, text in texts:
        if text and "\x00" in text:
            raise DossierFormatError(field, "contains a NUL character")


def _cents(amount: Decimal, field: str) -> Decimal:
    try:
        return exact_cents(amount)
    except AmountError as exc:
        raise DossierFormatError(field, str(exc)) from None


def canonical_json(dossier: Dossier) -> bytes:
    """The canonical form: sorted keys, no spaces, UTF-8, amounts as two-decimal strings."""
    return _encoder.encode(dossier)


def sha256_hex(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def dossier_to_builtins(dossier: Dossier) -> dict:
    return msgspec.to_builtins(dossier, order="sorted")


def json_schema() -> dict:
    """The published JSON Schema of the format."""
    return msgspec.json.schema(Dossier)
