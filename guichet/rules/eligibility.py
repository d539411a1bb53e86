"""The eligibility engine: every rule of the call evaluated, each explaining itself.

`evaluate` returns the verdict of contracts/dossier-format.md: stable rule ids, the measured
value and its limit, a message in French and English, and the figures of the financing plan.
Results keep the raw figures; their text and sentences are rendered when read, so that checking
a hundred thousand dossiers does not format sentences nobody reads.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from guichet.rules.definition import CallDefinition
from guichet.rules.dossier import AID, OTHER_PUBLIC, OWN_IN_KIND, Dossier, DossierFormatError
from guichet.rules.messages import MessageBook
from guichet.rules.money import ZERO, apply_rate, ratio
from guichet.rules.sections import AnswerError, clean_answers, missing_answers
from guichet.rules.siret import is_valid_siret

RULE_IDS = (
    "complete", "consortium", "lead", "siret", "member_kind", "scope", "pooling", "duration",
    "first_results", "minimum_base", "aid_cap", "cofinancing", "in_kind_cap", "balanced_plan",
    "deadline",
)


class RuleResult:
    """One rule's outcome: `measured` and `threshold` are raw figures (Decimal, int, str…)."""

    __slots__ = ("_book", "measured", "ok", "rule", "threshold")

    def __init__(self, rule: str, ok: bool, measured, threshold, book: MessageBook):
        self.rule, self.ok, self.measured, self.threshold = rule, ok, measured, threshold
        self._book = book

    @property
    def value(self) -> str | None:
        return as_text(self.measured)

    @property
    def limit(self) -> str | None:
        return as_text(self.threshold)

    @property
    def messages(self) -> tuple[str, str]:
        """The sentence in French and in English."""
        return self._book.say(self.rule, self.ok, self.measured, self.threshold)

    @property
    def message(self) -> str:
        return self.messages[0]

    @property
    def message_en(self) -> str:
        return self.messages[1]

    def to_dict(self) -> dict:
        french, english = self.messages
        return {"rule": self.rule, "ok": self.ok, "value": self.value, "limit": self.limit,
                "message": french, "message_en": english}

    def __repr__(self) -> str:
        return f"RuleResult({self.rule!r}, ok={self.ok}, value={self.value}, limit={self.limit})"


@dataclass(frozen=True, slots=True)
class Figures:
    eligible_base: Decimal
    aid: Decimal
    aid_cap: Decimal
    cofinancing: Decimal
    cofinancing_floor: Decimal
    in_kind: Decimal
    in_kind_cap: Decimal
    other_public: Decimal
    total_financing: Decimal
    aid_rate: Decimal | None

    def to_dict(self) -> dict[str, str | None]:
        return {name: as_text(getattr(self, name)) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    call: str
    rules_version: str
    wave: str | None
    figures: Figures
    results: list[RuleResult]

    def result(self, rule: str) -> RuleResult:
        return next(result for result in self.results if result.rule == rule)

    @property
    def failed(self) -> list[str]:
        return [result.rule for result in self.results if not result.ok]

    def to_dict(self) -> dict:
        """The verdict of the contract, ready for JSON."""
        return {"eligible": self.eligible, "call": self.call, "rules_version": self.rules_version,
                "wave": self.wave, "figures": self.figures.to_dict(),
                "results": [result.to_dict() for result in self.results]}


def as_text(figure) -> str | None:
    """How a figure is written in a verdict: amounts with two decimals, instants in ISO 8601."""
    if figure is None or isinstance(figure, str):
        return figure
    if isinstance(figure, tuple):  # codes (missing sections, refused kinds, allowed scopes)
        return ", ".join(figure)
    if isinstance(figure, bool):
        return "true" if figure else "false"
    if isinstance(figure, dt.datetime):
        return figure.isoformat()
    return str(figure)


def wave_at(waves, instant: dt.datetime):
    """The wave whose window holds `instant` (opens_at <= t < closes_at), or None."""
    for wave in waves:
        if wave.opens_at <= instant < wave.closes_at:
            return wave
    return None


def missing_fields(dossier: Dossier) -> list[str]:
    """What an applicant still has to fill in before the dossier can be examined."""
    missing = [name for name in ("title", "summary", "scope", "pooling_commitment",
                                 "start_date", "duration_months")
               if _blank(getattr(dossier, name))]
    missing += [name for name in ("members", "milestones", "expenses")
                if not getattr(dossier, name)]
    if not any(line.source == AID for line in dossier.financing):
        missing.append("financing.aid")
    return missing


def missing_documents(definition: CallDefinition, present: Collection[str]) -> list[str]:
    """The call's required attachments not among the `present` kinds, as "documents.<id>"."""
    return [f"documents.{document.id}" for document in definition.required_documents
            if document.id not in present]


def checked_answers(dossier: Dossier, definition: CallDefinition) -> Dossier:
    """The dossier with its answers read against the call's questions (exact, blank ones and
    those not asked dropped); `DossierFormatError` naming the answer that cannot be read."""
    try:
        answers = clean_answers(definition.sections, dossier.answers or {},
                                [indicator.id for indicator in definition.indicators])
    except AnswerError as exc:
        raise DossierFormatError(exc.field, exc.reason) from None
    dossier.answers = answers or msgspec.UNSET
    return dossier


def _blank(value) -> bool:
    """Missing, or text of nothing but whitespace (any Unicode space counts as none)."""
    return value is None or (isinstance(value, str) and not value.strip())


def compute_figures(dossier: Dossier, definition: CallDefinition) -> Figures:
    rules = definition.eligibility
    base = sum([line.amount for line in dossier.expenses if line.eligible], ZERO)
    by_source: dict[str, Decimal] = {}
    for line in dossier.financing:
        by_source[line.source] = by_source.get(line.source, ZERO) + line.amount
    cofinancing = sum([by_source.get(source, ZERO) for source in rules.cofinancing_sources], ZERO)
    aid_cap = apply_rate(base, rules.aid_cap_rate, rules.aid_cap_rounding)
    in_kind_base = cofinancing if rules.in_kind_cap_base == "cofinancing" else base
    # Floored to the cent: in-kind amounts are whole cents, so `in_kind <= floor(30 % × base)`
    # is exactly `in_kind <= 30 % × base`, with no rounding that could let a cent through.
    in_kind_cap = apply_rate(in_kind_base, rules.in_kind_cap_rate, "cent_down")
    aid = by_source.get(AID, ZERO)
    return Figures(
        eligible_base=base, aid=aid, aid_cap=aid_cap, cofinancing=cofinancing,
        cofinancing_floor=base - aid_cap, in_kind=by_source.get(OWN_IN_KIND, ZERO),
        in_kind_cap=in_kind_cap, other_public=by_source.get(OTHER_PUBLIC, ZERO),
        total_financing=sum(by_source.values(), ZERO), aid_rate=ratio(aid, base),
    )


class _Prepared:
    """What evaluations share for one definition: its limits and its sentences."""

    __slots__ = ("allowed_scopes", "book", "kinds", "rules", "scopes", "zone")

    def __init__(self, definition: CallDefinition):
        self.rules = definition.eligibility
        self.book = MessageBook(definition)
        self.kinds = frozenset(self.rules.member_kinds)
        self.scopes = frozenset(self.rules.allowed_scopes)
        self.allowed_scopes = tuple(self.rules.allowed_scopes)
        self.zone = definition.zone


# Definitions are immutable: each is prepared once (the entry keeps it alive, so ids stay valid).
_prepared: dict[int, tuple[CallDefinition, _Prepared]] = {}


def _prepare(definition: CallDefinition) -> _Prepared:
    entry = _prepared.get(id(definition))
    if entry is None or entry[0] is not definition:
        if len(_prepared) >= 64:
            _prepared.clear()
        entry = _prepared[id(definition)] = (definition, _Prepared(definition))
    return entry[1]


def evaluate(dossier: Dossier, definition: CallDefinition,
             at: dt.datetime | None = None, *,
             documents: Collection[str] | None = None) -> Verdict:
    """Evaluate every rule of `definition` on `dossier`; `at` is the receipt instant, if known.

    `documents` are the kinds of the attachments the platform holds for the dossier (the
    interchange format carries none): when given, `complete` also requires the call's required
    attachments, so that a dossier is never shown complete while one is missing."""
    prepared = _prepare(definition)
    figures = compute_figures(dossier, definition)
    missing = missing_fields(dossier)
    if documents is not None:
        missing += missing_documents(definition, documents)
    missing += missing_answers(definition.sections, dossier.answers or {}, documents)
    results = _membership_results(dossier, prepared, missing)
    results += _project_results(dossier, prepared)
    results += _financial_results(figures, prepared)
    # A re-submitted dossier is judged on its first receipt: the funder asked for the correction.
    instant = dossier.first_submitted_at or dossier.submitted_at or at
    wave = None
    if instant is not None:
        wave = wave_at(definition.waves, instant)
        closes_at = wave.closes_at.astimezone(prepared.zone) if wave else None
        results.append(RuleResult("deadline", wave is not None,
                                  instant.astimezone(prepared.zone), closes_at, prepared.book))
    return Verdict(
        eligible=all(result.ok for result in results), call=definition.id,
        rules_version=definition.rules_version, wave=wave.id if wave else None,
        figures=figures, results=results,
    )


def _membership_results(dossier: Dossier, prepared: _Prepared,
                        missing: list[str]) -> list[RuleResult]:
    rules, book, members = prepared.rules, prepared.book, dossier.members
    distinct = len({member.siret for member in members})
    leads = sum([1 for member in members if member.lead])
    invalid = [member.siret for member in members if not is_valid_siret(member.siret)]
    refused = tuple(sorted({m.kind for m in members if m.kind not in prepared.kinds}))
    return [
        RuleResult("complete", not missing, tuple(missing) or None, None, book),
        RuleResult("consortium", distinct >= rules.min_members, distinct, rules.min_members,
                   book),
        RuleResult("lead", leads == rules.leads, leads, rules.leads, book),
        RuleResult("siret", not invalid and bool(members), ", ".join(invalid) or None, None,
                   book),
        RuleResult("member_kind", not refused, refused or None, None, book),
    ]


def _project_results(dossier: Dossier, prepared: _Prepared) -> list[RuleResult]:
    rules, book = prepared.rules, prepared.book
    pooling = dossier.pooling_commitment
    months = dossier.duration_months
    first = min([m.month for m in dossier.milestones if m.kind == "first_results"], default=None)
    return [
        RuleResult("scope", dossier.scope in prepared.scopes, dossier.scope,
                   prepared.allowed_scopes, book),
        RuleResult("pooling", pooling is True or not rules.pooling_required, pooling, None, book),
        RuleResult("duration", months is not None and months <= rules.max_duration_months,
                   months, rules.max_duration_months, book),
        RuleResult("first_results", first is not None and first <= rules.first_results_month,
                   first, rules.first_results_month, book),
    ]


def _financial_results(figures: Figures, prepared: _Prepared) -> list[RuleResult]:
    rules, book, f = prepared.rules, prepared.book, figures
    balanced = f.total_financing == f.eligible_base or not rules.balanced_plan
    return [
        RuleResult("minimum_base", f.eligible_base >= rules.minimum_base, f.eligible_base,
                   rules.minimum_base, book),
        RuleResult("aid_cap", f.aid <= f.aid_cap, f.aid, f.aid_cap, book),
        RuleResult("cofinancing", f.cofinancing >= f.cofinancing_floor, f.cofinancing,
                   f.cofinancing_floor, book),
        RuleResult("in_kind_cap", f.in_kind <= f.in_kind_cap, f.in_kind, f.in_kind_cap, book),
        RuleResult("balanced_plan", balanced, f.total_financing, f.eligible_base, book),
    ]
