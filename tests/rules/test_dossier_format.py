"""The dossier interchange format, version 1: strict parsing and the canonical JSON form."""

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.rules.definition import shipped_definition
from guichet.rules.dossier import (
    FINANCING_SOURCES,
    MEMBER_KINDS,
    MILESTONE_KINDS,
    SCOPES,
    Dossier,
    DossierFormatError,
    canonical_json,
    dossier_from_builtins,
    dossier_to_builtins,
    json_schema,
    parse_dossier,
    sha256_hex,
)
from guichet.rules.eligibility import evaluate
from guichet.rules.money import MAX_AMOUNT

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "contract-example.json"
EXAMPLE_DOCUMENT = json.loads(EXAMPLE.read_text(encoding="utf-8"))


def example() -> dict:
    return copy.deepcopy(EXAMPLE_DOCUMENT)


def parse(document: dict) -> Dossier:
    return parse_dossier(json.dumps(document))


def refusal(document: dict | str) -> DossierFormatError:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(DossierFormatError) as caught:
        parse_dossier(text)
    return caught.value


def draft(**fields) -> dict:
    return {"format": "guichet.dossier/1", "call": "deffinum", **fields}


# --- reading the contract example ----------------------------------------------------------


def test_parse_dossier_contract_example_read():
    dossier = parse_dossier(EXAMPLE.read_bytes())
    assert dossier.format == "guichet.dossier/1"
    assert dossier.call == "deffinum"
    assert dossier.duration_months == 36
    assert dossier.start_date == dt.date(2022, 1, 1)
    assert [member.siret for member in dossier.members] == ["73282932000074", "55208131766522"]
    assert [member.lead for member in dossier.members] == [True, False]
    assert [expense.amount for expense in dossier.expenses] == [
        Decimal("450000.00"), Decimal("350000.00")]
    assert [line.source for line in dossier.financing] == ["aid", "own_cash", "own_in_kind"]
    assert dossier.financing[0].member is None
    assert dossier.submitted_at == dt.datetime(2021, 8, 31, 9, 59, 59, tzinfo=dt.UTC)


def test_parse_dossier_str_and_bytes_give_equal_dossiers():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert parse_dossier(text) == parse_dossier(text.encode("utf-8"))


# --- amounts -------------------------------------------------------------------------------


def test_parse_dossier_json_numbers_read_exactly():
    document = example()
    document["expenses"][0]["amount"] = "AMOUNT_0"
    document["expenses"][1]["amount"] = "AMOUNT_1"
    text = json.dumps(document).replace('"AMOUNT_0"', "0.1")
    text = text.replace('"AMOUNT_1"', "12345678901.23")
    dossier = parse_dossier(text)
    assert str(dossier.expenses[0].amount) == "0.10"
    assert str(dossier.expenses[1].amount) == "12345678901.23"
    assert dossier.expenses[1].amount == Decimal("12345678901.23")


def test_parse_dossier_json_number_float_artefact_refused_not_rounded():
    # 0.1 + 0.2 as a binary float prints as 0.30000000000000004: read exactly, it has too many
    # decimals (a parser going through float then rounding would accept it as 0.30).
    text = json.dumps(example()).replace('"450000.00"', "0.30000000000000004")
    error = refusal(text)
    assert error.field == "expenses[0].amount"
    assert "2 decimals" in error.reason


def test_parse_dossier_json_number_max_amount_read_exactly():
    text = json.dumps(example()).replace('"450000.00"', "999999999999.99")
    assert parse_dossier(text).expenses[0].amount == MAX_AMOUNT


def test_canonical_json_whole_euros_written_with_two_decimals():
    document = example()
    assert document["expenses"][1]["amount"] == "350000"
    canonical = json.loads(canonical_json(parse(document)))
    assert canonical["expenses"][1]["amount"] == "350000.00"


def test_canonical_json_integer_json_number_written_as_two_decimal_string():
    text = json.dumps(example()).replace('"350000"', "350000")
    canonical = json.loads(canonical_json(parse_dossier(text)))
    assert canonical["expenses"][1]["amount"] == "350000.00"


@pytest.mark.parametrize("amount", ["450000.001", "0.005", 450000.001])
def test_parse_dossier_three_decimals_refused_naming_expense_amount(amount):
    document = example()
    document["expenses"][0]["amount"] = amount
    error = refusal(document)
    assert error.field == "expenses[0].amount"
    assert error.reason == "at most 2 decimals (whole cents)"
    assert str(error).startswith("expenses[0].amount: ")


def test_parse_dossier_negative_expense_refused_naming_it():
    document = example()
    document["expenses"][1]["amount"] = "-0.01"
    error = refusal(document)
    assert error.field == "expenses[1].amount"
    assert error.reason == "must not be negative"


def test_parse_dossier_negative_financing_refused_naming_it():
    document = example()
    document["financing"][2]["amount"] = -70000
    error = refusal(document)
    assert error.field == "financing[2].amount"
    assert error.reason == "must not be negative"


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_parse_dossier_non_finite_amount_refused(amount):
    document = example()
    document["financing"][0]["amount"] = amount
    error = refusal(document)
    assert error.field == "financing[0].amount"
    assert error.reason == "not a finite number"


def test_parse_dossier_amount_above_max_refused():
    document = example()
    document["expenses"][0]["amount"] = "1000000000000.00"
    error = refusal(document)
    assert error.field == "expenses[0].amount"
    assert error.reason.startswith("too large")


def test_parse_dossier_negative_zero_amount_becomes_zero():
    document = example()
    document["financing"][0]["amount"] = "-0.00"
    dossier = parse(document)
    assert str(dossier.financing[0].amount) == "0.00"
    assert json.loads(canonical_json(dossier))["financing"][0]["amount"] == "0.00"


def test_parse_dossier_bool_where_amount_expected_refused():
    document = example()
    document["expenses"][0]["amount"] = True
    error = refusal(document)
    assert error.field == "expenses[0].amount"
    assert "bool" in error.reason


@pytest.mark.parametrize("amount", ["", "12,50", "1 000.00", None])
def test_parse_dossier_amount_not_a_decimal_refused(amount):
    document = example()
    document["financing"][1]["amount"] = amount
    assert refusal(document).field == "financing[1].amount"


# --- structure -----------------------------------------------------------------------------


def test_parse_dossier_unknown_top_level_field_refused_naming_it():
    document = example()
    document["budget_notes"] = "hello"
    error = refusal(document)
    assert error.field == "budget_notes"
    assert error.reason == "unknown field"


def test_parse_dossier_unknown_nested_field_refused_naming_it():
    document = example()
    document["members"][1]["email"] = "contact@example.org"
    error = refusal(document)
    assert error.field == "members[1].email"
    assert error.reason == "unknown field"


def test_parse_dossier_missing_format_refused_naming_format():
    document = example()
    del document["format"]
    error = refusal(document)
    assert error.field == "format"
    assert error.reason == "missing required field"


@pytest.mark.parametrize("value", ["guichet.dossier/2", "guichet.dossier", "", 1])
def test_parse_dossier_wrong_format_value_refused(value):
    document = example()
    document["format"] = value
    error = refusal(document)
    assert error.field == "format"


def test_parse_dossier_missing_call_refused_naming_call():
    assert refusal({"format": "guichet.dossier/1"}).field == "call"


def test_parse_dossier_duration_as_string_refused_naming_field():
    document = example()
    document["duration_months"] = "36"
    error = refusal(document)
    assert error.field == "duration_months"
    assert "str" in error.reason


@pytest.mark.parametrize("months", [0, -1, 1201, 12.5])
def test_parse_dossier_duration_out_of_range_refused(months):
    document = example()
    document["duration_months"] = months
    assert refusal(document).field == "duration_months"


def test_parse_dossier_lead_as_string_refused_naming_field():
    document = example()
    document["members"][0]["lead"] = "true"
    assert refusal(document).field == "members[0].lead"


@pytest.mark.parametrize(
    ("path", "value"),
    [("scope", "galactic"), ("members.0.kind", "alien"), ("milestones.0.kind", "party"),
     ("financing.0.source", "lottery")],
)
def test_parse_dossier_unknown_enumeration_value_refused_naming_field(path, value):
    document = example()
    target = document
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    expected = path.replace(".0.", "[0].")
    assert refusal(document).field == expected


def test_parse_dossier_naive_submitted_at_refused():
    document = example()
    document["submitted_at"] = "2021-08-31T11:59:59"
    error = refusal(document)
    assert error.field == "submitted_at"
    assert "timezone" in error.reason


def test_parse_dossier_submitted_at_with_offset_kept_as_instant():
    document = example()
    document["submitted_at"] = "2021-08-31T09:59:59Z"
    assert parse(document).submitted_at == parse(example()).submitted_at


def test_parse_dossier_expense_member_not_in_members_refused_naming_it():
    document = example()
    document["expenses"][1]["member"] = "35600000000048"
    error = refusal(document)
    assert error.field == "expenses[1].member"
    assert "35600000000048" in error.reason


def test_parse_dossier_financing_member_not_in_members_refused_naming_it():
    document = example()
    document["financing"][1]["member"] = "35600000000048"
    error = refusal(document)
    assert error.field == "financing[1].member"
    assert "35600000000048" in error.reason


@pytest.mark.parametrize("text", ["{", "", "not json", '{"format": "guichet.dossier/1",}'])
def test_parse_dossier_invalid_json_refused(text):
    error = refusal(text)
    assert error.field == ""
    assert error.reason.startswith("not valid JSON")
    assert str(error) == error.reason  # no field to name: no "field: " prefix


@pytest.mark.parametrize("text", ["null", "[]", '"dossier"', "42"])
def test_parse_dossier_json_not_an_object_refused(text):
    error = refusal(text)
    assert error.field == ""
    assert "object" in error.reason


def test_parse_dossier_missing_sections_allowed_as_draft():
    dossier = parse(draft())
    assert dossier.title is None
    assert dossier.scope is None
    assert dossier.duration_months is None
    assert dossier.members == []
    assert dossier.expenses == []
    assert dossier.financing == []
    assert dossier.submitted_at is None


def test_parse_dossier_example_without_expenses_and_title_allowed():
    document = example()
    del document["title"]
    del document["expenses"]
    dossier = parse(document)
    assert dossier.title is None
    assert dossier.expenses == []


# --- canonical JSON ------------------------------------------------------------------------


def test_canonical_json_sorted_keys_no_spaces_utf8():
    canonical = canonical_json(parse(example()))
    assert isinstance(canonical, bytes)
    decoded = json.loads(canonical)
    assert list(decoded) == sorted(decoded)
    assert list(decoded["members"][0]) == sorted(decoded["members"][0])
    compact = json.dumps(decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical == compact.encode("utf-8")
    assert "Réseau Formation BTP".encode() in canonical
    assert canonical.startswith(b'{"call":"deffinum","duration_months":36,')


def test_canonical_json_deterministic_whatever_key_order():
    document = example()
    reordered = {key: document[key] for key in reversed(document)}
    reordered["members"] = [dict(reversed(member.items())) for member in document["members"]]
    first = canonical_json(parse(document))
    assert canonical_json(parse(document)) == first
    assert canonical_json(parse(reordered)) == first


def test_canonical_json_parse_round_trip_equal():
    dossier = parse(example())
    canonical = canonical_json(dossier)
    again = parse_dossier(canonical)
    assert again == dossier
    assert canonical_json(again) == canonical


def test_canonical_json_draft_round_trip_equal():
    dossier = parse(draft(title="Brouillon"))
    assert parse_dossier(canonical_json(dossier)) == dossier


# --- generated dossiers --------------------------------------------------------------------

SIRETS = ["73282932000074", "55208131766522", "35600000000048", "35600000049837",
          "12345678901234"]
OFFSETS = [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=1)),
           dt.timezone(dt.timedelta(hours=-5, minutes=-30))]

# Any text but NUL, which the format refuses (tested above), and lone surrogates, which are not
# Unicode text (JSON cannot carry them; msgspec refuses them as malformed).
TEXT_CHARACTERS = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
texts = st.text(TEXT_CHARACTERS, max_size=40)
amount_cents = st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100))


def amount_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@st.composite
def amounts(draw):
    """(value as written in the JSON document, its exact value)."""
    cents = draw(amount_cents)
    style = draw(st.sampled_from(["string", "short_string", "integer"]))
    if style == "integer":
        cents -= cents % 100
        return cents // 100, Decimal(cents).scaleb(-2)
    text = amount_text(cents)
    if style == "short_string":
        text = text.rstrip("0").rstrip(".") or "0"
    return text, Decimal(cents).scaleb(-2)


@st.composite
def documents(draw):
    sirets = draw(st.lists(st.sampled_from(SIRETS), min_size=0, max_size=4, unique=True))
    members = [{"siret": siret, "name": draw(texts), "kind": draw(st.sampled_from(MEMBER_KINDS)),
                "lead": draw(st.booleans())} for siret in sirets]
    expenses, financing, expected = [], [], []
    if sirets:
        for _ in range(draw(st.integers(0, 4))):
            written, exact = draw(amounts())
            expenses.append({"member": draw(st.sampled_from(sirets)),
                             "category": draw(st.text(TEXT_CHARACTERS, min_size=1,
                                                          max_size=20)),
                             "label": draw(texts), "amount": written,
                             "eligible": draw(st.booleans())})
            expected.append(exact)
    for _ in range(draw(st.integers(0, 4))):
        written, exact = draw(amounts())
        line = {"source": draw(st.sampled_from(FINANCING_SOURCES)), "amount": written}
        if sirets and draw(st.booleans()):
            line["member"] = draw(st.sampled_from(sirets))
        financing.append(line)
        expected.append(exact)
    document = draft(
        members=members, expenses=expenses, financing=financing,
        milestones=[{"month": draw(st.integers(1, 1200)),
                     "kind": draw(st.sampled_from(MILESTONE_KINDS)), "label": draw(texts)}
                    for _ in range(draw(st.integers(0, 3)))],
    )
    optional = {
        "title": texts, "summary": texts, "scope": st.sampled_from(SCOPES),
        "pooling_commitment": st.booleans(),
        "start_date": st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)).map(str),
        "duration_months": st.integers(1, 1200),
        "submitted_at": st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1),
                                     timezones=st.sampled_from(OFFSETS)).map(dt.datetime.isoformat),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            document[key] = draw(strategy)
    return document, expected


@settings(max_examples=200, deadline=None)
@given(documents())
def test_canonical_json_generated_dossier_round_trip(generated):
    document, expected_amounts = generated
    dossier = parse(document)
    amounts_read = [line.amount for line in dossier.expenses + dossier.financing]
    assert amounts_read == expected_amounts
    assert all(amount.as_tuple().exponent == -2 for amount in amounts_read)
    canonical = canonical_json(dossier)
    again = parse_dossier(canonical)
    assert again == dossier
    assert canonical_json(again) == canonical
    written = json.loads(canonical)
    assert [line["amount"] for line in written["expenses"] + written["financing"]] == [
        amount_text(int(amount * 100)) for amount in expected_amounts]


def test_parse_nul_character_in_text_refused_naming_field():
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    document["expenses"][1]["label"] = "Simu\u0000lateurs"
    with pytest.raises(DossierFormatError) as refused:
        parse_dossier(json.dumps(document))
    assert refused.value.field == "expenses[1].label"
    assert "NUL" in refused.value.reason


def test_parse_lone_surrogate_refused_as_malformed_json():
    document = EXAMPLE.read_text(encoding="utf-8").replace(
        '"EdTech Immersia"', '"EdTech \\ud800"')
    with pytest.raises(DossierFormatError, match="malformed"):
        parse_dossier(document)


@pytest.mark.parametrize("blank", [" ", "\u00a0\u2003", "\t\r\n", "\u3000"])
def test_parse_blank_title_and_summary_read_as_missing(blank):
    dossier = parse(draft(title=blank, summary=blank))
    assert (dossier.title, dossier.summary) == (None, None)
    assert parse(draft(title=" Campus ")).title == " Campus "  # text is kept as written


@pytest.mark.parametrize(("field", "value"), [
    ("start_date", "0001-01-01"), ("start_date", "9999-12-31"), ("start_date", "1899-12-31"),
    ("start_date", "3000-01-01"), ("submitted_at", "9999-12-31T23:59:59-14:00"),
    ("submitted_at", "0001-01-01T00:00:00+14:00")])
def test_parse_date_outside_platform_range_refused_naming_field(field, value):
    refused = refusal(draft(**{field: value}))
    assert refused.field == field
    assert refused.reason == f"{value} is out of range (1900-01-01 to 2999-12-31)"


def test_parse_dates_at_platform_range_ends_accepted():
    assert parse(draft(start_date="1900-01-01")).start_date == dt.date(1900, 1, 1)
    assert parse(draft(start_date="2999-12-31")).start_date == dt.date(2999, 12, 31)


def test_parse_invalid_utf8_refused_with_its_offset():
    refused = refusal_of_bytes(b'{"format": "guichet.dossier/1", "title": "Caf\xe9"}')
    assert refused.reason == "not valid UTF-8 (byte 0xe9 at offset 45)"


def refusal_of_bytes(document: bytes) -> DossierFormatError:
    with pytest.raises(DossierFormatError) as caught:
        parse_dossier(document)
    return caught.value


def test_parse_first_submitted_at_read_and_judges_the_deadline():
    document = example()
    document["first_submitted_at"] = document["submitted_at"]  # 31 August 2021, in wave 1
    document["submitted_at"] = "2021-09-13T09:00:00+02:00"  # between waves 1 and 2
    dossier = parse(document)
    assert dossier.first_submitted_at == dt.datetime.fromisoformat("2021-08-31T11:59:59+02:00")
    verdict = evaluate(dossier, shipped_definition("deffinum"))
    assert (verdict.wave, verdict.eligible) == ("w1", True)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"first_submitted_at": "2021-08-31T11:59:59+02:00"}, "given without submitted_at"),
    ({"first_submitted_at": "2021-09-01T00:00:00+02:00",
      "submitted_at": "2021-08-31T11:59:59+02:00"}, "after submitted_at")])
def test_parse_first_submitted_at_inconsistent_refused(fields, reason):
    refused = refusal(draft(**fields))
    assert (refused.field, refused.reason) == ("first_submitted_at", reason)


@pytest.mark.parametrize(("path", "field"), [
    (("title",), "title"),
    (("summary",), "summary"),
    (("members", 0, "name"), "members[0].name"),
    (("members", 1, "name"), "members[1].name"),
    (("milestones", 0, "label"), "milestones[0].label"),
    (("milestones", 1, "label"), "milestones[1].label"),
    (("expenses", 0, "label"), "expenses[0].label"),
    (("expenses", 0, "category"), "expenses[0].category"),
])
def test_parse_nul_character_refused_in_every_text_field(path, field):
    document = example()
    *parents, key = path
    target = document
    for step in parents:
        target = target[step]
    target[key] = "avant\u0000après"
    error = refusal(document)
    assert (error.field, error.reason) == (field, "contains a NUL character")
    assert str(error) == f"{field}: contains a NUL character"


def test_dossier_to_builtins_sorted_keys_and_amounts_as_text():
    data = dossier_to_builtins(parse(example()))
    assert list(data) == sorted(data)
    assert all(list(line) == sorted(line) for line in data["expenses"] + data["financing"])
    assert data["expenses"][1]["amount"] == "350000.00"
    assert data["start_date"] == "2022-01-01"


def test_dossier_from_builtins_reads_back_what_to_builtins_wrote():
    dossier = parse(example())
    again = dossier_from_builtins(dossier_to_builtins(dossier))
    assert again == dossier
    assert again.expenses[1].amount == Decimal("350000.00")
    assert str(again.expenses[1].amount) == "350000.00"


def test_dossier_from_builtins_is_strict_about_types():
    data = dossier_to_builtins(parse(example()))
    data["duration_months"] = "36"  # a string where a number is expected: not converted
    with pytest.raises(DossierFormatError) as refused:
        dossier_from_builtins(data)
    assert refused.value.field == "duration_months"
    assert refused.value.reason == "Expected `int | null`, got `str`"


def test_dossier_from_builtins_checks_amounts_and_members_like_parse():
    data = dossier_to_builtins(parse(example()))
    data["expenses"][0]["amount"] = "1.005"
    with pytest.raises(DossierFormatError) as refused:
        dossier_from_builtins(data)
    assert (refused.value.field, refused.value.reason) == (
        "expenses[0].amount", "at most 2 decimals (whole cents)")
    data = dossier_to_builtins(parse(example()))
    data["title"] = "avant\x00après"
    with pytest.raises(DossierFormatError) as refused:
        dossier_from_builtins(data)
    assert refused.value.field == "title"


def test_json_schema_describes_the_dossier_and_its_parts():
    schema = json_schema()
    assert schema["$ref"] == "#/$defs/Dossier"
    assert set(schema["$defs"]) == {"Dossier", "Member", "Milestone", "Expense", "Financing"}
    dossier = schema["$defs"]["Dossier"]
    assert set(dossier["required"]) == {"format", "call"}
    assert dossier["additionalProperties"] is False


def test_sha256_hex_of_the_canonical_bytes():
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
