"""Call definitions: the rules of a call as versioned data (a TOML file per call).

A definition is validated when loaded; a wrong or missing value is refused with the file, the
key and the reason, so that no call ever runs on a half-understood rule.
"""

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import tomli_w

from guichet.rules.dossier import MemberKind, Scope
from guichet.rules.errors import split_validation_message
from guichet.rules.money import AmountError, exact_cents
from guichet.rules.sections import (
    Identifier,
    Label,
    Question,
    Section,
    all_questions,
    definition_problems,
)

DEFINITION_FORMAT = "guichet.call/1"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "definitions"
REMAINING = "remaining"  # a wave budget: what remains of the programme envelope
REMAINDER = "remainder"  # a tranche share: the balance

Rate = Decimal  # checked in (0, 1] below: msgspec bounds only ints and floats
CofinancingSource = Literal["own_cash", "own_in_kind", "private", "other_public"]
Rounding = Literal["euro_half_up", "cent_half_up", "cent_down"]


class DefinitionError(ValueError):
    def __init__(self, source: str, key: str, reason: str):
        super().__init__(f"{source}: {key}: {reason}" if key else f"{source}: {reason}")
        self.source, self.key, self.reason = source, key, reason


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class Programme(_Strict):
    id: Identifier
    name: Label
    name_en: Label
    envelope: Decimal


class Wave(_Strict):
    id: Identifier
    name: Label
    name_en: Label
    opens_at: dt.datetime
    closes_at: dt.datetime
    budget: Decimal | None  # None: what remains of the programme envelope


class Funding(_Strict):
    carry_over: bool
    early_closure_threshold: Decimal


class Eligibility(_Strict):
    min_members: Annotated[int, msgspec.Meta(ge=1)]
    leads: Annotated[int, msgspec.Meta(ge=1)]
    allowed_scopes: Annotated[list[Scope], msgspec.Meta(min_length=1)]
    member_kinds: Annotated[list[MemberKind], msgspec.Meta(min_length=1)]
    pooling_required: bool
    max_duration_months: Annotated[int, msgspec.Meta(ge=1)]
    first_results_month: Annotated[int, msgspec.Meta(ge=1)]
    minimum_base: Decimal
    aid_cap_rate: Rate
    aid_cap_rounding: Rounding
    cofinancing_floor: Literal["complement_of_aid_cap"]
    cofinancing_sources: Annotated[list[CofinancingSource], msgspec.Meta(min_length=1)]
    in_kind_cap_rate: Rate
    in_kind_cap_base: Literal["cofinancing", "eligible_base"]
    balanced_plan: bool


class Criterion(_Strict):
    id: Identifier
    label: Label
    label_en: Label
    weight: Decimal


class Selection(_Strict):
    scale_min: int
    scale_max: int
    comment_required_below: int
    reviews_per_dossier: Annotated[int, msgspec.Meta(ge=1)]
    disagreement_spread: Decimal
    min_score: Decimal
    objective: Literal["score_sum", "score_weighted_aid"]
    affinity_sector_weight: Decimal
    affinity_keyword_weight: Decimal
    criteria: Annotated[list[Criterion], msgspec.Meta(min_length=1)]


class Tranche(_Strict):
    id: Identifier
    label: Label
    label_en: Label
    trigger: Literal["agreement_signed", "intermediate_report_approved", "final_report_approved"]
    share: Rate | None  # None: the remainder, recomputed on the final report


class Document(_Strict):
    id: Identifier
    label: Label
    label_en: Label
    required: bool


class Category(_Strict):
    id: Identifier
    label: Label
    label_en: Label


class Sector(_Strict):
    id: Identifier
    label: Label
    label_en: Label


class AttributingBody(_Strict):
    name: Label
    siret: Annotated[str, msgspec.Meta(pattern=r"^\d{14}$")]


class Reporting(_Strict):
    final_report_delay_months: Annotated[int, msgspec.Meta(ge=0, le=24)]
    reminder_days: Annotated[int, msgspec.Meta(ge=0, le=120)]


class PersonalData(_Strict):
    """How long the call keeps its dossiers and the personal data in them (RGPD art. 5.1.e),
    in whole years: after the last payment of a grant, after the decision for a dossier not
    funded (or never submitted: after the call closes)."""

    years_after_last_payment: Annotated[int, msgspec.Meta(ge=1, le=30)] = 10
    years_after_decision: Annotated[int, msgspec.Meta(ge=1, le=30)] = 2


class Indicator(_Strict):
    id: Identifier
    label: Label
    label_en: Label


class CallDefinition(_Strict):
    format: Literal["guichet.call/1"]
    id: Identifier
    rules_version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Label
    name_en: Label
    funder: Label
    operator: Label
    timezone: str
    programme: Programme
    waves: Annotated[list[Wave], msgspec.Meta(min_length=1)]
    funding: Funding
    eligibility: Eligibility
    selection: Selection
    tranches: Annotated[list[Tranche], msgspec.Meta(min_length=1)]
    documents: list[Document]
    expense_categories: Annotated[list[Category], msgspec.Meta(min_length=1)]
    sectors: Annotated[list[Sector], msgspec.Meta(min_length=1)]
    attributing_body: AttributingBody
    reporting: Reporting
    indicators: list[Indicator]
    # None: the call declares no durations (Deffinum's sources give none); the platform's
    # apply, shown as such (`retention`).
    personal_data: PersonalData | None = None
    # The dossier form's own sections for this call (guichet.rules.sections).
    sections: list[Section] = []
    to_confirm: list[str] = []

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def wave(self, wave_id: str) -> Wave:
        return next(wave for wave in self.waves if wave.id == wave_id)

    def section(self, section_id: str) -> Section | None:
        return next((section for section in self.sections if section.id == section_id), None)

    def question(self, question_id: str) -> Question | None:
        return next((question for question in all_questions(self.sections)
                     if question.id == question_id), None)

    @property
    def retention(self) -> PersonalData:
        """The durations the call declares, else the platform's."""
        return self.personal_data or PersonalData()

    @property
    def required_documents(self) -> list[Document]:
        return [document for document in self.documents if document.required]


def load_definition(path: str | Path) -> CallDefinition:
    """Read and validate a call definition file; raise `DefinitionError` naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(str(path), "", f"cannot read the file ({exc})") from None
    return parse_definition(text, source=str(path))


def parse_definition(text: str, source: str = "<definition>") -> CallDefinition:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(source, "", f"not valid TOML ({exc})") from None
    return definition_from_builtins(raw, source)


def definition_from_builtins(raw: dict, source: str = "<definition>") -> CallDefinition:
    """Validate an already decoded definition (TOML tables, or the JSON stored in a database)."""
    zone = _zone(raw.get("timezone"), source)
    try:
        definition = msgspec.convert(_prepared(raw, zone), CallDefinition, strict=True)
    except msgspec.ValidationError as exc:
        raise DefinitionError(source, *split_validation_message(exc)) from None
    for key, reason in _inconsistencies(definition):
        raise DefinitionError(source, key, reason)
    return definition


def definition_to_builtins(definition: CallDefinition) -> dict:
    """A JSON-ready form that `definition_from_builtins` reads back unchanged."""
    return msgspec.to_builtins(definition)


def definition_to_toml(definition: CallDefinition) -> str:
    """The definition as a TOML file that `load_definition` reads back to the same definition.

    TOML has no null: a wave budget of None is written "remaining", a tranche share of None
    "remainder" (as the files say it), and other absent values are left out (their default).
    Instants are written with their offset in the call's zone (2021-08-31T12:00:00+02:00), so
    that no reader has to know the zone to place them.
    """
    raw = definition_to_builtins(definition)
    for wave, struct in zip(raw["waves"], definition.waves, strict=True):
        wave["opens_at"] = struct.opens_at.astimezone(definition.zone)
        wave["closes_at"] = struct.closes_at.astimezone(definition.zone)
        if wave["budget"] is None:
            wave["budget"] = REMAINING
    for tranche in raw["tranches"]:
        if tranche["share"] is None:
            tranche["share"] = REMAINDER
    header = (f"# Call definition {definition.id}, rules version {definition.rules_version} "
              f"({DEFINITION_FORMAT}).\n"
              "# Load it with `guichet loadcall FILE`; check a dossier with "
              "`guichet check --call FILE dossier.json`.\n\n")
    return header + tomli_w.dumps(_without_nulls(raw), multiline_strings=False)


def _without_nulls(value):
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def shipped_definition(call_id: str) -> CallDefinition:
    """The definition shipped with the package for `call_id` (with the real wave dates)."""
    path = SHIPPED_DIR / f"{call_id}.toml"
    if not msgspec.convert(call_id, Identifier, strict=True) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.toml")))
        raise DefinitionError(str(path), "", f"no shipped definition for call {call_id!r} "
                              f"(shipped: {known}); give one with --call")
    return load_definition(path)


def _zone(name, source: str) -> ZoneInfo:
    if not isinstance(name, str):
        raise DefinitionError(source, "timezone", "missing or not a string")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(source, "timezone", f"unknown time zone {name!r}") from None


def _prepared(raw: dict, zone: ZoneInfo) -> dict:
    """TOML local instants are read in the call's zone; "remaining" budgets become None."""
    raw = dict(raw)
    waves = []
    for wave in raw.get("waves", []):
        wave = dict(wave) if isinstance(wave, dict) else wave
        if isinstance(wave, dict):
            for key in ("opens_at", "closes_at"):
                wave[key] = _aware(wave.get(key), zone)
            if wave.get("budget") == REMAINING:
                wave["budget"] = None
        waves.append(wave)
    raw["waves"] = waves
    tranches = []
    for tranche in raw.get("tranches", []):
        if isinstance(tranche, dict) and tranche.get("share") == REMAINDER:
            tranche = {**tranche, "share": None}
        tranches.append(tranche)
    raw["tranches"] = tranches
    return raw


def _aware(value, zone: ZoneInfo):
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # msgspec names the key and the reason
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


def _inconsistencies(definition: CallDefinition):
    """Yield (key, reason) for values that are well typed but do not make sense together."""
    money = {"programme.envelope": definition.programme.envelope,
             "funding.early_closure_threshold": definition.funding.early_closure_threshold,
             "eligibility.minimum_base": definition.eligibility.minimum_base}
    money.update({f"waves[{i}].budget": wave.budget
                  for i, wave in enumerate(definition.waves) if wave.budget is not None})
    for key, amount in money.items():
        try:
            exact_cents(amount)
        except AmountError as exc:
            yield key, f"{exc} (got {amount})"
    yield from _rate_inconsistencies(definition)
    yield from _wave_inconsistencies(definition)
    yield from _unique_ids(definition)
    eligibility = definition.eligibility
    if eligibility.first_results_month > eligibility.max_duration_months:
        yield "eligibility.first_results_month", "must not exceed max_duration_months"
    if eligibility.leads > eligibility.min_members:
        yield "eligibility.leads", "must not exceed min_members"
    selection = definition.selection
    if not selection.scale_min < selection.scale_max:
        yield "selection.scale_max", "must be greater than scale_min"
    if not selection.scale_min <= selection.comment_required_below <= selection.scale_max:
        yield "selection.comment_required_below", "must lie within the scale"
    if not selection.scale_min <= selection.min_score <= selection.scale_max:
        yield "selection.min_score", "must lie within the scale"
    if not selection.disagreement_spread > 0:
        yield "selection.disagreement_spread", "must be positive"
    weights = (selection.affinity_sector_weight, selection.affinity_keyword_weight)
    if any(not w.is_finite() or w < 0 for w in weights) or sum(weights) != 1:
        yield "selection.affinity_keyword_weight", "the two affinity weights add up to 1"
    yield from _tranche_inconsistencies(definition.tranches)
    yield from definition_problems(definition.sections,
                                   [indicator.id for indicator in definition.indicators],
                                   [document.id for document in definition.documents])


def _rate_inconsistencies(definition: CallDefinition):
    rates = {"eligibility.aid_cap_rate": definition.eligibility.aid_cap_rate,
             "eligibility.in_kind_cap_rate": definition.eligibility.in_kind_cap_rate}
    rates.update({f"tranches[{i}].share": tranche.share
                  for i, tranche in enumerate(definition.tranches) if tranche.share is not None})
    for key, rate in rates.items():
        if not (rate.is_finite() and 0 < rate <= 1):
            yield key, f"must be a rate in (0, 1] (got {rate})"
    for i, criterion in enumerate(definition.selection.criteria):
        if not (criterion.weight.is_finite() and criterion.weight > 0):
            yield f"selection.criteria[{i}].weight", f"must be positive (got {criterion.weight})"


def _wave_inconsistencies(definition: CallDefinition):
    previous = None
    for index, wave in enumerate(definition.waves):
        if wave.opens_at >= wave.closes_at:
            yield f"waves[{index}].closes_at", "must be after opens_at"
        if previous is not None and wave.opens_at < previous.closes_at:
            yield f"waves[{index}].opens_at", f"overlaps wave {previous.id!r} (waves are in order)"
        previous = wave
    fixed = sum(wave.budget for wave in definition.waves if wave.budget is not None)
    if fixed > definition.programme.envelope:
        yield "waves", f"wave budgets ({fixed}) exceed the programme envelope"


def _unique_ids(definition: CallDefinition):
    for key, items in (("waves", definition.waves), ("documents", definition.documents),
                       ("tranches", definition.tranches),
                       ("selection.criteria", definition.selection.criteria),
                       ("expense_categories", definition.expense_categories),
                       ("sectors", definition.sectors),
                       ("indicators", definition.indicators)):
        ids = [item.id for item in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            yield key, f"duplicate id {duplicates[0]!r}"


def _tranche_inconsistencies(tranches: list[Tranche]):
    remainders = [i for i, tranche in enumerate(tranches) if tranche.share is None]
    if remainders != [len(tranches) - 1]:
        yield "tranches", 'exactly one tranche, the last, takes the remainder (share = "remainder")'
        return
    fixed = sum(tranche.share for tranche in tranches[:-1])
    if fixed >= 1:
        yield "tranches", f"fixed shares add up to {fixed}, leaving nothing for the balance"

