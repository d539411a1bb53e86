"""Reading a selection instance with msgspec (guichet/rules/selection/instance.py): amounts exact
to the cent, scores finite, and hostile input refused with `InstanceError` naming the field."""

import json
from decimal import Decimal

import pytest

from guichet.rules.selection import (
    InstanceError,
    parse_selection_instance,
    read_selection_instance,
    solve_selection,
)


def _instance(**change) -> dict:
    data = {"budget": "1000.00", "min_score": 2.5, "objective": "score_sum",
            "dossiers": [{"id": "d1", "aid": "350.00", "score": 4.2, "groups": {"region": "IDF"}},
                         {"id": "d2", "aid": "120.50", "score": 3.0}]}
    return {**data, **change}


def _dossier(**change) -> list[dict]:
    return [{"id": "d1", "aid": "350.00", "score": 4.2, **change}]


def _refused(data: object) -> InstanceError:
    with pytest.raises(InstanceError) as caught:
        parse_selection_instance(data)
    return caught.value


def _unreadable(text: str | bytes) -> InstanceError:
    with pytest.raises(InstanceError) as caught:
        read_selection_instance(text)
    return caught.value


def test_read_selection_instance_amounts_are_exact_two_decimal_decimals():
    instance = read_selection_instance(json.dumps(_instance(budget="5", caps=[
        {"group": "region", "value": "IDF", "max_aid": 700}])).replace('"350.00"', "350.1"))
    assert (str(instance.budget), str(instance.caps[0].max_aid)) == ("5.00", "700.00")
    assert str(instance.dossiers[0].aid) == "350.10"
    assert isinstance(instance.dossiers[0].aid, Decimal)
    assert instance.dossiers[1].groups == {}


def test_read_selection_instance_json_number_amount_read_without_binary_rounding():
    text = json.dumps(_instance()).replace('"1000.00"', "0.30")
    assert read_selection_instance(text).budget == Decimal("0.30")


def test_parse_selection_instance_python_float_amount_refused_naming_field():
    error = _refused(_instance(dossiers=_dossier(aid=350.1)))
    assert error.field == "dossiers[0].aid"
    assert error.reason.startswith("a binary float cannot be read exactly")


def test_parse_selection_instance_decimal_and_integer_amounts_accepted():
    instance = parse_selection_instance(_instance(budget=Decimal("12.5"),
                                                  dossiers=_dossier(aid=12)))
    assert (str(instance.budget), str(instance.dossiers[0].aid)) == ("12.50", "12.00")


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"budget": True}, "budget", "expected a decimal amount, got a boolean"),
    ({"budget": None}, "budget", "expected a decimal amount, got null"),
    ({"budget": ["1.00"]}, "budget", "expected a decimal amount, got a list"),
    ({"budget": "NaN"}, "budget", "not a finite number"),
    ({"budget": "-Infinity"}, "budget", "not a finite number"),
    ({"budget": "1e999999999"}, "budget", "too large (at most 999999999999.99)"),
    ({"budget": 10**40}, "budget", "too large (at most 999999999999.99)"),
    ({"budget": "12,50"}, "budget", "not a decimal amount: '12,50'"),
    ({"budget": "-0.01"}, "budget", "must not be negative"),
    ({"min_score": float("nan")}, "min_score", "not a finite number"),
    ({"min_score": float("inf")}, "min_score", "not a finite number"),
    ({"min_score": 10**400}, "min_score", "not a finite number"),
    ({"min_score": True}, "min_score", "expected a number, got a boolean"),
    ({"objective": 3}, "objective", "Expected `str`, got `int`"),
    ({"dossiers": "d1"}, "dossiers", "Expected `array`, got `str`"),
    ({"dossiers": [7]}, "dossiers[0]", "Expected `object`, got `int`"),
    ({"dossiers": _dossier(score="4.2")}, "dossiers[0].score", "expected a number, got a string"),
    ({"dossiers": _dossier(score=Decimal("Infinity"))}, "dossiers[0].score",
     "not a finite number"),
    ({"dossiers": _dossier(id=12)}, "dossiers[0].id", "Expected `str`, got `int`"),
    ({"dossiers": _dossier(id="")}, "dossiers[0].id", "Expected `str` of length >= 1"),
    ({"dossiers": _dossier(groups={"region": 75})}, "dossiers[0].groups.region",
     "expected a non-empty string, got a number"),
    ({"dossiers": _dossier(groups={"region": ""})}, "dossiers[0].groups.region",
     "expected a non-empty string, got a string"),
    ({"dossiers": _dossier(groups=["IDF"])}, "dossiers[0].groups",
     "Expected `object`, got `array`"),
    ({"dossiers": _dossier(rank=1)}, "dossiers[0].rank", "unknown field"),
    ({"dossiers": [{"id": "d1", "score": 4.2}]}, "dossiers[0].aid", "missing required field"),
    ({"floors": [{"group": "g", "value": "v", "min_count": -1}]}, "floors[0].min_count",
     "Expected `int` >= 0"),
    ({"floors": [{"group": "g", "value": "v", "min_count": True}]}, "floors[0].min_count",
     "Expected `int`, got `bool`"),
    ({"caps": [{"group": "g", "value": "v", "max_aid": 1.5}]}, "caps[0].max_aid",
     "a binary float cannot be read exactly; give the amount as a decimal string"),
    ({"pinned_in": "d1"}, "pinned_in", "Expected `array`, got `str`"),
    ({"pinned_out": ["d1", 2]}, "pinned_out[1]", "Expected `str`, got `int`"),
])
def test_parse_selection_instance_hostile_value_names_field(change, field, reason):
    error = _refused(_instance(**change))
    assert (error.field, error.reason) == (field, reason)
    assert str(error) == f"{field}: {reason}"


def test_parse_selection_instance_not_an_object_refused():
    error = _refused(["budget"])
    assert (error.field, error.reason) == ("", "Expected `object`, got `array`")


@pytest.mark.parametrize(("old", "new", "field", "reason"), [
    ("4.2", "1e400", "dossiers[0].score", "not a finite number"),
    ("4.2", "-1e400", "dossiers[0].score", "not a finite number"),
    ('"350.00"', "1" + "0" * 60, "dossiers[0].aid", "too large (at most 999999999999.99)"),
    ('"350.00"', "1e999999999", "dossiers[0].aid", "too large (at most 999999999999.99)"),
    ('"350.00"', "350.001", "dossiers[0].aid", "at most 2 decimals (whole cents)"),
    ('"350.00"', "-0.5", "dossiers[0].aid", "must not be negative"),
    ('"350.00"', '"Infinity"', "dossiers[0].aid", "not a finite number"),
])
def test_read_selection_instance_hostile_number_names_field(old, new, field, reason):
    error = _unreadable(json.dumps(_instance()).replace(old, new, 1))
    assert (error.field, error.reason) == (field, reason)


@pytest.mark.parametrize(("text", "reason"), [
    (json.dumps(_instance()).replace('"350.00"', "NaN"), "not valid JSON (JSON is malformed"),
    (json.dumps(_instance()).replace("4.2", "Infinity"), "not valid JSON (JSON is malformed"),
    ('{"budget": ' + "[" * 100_000, "not valid JSON"),
    ('{"budget": "1.00"', "not valid JSON (Input data was truncated)"),
    (b'{"budget": "\xff"}', "not valid UTF-8 (byte 0xff at offset 12)"),
])
def test_read_selection_instance_malformed_document_one_clear_error(text, reason):
    error = _unreadable(text)
    assert error.field == ""
    assert error.reason.startswith(reason)


def test_read_selection_instance_deep_nesting_in_an_amount_refused():
    text = json.dumps(_instance()).replace('"350.00"', "[" * 100_000 + "]" * 100_000)
    error = _unreadable(text)
    assert error.reason in {"not valid JSON (nested too deeply)",
                            "expected a decimal amount, got a list"}


def test_read_selection_instance_pins_kept_once_in_order():
    instance = read_selection_instance(json.dumps(_instance(pinned_in=["d2", "d1", "d2"])))
    assert instance.pinned_in == ("d2", "d1")


def test_read_selection_instance_notes_field_from_input_refused():
    error = _unreadable(json.dumps(_instance(notes=["forged"])))
    assert (error.field, error.reason) == ("notes", "unknown field")


def test_read_selection_instance_huge_floor_read_and_reported_unreachable():
    floors = [{"group": "region", "value": "IDF", "min_count": 10**30}]
    result = solve_selection(read_selection_instance(json.dumps(_instance(floors=floors))))
    assert (result.status, result.why["kind"], result.why["available"]) == (
        "infeasible", "floor_unreachable", 1)
