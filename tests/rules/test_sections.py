"""A call's own form sections: how a definition declares them, how answers are read against
them, what the verdict asks for, and the refusals that name the answer at fault."""

import copy
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from guichet.rules.definition import (
    DefinitionError,
    definition_from_builtins,
    definition_to_builtins,
    shipped_definition,
)
from guichet.rules.dossier import (
    DossierFormatError,
    canonical_json,
    dossier_from_builtins,
    parse_dossier,
)
from guichet.rules.eligibility import checked_answers, evaluate
from guichet.rules.sections import (
    AnswerError,
    clean_answers,
    indicator_targets,
    missing_answers,
    total_errors,
)

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
GUICHET = Path(sys.executable).with_name("guichet")
INDICATORS = ["learners_reached", "courses_hybridised"]


@pytest.fixture(scope="module")
def regional():
    return shipped_definition("deffinov-exemple")


@pytest.fixture(scope="module")
def deffinum():
    return shipped_definition("deffinum")


def _with_sections(definition, sections) -> dict:
    raw = definition_to_builtins(definition)
    raw["sections"] = sections
    return raw


def _refusal(definition, sections) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        definition_from_builtins(_with_sections(definition, sections), "test.toml")
    return caught.value


def _question(question_id="q", **extra) -> dict:
    return {"id": question_id, "label": "Question", "label_en": "Question", "type": "text",
            **extra}


def _section(*questions, section_id="extra", **extra) -> dict:
    return {"id": section_id, "label": "Section", "label_en": "Section",
            "questions": list(questions), **extra}


# --- declaring sections ----------------------------------------------------------------------


def test_deffinum_declares_its_hybridation_profile_as_a_section(deffinum):
    (section,) = deffinum.sections
    assert section.id == "hybridation"
    assert [q.id for q in section.questions] == [
        "synchronous_share", "asynchronous_share", "in_person_share", "distance_share",
        "work_situation_share", "immersive_tools", "positioning_tools", "learners_targeted",
        "trades_targeted", "indicator_targets"]
    assert not any(q.required for q in section.questions)  # as they always were
    assert [t.questions for t in section.totals] == [
        ["synchronous_share", "asynchronous_share"],
        ["in_person_share", "distance_share", "work_situation_share"]]


def test_regional_call_declares_every_question_type(regional):
    types = {q.type for section in regional.sections for q in section.questions}
    assert types == {"text", "number", "choice", "file", "table", "indicators"}


@pytest.mark.parametrize(("sections", "key", "reason"), [
    ([_section(_question("commitment_letters"))], "sections[0].questions[0].id",
     "duplicate id 'commitment_letters'"),
    ([_section(_question(), _question())], "sections[0].questions[1].id", "duplicate id 'q'"),
    ([_section(_question(type="choice"))], "sections[0].questions[0].choices", "choice"),
    ([_section(_question(type="table"))], "sections[0].questions[0].columns", "table"),
    ([_section(_question(type="number", minimum="5", maximum="1"))],
     "sections[0].questions[0].maximum", "must not be below minimum"),
    ([_section(_question(minimum="0"))], "sections[0].questions[0].minimum",
     "only a number question has bounds"),
    ([_section(_question(when={"question": "later", "equals": ["yes"]}),
               _question("later", type="choice",
                         choices=[{"id": "yes", "label": "Oui", "label_en": "Yes"}]))],
     "sections[0].questions[0].when.question", "choice question asked before"),
    ([_section(_question("a", type="choice",
                         choices=[{"id": "yes", "label": "Oui", "label_en": "Yes"}]),
               _question("b", when={"question": "a", "equals": ["maybe"]}))],
     "sections[0].questions[1].when.equals", "not a choice of 'a'"),
    ([_section(_question(), section_id="documents")], "sections[0].id",
     "a step of every dossier's form"),
    ([_section(_question("a", type="number"), _question("b"),
               totals=[{"questions": ["a", "b"], "equals": "100", "message": "m",
                        "message_en": "m"}])],
     "sections[0].totals[0].questions", "not a number question"),
])
def test_definition_with_inconsistent_sections_refused_naming_the_key(
        deffinum, sections, key, reason):
    error = _refusal(deffinum, sections)
    assert error.key == key
    assert reason in error.reason


def test_definition_with_unknown_question_type_refused(deffinum):
    error = _refusal(deffinum, [_section(_question(type="signature"))])
    assert error.key == "sections[0].questions[0].type"


# --- reading answers -------------------------------------------------------------------------


def test_clean_answers_keeps_exact_values_and_drops_blank_ones(regional):
    answers = clean_answers(regional.sections, {
        "territorial_need": "  Former des maçons  ", "rural_areas": "yes", "rural_share": "35",
        "sites": [{"town": "Amiens", "learners": "120"}, {"town": " ", "learners": None}],
        "indicator_targets": {"learners_reached": 300, "courses_hybridised": None},
    }, INDICATORS)
    assert answers == {"territorial_need": "Former des maçons", "rural_areas": "yes",
                       "rural_share": 35, "sites": [{"town": "Amiens", "learners": "120.00"}],
                       "indicator_targets": {"learners_reached": 300}}


def test_clean_answers_drops_an_answer_whose_condition_is_not_met(regional):
    answers = clean_answers(regional.sections, {"rural_areas": "no", "rural_share": 35})
    assert answers == {"rural_areas": "no"}


@pytest.mark.parametrize(("answers", "field", "reason"), [
    ({"nope": "x"}, "answers.nope", "not a question of this call"),
    ({"territorial_support": "x"}, "answers.territorial_support", "not a question"),
    ({"territorial_need": 3}, "answers.territorial_need", "must be text"),
    ({"territorial_need": "a\x00b"}, "answers.territorial_need", "NUL"),
    ({"territorial_need": "x" * 3001}, "answers.territorial_need", "longer than 3000"),
    ({"rural_areas": "peut-être"}, "answers.rural_areas", "not one of the choices"),
    ({"rural_areas": "yes", "rural_share": 101}, "answers.rural_share", "at most 100"),
    ({"rural_areas": "yes", "rural_share": "12.5"}, "answers.rural_share", "at most 0 dec"),
    ({"rural_areas": "yes", "rural_share": 12.5}, "answers.rural_share", "must be a number"),
    ({"rural_areas": "yes", "rural_share": True}, "answers.rural_share", "must be a number"),
    ({"rural_areas": "yes", "rural_share": "NaN"}, "answers.rural_share", "finite"),
    ({"rural_areas": "yes", "rural_share": "=1+1"}, "answers.rural_share", "not a number"),
    ({"sites": {"town": "Amiens"}}, "answers.sites", "list of rows"),
    ({"sites": [{"town": "Amiens", "mayor": "X"}]}, "answers.sites[0].mayor", "not a column"),
    ({"sites": [{"town": "A"}] * 31}, "answers.sites", "at most 30 rows"),
    ({"sites": [{"learners": "1e400"}]}, "answers.sites[0].learners", "too large"),
    ({"indicator_targets": {"unknown": 3}}, "answers.indicator_targets.unknown",
     "not an indicator"),
    ({"indicator_targets": {"learners_reached": -1}},
     "answers.indicator_targets.learners_reached", "at least 0"),
    ([], "answers", "must be an object"),
])
def test_clean_answers_refuses_a_wrong_answer_naming_it(regional, answers, field, reason):
    with pytest.raises(AnswerError) as caught:
        clean_answers(regional.sections, answers, INDICATORS)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_missing_answers_lists_required_questions_asked_and_their_files(regional):
    assert missing_answers(regional.sections, {}) == ["answers.territorial_need"]
    assert missing_answers(regional.sections, {"territorial_need": "x"}) == []
    required_file = copy.deepcopy(definition_to_builtins(regional))
    required_file["sections"][0]["questions"][4]["required"] = True
    sections = definition_from_builtins(required_file).sections
    assert missing_answers(sections, {"territorial_need": "x"}) == []  # files unknown
    assert missing_answers(sections, {"territorial_need": "x"}, documents=set()) == [
        "answers.territorial_support"]
    assert missing_answers(sections, {"territorial_need": "x"},
                           documents={"territorial_support"}) == []


def test_total_errors_only_once_every_share_is_given(deffinum):
    (section,) = deffinum.sections
    assert total_errors(section, {"synchronous_share": 40}) == []
    assert total_errors(section, {"synchronous_share": 40, "asynchronous_share": 60}) == []
    ((where, total),) = total_errors(section, {"synchronous_share": 40, "asynchronous_share": 50})
    assert where == "asynchronous_share"
    assert total.message == "Les temps synchrone et asynchrone doivent totaliser 100 %."


def test_indicator_targets_read_from_the_indicators_question(deffinum, regional):
    answers = {"indicator_targets": {"learners_reached": 12}}
    assert indicator_targets(deffinum.sections, answers) == {"learners_reached": 12}
    assert indicator_targets([], answers) == {}


# --- the dossier format and the verdict ------------------------------------------------------


def _regional_dossier(**answers):
    document = dict(EXAMPLE, call="deffinov-exemple")
    if answers:
        document["answers"] = answers
    return document


def test_dossier_without_answers_encodes_as_before():
    dossier = dossier_from_builtins(EXAMPLE)
    assert b'"answers"' not in canonical_json(dossier)


def test_dossier_decimal_answer_read_exactly_never_as_a_float():
    dossier = parse_dossier(json.dumps(_regional_dossier(rural_share=12.5)))
    assert dossier.answers["rural_share"] == Decimal("12.5")


def test_verdict_complete_names_the_required_question_missing(regional):
    verdict = evaluate(dossier_from_builtins(_regional_dossier()), regional)
    complete = next(result for result in verdict.results if result.rule == "complete")
    assert complete.ok is False
    assert "answers.territorial_need" in complete.value
    assert "Besoin du territoire auquel répond le projet" in complete.message
    answered = dossier_from_builtins(_regional_dossier(territorial_need="Former des maçons"))
    complete = next(r for r in evaluate(answered, regional).results if r.rule == "complete")
    assert "answers.territorial_need" not in (complete.value or ())


def test_checked_answers_refuses_as_a_format_error_naming_the_answer(regional):
    dossier = dossier_from_builtins(_regional_dossier(rural_areas="peut-être"))
    with pytest.raises(DossierFormatError) as caught:
        checked_answers(dossier, regional)
    assert caught.value.field == "answers.rural_areas"


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(GUICHET), "check", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_check_command_refuses_a_wrong_answer_with_exit_2(tmp_path):
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(_regional_dossier(territorial_need=["not", "text"])))
    done = _check(path)
    assert done.returncode == 2
    assert "answers.territorial_need: must be text" in done.stderr
    assert "Traceback" not in done.stderr
