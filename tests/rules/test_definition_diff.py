"""The difference between two call definitions, and the TOML a definition is exported as."""

import copy

import msgspec

from guichet.rules.definition import (
    REMAINDER,
    REMAINING,
    definition_to_builtins,
    definition_to_toml,
    load_definition,
    parse_definition,
)
from guichet.rules.definition_diff import diff_definitions
from tests.conftest import DEFFINUM_TOML, EXAMPLE_REGIONAL_TOML

DEFFINUM = definition_to_builtins(load_definition(DEFFINUM_TOML))


def changed(edit) -> dict:
    new = copy.deepcopy(DEFFINUM)
    edit(new)
    return new


def test_diff_of_identical_definitions_is_empty():
    assert diff_definitions(DEFFINUM, copy.deepcopy(DEFFINUM)) == []


def test_diff_names_a_nested_value_with_both_sides():
    new = changed(lambda d: d["eligibility"].update(aid_cap_rate="0.60"))
    assert diff_definitions(DEFFINUM, new) == [("eligibility.aid_cap_rate", "0.70", "0.60")]


def test_diff_matches_items_by_id_not_position():
    wave = dict(DEFFINUM["waves"][0], id="w0")
    new = changed(lambda d: d["waves"].insert(0, wave))
    assert diff_definitions(DEFFINUM, new) == [("waves[w0]", None, wave)]


def test_diff_names_a_changed_item_by_its_id():
    new = changed(lambda d: d["waves"][1].update(budget="5000000.00"))
    assert diff_definitions(DEFFINUM, new) == [("waves[w2].budget", None, "5000000.00")]


def test_diff_names_a_removed_item_with_its_old_content():
    removed = DEFFINUM["documents"][3]
    new = changed(lambda d: d["documents"].pop(3))
    assert diff_definitions(DEFFINUM, new) == [("documents[presentation]", removed, None)]


def test_diff_walks_questions_inside_sections_by_id():
    question = {"id": "ajoutee", "label": "Question ajoutée", "label_en": "Added question",
                "type": "text"}
    new = changed(lambda d: (d["sections"][0]["questions"].append(question),
                             d["sections"][0]["questions"][0].update(required=True)))
    assert diff_definitions(DEFFINUM, new) == [
        ("sections[hybridation].questions[synchronous_share].required", False, True),
        ("sections[hybridation].questions[ajoutee]", None, question)]


def test_diff_compares_a_list_of_plain_values_as_one():
    new = changed(lambda d: d["eligibility"]["allowed_scopes"].append("regional"))
    assert diff_definitions(DEFFINUM, new) == [(
        "eligibility.allowed_scopes", ["national", "interregional"],
        ["national", "interregional", "regional"])]


def test_diff_names_a_key_added_and_one_removed():
    new = changed(lambda d: (d.pop("to_confirm"), d.update(extra="x")))
    assert diff_definitions(DEFFINUM, new) == [("extra", None, "x"),
                                               ("to_confirm", DEFFINUM["to_confirm"], None)]


def test_toml_export_reads_back_to_the_same_definition():
    for path in (DEFFINUM_TOML, EXAMPLE_REGIONAL_TOML):
        definition = load_definition(path)
        again = parse_definition(definition_to_toml(definition))
        assert definition_to_builtins(again) == definition_to_builtins(definition)


def test_toml_export_writes_nulls_as_the_loader_reads_them():
    text = definition_to_toml(load_definition(DEFFINUM_TOML))
    assert f'budget = "{REMAINING}"' in text
    assert f'share = "{REMAINDER}"' in text
    assert "closes_at = 2021-08-31 12:00:00+02:00" in text
    assert "closes_at = 2021-12-30 12:00:00+01:00" in text


def test_toml_export_keeps_hostile_text_as_text():
    definition = load_definition(DEFFINUM_TOML)
    hostile = '=cmd|" /C calc\'!A0 """ \\ [[waves]]'
    edited = msgspec.structs.replace(definition, name=hostile)
    assert parse_definition(definition_to_toml(edited)).name == hostile
