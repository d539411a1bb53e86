"""A call's own form sections, as data: questions declared in the call definition (the
hybridation profile of Deffinum, indicator targets, free questions) and the answers a dossier
gives them.

Answers travel as a mapping from question id to value:
- text: a string; choice: the id of a choice;
- number: an integer, or a decimal string when the question allows decimals;
- indicators: {indicator id: integer target};
- table: a list of rows, each {column id: string or number};
- file: nothing here; the file is an attachment whose kind is the question's id.

Reading answers is strict against the definition: an unknown question, a value of the wrong
type, a choice not offered, a number out of bounds or with too many decimals is refused with
"answers.<question>" and the reason, never half-accepted.
"""

from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import msgspec

Identifier = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Help = Annotated[str, msgspec.Meta(max_length=2000)]
QuestionType = Literal["text", "number", "choice", "file", "table", "indicators"]
ColumnType = Literal["text", "number"]
MAX_TEXT = 20_000
MAX_ROWS = 200
# The dossier form's own steps: a section may not take their place in the applicant's portal.
RESERVED_SECTION_IDS = frozenset({"projet", "consortium", "calendrier", "budget",
                                  "financement", "documents", "depot"})


class SectionsStruct(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class Choice(SectionsStruct):
    id: Identifier
    label: Label
    label_en: Label


class Column(SectionsStruct):
    id: Identifier
    label: Label
    label_en: Label
    type: ColumnType = "text"


class Condition(SectionsStruct):
    """The question is asked only when the answer to `question` (a choice asked before) is one
    of `equals`; otherwise it is neither shown, nor required, nor kept."""

    question: Identifier
    equals: Annotated[list[Identifier], msgspec.Meta(min_length=1)]


class Question(SectionsStruct):
    id: Identifier
    label: Label
    label_en: Label
    type: QuestionType
    required: bool = False
    help: Help = ""
    help_en: Help = ""
    when: Condition | None = None
    # text
    multiline: bool = False
    max_length: Annotated[int, msgspec.Meta(ge=1, le=MAX_TEXT)] = 2000
    # number
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: Annotated[int, msgspec.Meta(ge=0, le=2)] = 0
    unit: Annotated[str, msgspec.Meta(max_length=20)] = ""
    # choice
    choices: list[Choice] = []
    # table
    columns: list[Column] = []
    max_rows: Annotated[int, msgspec.Meta(ge=1, le=MAX_ROWS)] = 50


class Total(SectionsStruct):
    """Number questions whose answers, once all given, must add up to `equals`."""

    questions: Annotated[list[Identifier], msgspec.Meta(min_length=2)]
    equals: Decimal
    message: Label
    message_en: Label


class Section(SectionsStruct):
    id: Identifier
    label: Label
    label_en: Label
    questions: Annotated[list[Question], msgspec.Meta(min_length=1)]
    intro: Help = ""
    intro_en: Help = ""
    totals: list[Total] = []


class AnswerError(ValueError):
    """An answer cannot be kept: `field` is "answers.<question>[...]", `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def all_questions(sections: Iterable[Section]) -> list[Question]:
    return [question for section in sections for question in section.questions]


def file_questions(sections: Iterable[Section]) -> list[Question]:
    """The questions answered by an attachment (its kind is the question's id)."""
    return [question for question in all_questions(sections) if question.type == "file"]


def indicator_targets(sections: Iterable[Section], answers: dict) -> dict:
    """The targets the answers declare for the call's indicators (its indicators question)."""
    question = next((q for q in all_questions(sections) if q.type == "indicators"), None)
    return (answers.get(question.id) or {}) if question else {}


def is_asked(question: Question, answers: dict) -> bool:
    """Whether the question applies, given the answers (a condition on an earlier choice)."""
    condition = question.when
    return condition is None or answers.get(condition.question) in condition.equals


def is_answered(question: Question, value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


def missing_answers(sections: Iterable[Section], answers: dict,
                    documents: Collection[str] | None = None) -> list[str]:
    """The required questions asked and not answered, as "answers.<id>"; a required file
    question counts only when the attachments held are known (`documents`, their kinds)."""
    missing = []
    for question in all_questions(sections):
        if not question.required or not is_asked(question, answers):
            continue
        if question.type == "file":
            if documents is not None and question.id not in documents:
                missing.append(f"answers.{question.id}")
        elif not is_answered(question, answers.get(question.id)):
            missing.append(f"answers.{question.id}")
    return missing


def clean_answers(sections: Iterable[Section], answers: dict, indicators: Collection[str] = (),
                  ) -> dict:
    """The answers in their exact stored form, or `AnswerError` for the first wrong one.
    Answers to questions not asked (their condition unmet) and blank answers are dropped."""
    if not isinstance(answers, dict):
        raise AnswerError("answers", "must be an object (question id → answer)")
    questions = {question.id: question for question in all_questions(sections)}
    for key in answers:
        if key not in questions or questions[key].type == "file":
            raise AnswerError(f"answers.{key}", "not a question of this call")
    cleaned = {}
    for question in questions.values():
        value = answers.get(question.id)
        if question.type == "file" or value is None:
            continue
        value = clean_answer(question, value, indicators)
        if is_answered(question, value):
            cleaned[question.id] = value
    return {key: value for key, value in cleaned.items() if is_asked(questions[key], cleaned)}


def clean_answer(question: Question, value, indicators: Collection[str] = ()):
    field = f"answers.{question.id}"
    if question.type == "text":
        return _text(field, value, question.max_length)
    if question.type == "number":
        return _number(field, value, question.minimum, question.maximum, question.decimals)
    if question.type == "choice":
        if value not in {choice.id for choice in question.choices}:
            raise AnswerError(field, "not one of the choices offered")
        return value
    if question.type == "indicators":
        return _targets(field, value, indicators)
    return _table(field, value, question)


def total_errors(section: Section, answers: dict) -> list[tuple[str, Total]]:
    """The totals of the section not met, with the last question of each (where to say it)."""
    errors = []
    for total in section.totals:
        values = [answers.get(question) for question in total.questions]
        if all(value is not None for value in values) and \
                sum(Decimal(str(value)) for value in values) != total.equals:
            errors.append((total.questions[-1], total))
    return errors


def _text(field: str, value, max_length: int) -> str:
    if not isinstance(value, str):
        raise AnswerError(field, "must be text")
    if "\x00" in value:
        raise AnswerError(field, "contains a NUL character")
    if len(value) > max_length:
        raise AnswerError(field, f"longer than {max_length} characters")
    return value.strip()


def _number(field: str, value, minimum, maximum, decimals: int):
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise AnswerError(field, "must be a number (an integer, or a decimal as a string)")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise AnswerError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise AnswerError(field, "must be a finite number")
    if abs(number) >= 10**12:
        raise AnswerError(field, "too large")
    if number != number.quantize(Decimal(1).scaleb(-decimals)):
        raise AnswerError(field, f"at most {decimals} decimals")
    if minimum is not None and number < minimum:
        raise AnswerError(field, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise AnswerError(field, f"must be at most {maximum}")
    return int(number) if decimals == 0 else f"{number.quantize(Decimal(1).scaleb(-decimals))}"


def _targets(field: str, value, indicators: Collection[str]) -> dict:
    if not isinstance(value, dict):
        raise AnswerError(field, "must be an object (indicator id → target)")
    targets = {}
    for key, target in value.items():
        if key not in indicators:
            raise AnswerError(f"{field}.{key}", "not an indicator of this call")
        if target is not None:
            targets[key] = _number(f"{field}.{key}", target, Decimal(0), None, 0)
    return targets


def _table(field: str, value, question: Question) -> list:
    if not isinstance(value, list):
        raise AnswerError(field, "must be a list of rows")
    if len(value) > question.max_rows:
        raise AnswerError(field, f"at most {question.max_rows} rows")
    columns = {column.id: column for column in question.columns}
    rows = []
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise AnswerError(f"{field}[{index}]", "must be an object (column id → value)")
        cells = {}
        for key, cell in row.items():
            where = f"{field}[{index}].{key}"
            if key not in columns:
                raise AnswerError(where, "not a column of this table")
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            cells[key] = (_number(where, cell, None, None, 2) if columns[key].type == "number"
                          else _text(where, cell, 2000))
        if cells:
            rows.append(cells)
    return rows


def definition_problems(sections: list[Section], indicators: Collection[str],
                        document_ids: Collection[str]):
    """Yield (key, reason) for sections that are well typed but do not make sense."""
    seen: dict[str, Question] = {}
    for s_index, section in enumerate(sections):
        key = f"sections[{s_index}]"
        if section.id in RESERVED_SECTION_IDS:
            yield f"{key}.id", f"{section.id!r} is a step of every dossier's form"
        for q_index, question in enumerate(section.questions):
            where = f"{key}.questions[{q_index}]"
            if question.id in seen or question.id in document_ids:
                yield f"{where}.id", f"duplicate id {question.id!r} (questions and documents)"
            yield from _question_problems(where, question, seen, indicators)
            seen[question.id] = question
        for t_index, total in enumerate(section.totals):
            numbers = {q.id for q in section.questions if q.type == "number"}
            if any(name not in numbers for name in total.questions):
                yield f"{key}.totals[{t_index}].questions", "names a question that is not a " \
                    "number question of this section"
            if not total.equals.is_finite():
                yield f"{key}.totals[{t_index}].equals", "must be a finite number"
    section_ids = [section.id for section in sections]
    if len(set(section_ids)) != len(section_ids):
        yield "sections", "duplicate section id"
    if sum(1 for q in seen.values() if q.type == "indicators") > 1:
        yield "sections", "at most one question of type indicators"


def _question_problems(where: str, question: Question, earlier: dict[str, Question],
                       indicators: Collection[str]):
    kind = question.type
    if (kind == "choice") != bool(question.choices):
        yield f"{where}.choices", "a choice question, and only one, lists its choices"
    if kind == "choice" and len({c.id for c in question.choices}) != len(question.choices):
        yield f"{where}.choices", "duplicate choice id"
    if (kind == "table") != bool(question.columns):
        yield f"{where}.columns", "a table question, and only one, lists its columns"
    if kind == "indicators" and not indicators:
        yield f"{where}.type", "the call declares no indicators"
    bounds = [b for b in (question.minimum, question.maximum) if b is not None]
    if bounds and kind != "number":
        yield f"{where}.minimum", "only a number question has bounds"
    if any(not b.is_finite() for b in bounds):
        yield f"{where}.minimum", "bounds are finite numbers"
    elif len(bounds) == 2 and question.minimum > question.maximum:
        yield f"{where}.maximum", "must not be below minimum"
    if question.when is not None:
        target = earlier.get(question.when.question)
        if target is None or target.type != "choice":
            yield f"{where}.when.question", "must name a choice question asked before this one"
        elif not set(question.when.equals) <= {c.id for c in target.choices}:
            yield f"{where}.when.equals", f"not a choice of {target.id!r}"
