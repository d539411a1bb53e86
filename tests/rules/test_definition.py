"""Call definitions: the shipped Deffinum values, and errors that name the file and the key."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from guichet.rules.definition import (
    DefinitionError,
    definition_from_builtins,
    definition_to_builtins,
    load_definition,
    parse_definition,
    shipped_definition,
)

ROOT = Path(__file__).resolve().parent.parent.parent
DEFFINUM_TOML = ROOT / "calls" / "deffinum.toml"
DEFFINUM_TEXT = DEFFINUM_TOML.read_text(encoding="utf-8")
UTC = dt.UTC


@pytest.fixture(scope="module")
def deffinum():
    return shipped_definition("deffinum")


# --- the shipped definition ----------------------------------------------------------------


def test_shipped_definition_identity(deffinum):
    assert deffinum.format == "guichet.call/1"
    assert deffinum.id == "deffinum"
    assert deffinum.rules_version == "deffinum-2021.1"
    assert deffinum.timezone == "Europe/Paris"
    assert deffinum.name.startswith("Deffinum")
    assert deffinum.name_en.startswith("Deffinum")


def test_shipped_definition_programme_envelope(deffinum):
    assert deffinum.programme.envelope == Decimal("300000000.00")
    assert str(deffinum.programme.envelope) == "300000000.00"


def test_shipped_definition_wave_budgets(deffinum):
    assert [wave.id for wave in deffinum.waves] == ["w1", "w2", "w3"]
    assert deffinum.wave("w1").budget == Decimal("100000000.00")
    assert deffinum.wave("w2").budget is None  # what remains of the envelope
    assert deffinum.wave("w3").budget is None
    assert deffinum.funding.carry_over is True
    assert deffinum.funding.early_closure_threshold == Decimal("350000.00")


@pytest.mark.parametrize(
    ("wave_id", "opens_utc", "closes_utc"),
    [
        ("w1", dt.datetime(2021, 5, 31, 22, 0, tzinfo=UTC),
         dt.datetime(2021, 8, 31, 10, 0, tzinfo=UTC)),  # CEST
        ("w2", dt.datetime(2021, 9, 29, 22, 0, tzinfo=UTC),
         dt.datetime(2021, 12, 30, 11, 0, tzinfo=UTC)),  # CET
        ("w3", dt.datetime(2022, 1, 30, 23, 0, tzinfo=UTC),
         dt.datetime(2022, 5, 2, 10, 0, tzinfo=UTC)),
    ],
)
def test_shipped_definition_wave_instants_in_paris_time(deffinum, wave_id, opens_utc, closes_utc):
    wave = deffinum.wave(wave_id)
    assert wave.opens_at == opens_utc
    assert wave.closes_at == closes_utc
    assert wave.closes_at.astimezone(deffinum.zone).hour == 12


def test_shipped_definition_w1_closes_at_ten_utc(deffinum):
    assert deffinum.wave("w1").closes_at.astimezone(UTC) == dt.datetime(
        2021, 8, 31, 10, 0, tzinfo=UTC)


def test_shipped_definition_w2_closes_at_eleven_utc(deffinum):
    assert deffinum.wave("w2").closes_at.astimezone(UTC) == dt.datetime(
        2021, 12, 30, 11, 0, tzinfo=UTC)


def test_shipped_definition_eligibility_thresholds(deffinum):
    rules = deffinum.eligibility
    assert rules.min_members == 2
    assert rules.leads == 1
    assert rules.allowed_scopes == ["national", "interregional"]
    assert len(rules.member_kinds) == 12
    assert rules.pooling_required is True
    assert rules.max_duration_months == 36
    assert rules.first_results_month == 12
    assert rules.minimum_base == Decimal("500000.00")
    assert rules.aid_cap_rate == Decimal("0.70")
    assert rules.aid_cap_rounding == "euro_half_up"
    assert rules.cofinancing_floor == "complement_of_aid_cap"
    assert rules.cofinancing_sources == ["own_cash", "own_in_kind", "private"]
    assert rules.in_kind_cap_rate == Decimal("0.30")
    assert rules.in_kind_cap_base == "cofinancing"
    assert rules.balanced_plan is True


def test_shipped_definition_five_criteria_equal_weights(deffinum):
    criteria = deffinum.selection.criteria
    assert [criterion.id for criterion in criteria] == [
        "coverage", "spread", "transformation", "innovation", "hybridisation"]
    assert {criterion.weight for criterion in criteria} == {Decimal("1")}
    assert all(criterion.label and criterion.label_en for criterion in criteria)
    assert (deffinum.selection.scale_min, deffinum.selection.scale_max) == (0, 5)


def test_shipped_definition_tranche_shares(deffinum):
    assert [(tranche.id, tranche.share) for tranche in deffinum.tranches] == [
        ("advance", Decimal("0.50")), ("intermediate", Decimal("0.30")), ("balance", None)]
    assert [tranche.trigger for tranche in deffinum.tranches] == [
        "agreement_signed", "intermediate_report_approved", "final_report_approved"]


def test_shipped_definition_required_documents(deffinum):
    assert [document.id for document in deffinum.required_documents] == [
        "commitment_letters", "financial_annex", "lead_statutes"]


def test_shipped_definition_same_as_calls_file(deffinum):
    assert load_definition(DEFFINUM_TOML) == deffinum


def test_shipped_definition_unknown_call_refused():
    with pytest.raises(DefinitionError, match="no shipped definition for call 'nope'"):
        shipped_definition("nope")


def test_definition_to_builtins_reads_back_unchanged(deffinum):
    stored = definition_to_builtins(deffinum)
    assert definition_from_builtins(stored, source="stored") == deffinum


# --- errors naming the file and the key ----------------------------------------------------


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    assert DEFFINUM_TEXT.count(old) >= 1, old
    path = tmp_path / "variant.toml"
    path.write_text(DEFFINUM_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def refusal(path: Path) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    error = caught.value
    assert error.source == str(path)
    assert str(path) in str(error)
    return error


def assert_names(error: DefinitionError, key: str) -> None:
    assert error.key == key
    assert f"{key}: " in str(error)


def test_load_definition_missing_key_names_file_and_key(tmp_path):
    error = refusal(write_variant(tmp_path, 'minimum_base = "500000.00"\n', ""))
    assert_names(error, "eligibility.minimum_base")
    assert error.reason == "missing required field"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("max_duration_months = 36", 'max_duration_months = "36"',
         "eligibility.max_duration_months"),
        ("leads = 1", 'leads = "1"', "eligibility.leads"),
        ("pooling_required = true", 'pooling_required = "true"', "eligibility.pooling_required"),
        ("carry_over = true", 'carry_over = "yes"', "funding.carry_over"),
        ("scale_max = 5", 'scale_max = "5"', "selection.scale_max"),
    ],
)
def test_load_definition_wrong_type_names_file_and_key(tmp_path, old, new, key):
    error = refusal(write_variant(tmp_path, old, new))
    assert_names(error, key)
    assert "str" in error.reason


def test_load_definition_aid_cap_rate_above_one_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'aid_cap_rate = "0.70"', 'aid_cap_rate = "1.5"'))
    assert_names(error, "eligibility.aid_cap_rate")
    assert "(0, 1]" in error.reason


@pytest.mark.parametrize("rate", ['"0"', '"-0.30"', '"NaN"'])
def test_load_definition_in_kind_cap_rate_outside_unit_interval_refused(tmp_path, rate):
    error = refusal(write_variant(tmp_path, 'in_kind_cap_rate = "0.30"',
                                  f"in_kind_cap_rate = {rate}"))
    assert_names(error, "eligibility.in_kind_cap_rate")


def test_load_definition_minimum_base_fraction_of_cent_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'minimum_base = "500000.00"',
                                  'minimum_base = "1.234"'))
    assert_names(error, "eligibility.minimum_base")
    assert "2 decimals" in error.reason
    assert "1.234" in error.reason


def test_load_definition_negative_envelope_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'envelope = "300000000.00"', 'envelope = "-1.00"'))
    assert_names(error, "programme.envelope")


def test_load_definition_wave_budgets_above_envelope_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'budget = "100000000.00"',
                                  'budget = "300000000.01"'))
    assert_names(error, "waves")


def test_load_definition_overlapping_waves_refused(tmp_path):
    error = refusal(write_variant(tmp_path, "opens_at = 2021-09-30T00:00:00",
                                  "opens_at = 2021-08-31T11:59:59"))
    assert_names(error, "waves[1].opens_at")
    assert "'w1'" in error.reason


def test_load_definition_wave_opening_at_previous_close_accepted(tmp_path):
    definition = load_definition(write_variant(tmp_path, "opens_at = 2021-09-30T00:00:00",
                                               "opens_at = 2021-08-31T12:00:00"))
    assert definition.waves[1].opens_at == definition.waves[0].closes_at


def test_load_definition_wave_closing_before_opening_refused(tmp_path):
    error = refusal(write_variant(tmp_path, "closes_at = 2021-08-31T12:00:00",
                                  "closes_at = 2021-05-31T12:00:00"))
    assert_names(error, "waves[0].closes_at")
    assert error.reason == "must be after opens_at"


def test_load_definition_wave_closing_when_opening_refused(tmp_path):
    error = refusal(write_variant(tmp_path, "closes_at = 2021-08-31T12:00:00",
                                  "closes_at = 2021-06-01T00:00:00"))
    assert_names(error, "waves[0].closes_at")


def test_load_definition_unknown_rounding_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'aid_cap_rounding = "euro_half_up"',
                                  'aid_cap_rounding = "bankers"'))
    assert_names(error, "eligibility.aid_cap_rounding")
    assert "bankers" in error.reason


@pytest.mark.parametrize(("share", "total"), [('"0.70"', "1.00"), ('"0.80"', "1.10")])
def test_load_definition_tranche_shares_leaving_no_balance_refused(tmp_path, share, total):
    error = refusal(write_variant(tmp_path, 'share = "0.50"', f"share = {share}"))
    assert_names(error, "tranches")
    assert total in error.reason


def test_load_definition_tranche_shares_just_below_one_accepted(tmp_path):
    definition = load_definition(write_variant(tmp_path, 'share = "0.50"', 'share = "0.69"'))
    assert sum(tranche.share for tranche in definition.tranches[:-1]) == Decimal("0.99")


def test_load_definition_remainder_not_last_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'share = "0.30"', 'share = "remainder"'))
    assert_names(error, "tranches")


def test_load_definition_invalid_toml_names_file(tmp_path):
    error = refusal(write_variant(tmp_path, "leads = 1", "leads = = 1"))
    assert error.key == ""
    assert "not valid TOML" in error.reason
    assert str(error).startswith(f"{tmp_path / 'variant.toml'}: not valid TOML")


def test_load_definition_unknown_time_zone_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'timezone = "Europe/Paris"',
                                  'timezone = "Europe/Atlantis"'))
    assert_names(error, "timezone")
    assert "Europe/Atlantis" in error.reason


def test_load_definition_unknown_key_refused(tmp_path):
    error = refusal(write_variant(tmp_path, "leads = 1\n", "leads = 1\nmax_leads = 2\n"))
    assert_names(error, "eligibility.max_leads")
    assert error.reason == "unknown field"


def test_load_definition_unknown_top_level_key_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'timezone = "Europe/Paris"\n',
                                  'timezone = "Europe/Paris"\nlanguage = "fr"\n'))
    assert_names(error, "language")


def test_load_definition_duplicate_wave_id_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'id = "w2"', 'id = "w1"'))
    assert_names(error, "waves")
    assert "'w1'" in error.reason


def test_load_definition_first_results_after_max_duration_refused(tmp_path):
    error = refusal(write_variant(tmp_path, "first_results_month = 12",
                                  "first_results_month = 37"))
    assert_names(error, "eligibility.first_results_month")


def test_load_definition_missing_file_names_it(tmp_path):
    error = refusal(tmp_path / "absent.toml")
    assert "cannot read the file" in error.reason


def test_load_definition_affinity_weights_not_adding_to_one_refused(tmp_path):
    error = refusal(write_variant(tmp_path, 'affinity_keyword_weight = "0.4"',
                                  'affinity_keyword_weight = "0.5"'))
    assert_names(error, "selection.affinity_keyword_weight")
    assert "add up to 1" in error.reason


@pytest.mark.parametrize(("old", "new", "key", "reason"), [
    ("leads = 1", "leads = 3", "eligibility.leads", "must not exceed min_members"),
    ("scale_max = 5", "scale_max = 0", "selection.scale_max", "must be greater than scale_min"),
    ("comment_required_below = 2", "comment_required_below = 6",
     "selection.comment_required_below", "must lie within the scale"),
    ('min_score = "2.5"', 'min_score = "5.5"', "selection.min_score",
     "must lie within the scale"),
    ('disagreement_spread = "2.0"', 'disagreement_spread = "0"',
     "selection.disagreement_spread", "must be positive"),
    ('affinity_sector_weight = "0.6"', 'affinity_sector_weight = "0.7"',
     "selection.affinity_keyword_weight", "the two affinity weights add up to 1"),
    ('early_closure_threshold = "350000.00"', 'early_closure_threshold = "350000.001"',
     "funding.early_closure_threshold",
     "at most 2 decimals (whole cents) (got 350000.001)"),
    ('weight = "1"', 'weight = "0"', "selection.criteria[0].weight", "must be positive (got 0)"),
    ('id = "financial_annex"', 'id = "commitment_letters"', "documents",
     "duplicate id 'commitment_letters'"),
    ('id = "intermediate"', 'id = "advance"', "tranches", "duplicate id 'advance'"),
    ('id = "equipment"', 'id = "staff"', "expense_categories", "duplicate id 'staff'"),
    ('id = "industrie"', 'id = "btp"', "sectors", "duplicate id 'btp'"),
    ('id = "courses_hybridised"', 'id = "learners_reached"', "indicators",
     "duplicate id 'learners_reached'"),
    ('id = "spread"', 'id = "coverage"', "selection.criteria", "duplicate id 'coverage'"),
    ('share = "0.50"', 'share = "remainder"', "tranches",
     'exactly one tranche, the last, takes the remainder (share = "remainder")'),
    ('timezone = "Europe/Paris"', "timezone = 1", "timezone", "missing or not a string"),
])
def test_load_definition_inconsistent_values_refused_with_key_and_reason(
        tmp_path, old, new, key, reason):
    error = refusal(write_variant(tmp_path, old, new))
    assert (error.key, error.reason) == (key, reason)
    assert str(error) == f"{error.source}: {key}: {reason}"


@pytest.mark.parametrize(("old", "new"), [
    ("leads = 1", "leads = 2"),  # as many leads as members: allowed
    ("comment_required_below = 2", "comment_required_below = 5"),
    ('min_score = "2.5"', 'min_score = "0"'),
    ('disagreement_spread = "2.0"', 'disagreement_spread = "0.5"'),
    ('affinity_sector_weight = "0.6"\naffinity_keyword_weight = "0.4"',
     'affinity_sector_weight = "1"\naffinity_keyword_weight = "0"'),
    ('share = "0.50"', 'share = "0.69"'),
])
def test_load_definition_values_at_their_limits_accepted(tmp_path, old, new):
    assert load_definition(write_variant(tmp_path, old, new)).id == "deffinum"


def test_parse_definition_error_names_its_default_source():
    with pytest.raises(DefinitionError) as caught:
        parse_definition(DEFFINUM_TEXT.replace("leads = 1", "leads = 3", 1))
    assert caught.value.source == "<definition>"
    assert str(caught.value) == "<definition>: eligibility.leads: must not exceed min_members"


def test_shipped_definition_unknown_call_lists_the_known_ones():
    with pytest.raises(DefinitionError) as caught:
        shipped_definition("inconnu")
    assert caught.value.key == ""
    assert "deffinum" in caught.value.reason
    assert caught.value.source.endswith("inconnu.toml")
