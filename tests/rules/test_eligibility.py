"""The eligibility engine on the Deffinum definition: every rule at its boundary."""

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.rules.definition import parse_definition, shipped_definition
from guichet.rules.dossier import Dossier, parse_dossier
from guichet.rules.eligibility import (
    Verdict,
    _prepare,
    _prepared,
    compute_figures,
    evaluate,
    missing_fields,
)

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE_DOCUMENT = json.loads(
    (ROOT / "tests" / "data" / "contract-example.json").read_text(encoding="utf-8"))
DEFFINUM = shipped_definition("deffinum")
RULE_ORDER = [
    "complete", "consortium", "lead", "siret", "member_kind", "scope", "pooling", "duration",
    "first_results", "minimum_base", "aid_cap", "cofinancing", "in_kind_cap", "balanced_plan",
    "deadline",
]
LEAD_SIRET, PARTNER_SIRET = "73282932000074", "55208131766522"
AMOUNT = re.compile(r"^\d+\.\d{2}$")


def example() -> dict:
    return copy.deepcopy(EXAMPLE_DOCUMENT)


def check(document: dict, at: dt.datetime | None = None, definition=DEFFINUM) -> Verdict:
    return evaluate(parse_dossier(json.dumps(document)), definition, at=at)


def plan(base: str, aid: str, own_cash: str, in_kind: str = "0.00", *,
         private: str | None = None, other_public: str | None = None) -> dict:
    """The example with an eligible base of `base` (the second expense stays at 350 000)."""
    document = example()
    document["expenses"][0]["amount"] = str(Decimal(base) - Decimal("350000.00"))
    document["financing"] = [
        {"source": "aid", "amount": aid},
        {"source": "own_cash", "member": LEAD_SIRET, "amount": own_cash},
        {"source": "own_in_kind", "member": PARTNER_SIRET, "amount": in_kind},
    ]
    if private is not None:
        document["financing"].append({"source": "private", "amount": private})
    if other_public is not None:
        document["financing"].append({"source": "other_public", "amount": other_public})
    return document


def failed_rules(verdict: Verdict) -> list[str]:
    return [result.rule for result in verdict.results if not result.ok]


def at_instant(iso: str) -> dict:
    document = example()
    document["submitted_at"] = iso
    return document


# --- the contract example ------------------------------------------------------------------


def test_evaluate_contract_example_eligible_in_wave_1():
    verdict = check(example())
    assert verdict.eligible is True
    assert verdict.wave == "w1"
    assert verdict.call == "deffinum"
    assert verdict.rules_version == "deffinum-2021.1"
    assert failed_rules(verdict) == []
    assert verdict.figures.to_dict() == {
        "eligible_base": "800000.00", "aid": "560000.00", "aid_cap": "560000.00",
        "cofinancing": "240000.00", "cofinancing_floor": "240000.00", "in_kind": "70000.00",
        "in_kind_cap": "72000.00", "other_public": "0.00", "total_financing": "800000.00",
        "aid_rate": "0.7000",
    }


def test_evaluate_results_listed_in_documented_order():
    assert [result.rule for result in check(example()).results] == RULE_ORDER


def test_evaluate_results_without_instant_listed_in_documented_order_without_deadline():
    document = example()
    del document["submitted_at"]
    assert [result.rule for result in check(document).results] == RULE_ORDER[:-1]


# --- minimum_base --------------------------------------------------------------------------


def test_minimum_base_one_cent_below_refused():
    verdict = check(plan("499999.99", "349999.00", "150000.99"))
    result = verdict.result("minimum_base")
    assert result.ok is False
    assert (result.value, result.limit) == ("499999.99", "500000.00")
    assert failed_rules(verdict) == ["minimum_base"]
    assert verdict.eligible is False


def test_minimum_base_exactly_minimum_accepted():
    verdict = check(plan("500000.00", "350000.00", "150000.00"))
    assert verdict.result("minimum_base").ok is True
    assert verdict.result("minimum_base").value == "500000.00"
    assert verdict.eligible is True


def test_minimum_base_ineligible_expenses_not_counted():
    document = plan("500000.00", "350000.00", "150000.00")
    document["expenses"].append({"member": LEAD_SIRET, "category": "other", "label": "Hors",
                                 "amount": "1000.00", "eligible": False})
    assert check(document).figures.eligible_base == Decimal("500000.00")
    document["expenses"][0]["amount"] = "149999.99"
    assert check(document).result("minimum_base").ok is False


# --- aid_cap -------------------------------------------------------------------------------
# 70 % of 500 005.00 is 350 003.50: the cap is rounded half up to 350 004.00.


def test_aid_cap_half_euro_rounded_up_to_the_euro():
    figures = check(plan("500005.00", "350004.00", "150001.00")).figures
    assert figures.aid_cap == Decimal("350004.00")
    assert figures.cofinancing_floor == Decimal("150001.00")


def test_aid_cap_aid_equal_to_cap_accepted():
    verdict = check(plan("500005.00", "350004.00", "150001.00"))
    result = verdict.result("aid_cap")
    assert result.ok is True
    assert (result.value, result.limit) == ("350004.00", "350004.00")
    assert verdict.eligible is True


def test_aid_cap_one_cent_above_cap_refused():
    verdict = check(plan("500005.00", "350004.01", "150000.99"))
    result = verdict.result("aid_cap")
    assert result.ok is False
    assert (result.value, result.limit) == ("350004.01", "350004.00")
    assert verdict.eligible is False


def test_aid_cap_published_deffinum_award_accepted():
    verdict = check(plan("6928135.00", "4849695.00", "1678440.00", "400000.00"))
    assert verdict.figures.aid_cap == Decimal("4849695.00")
    assert verdict.result("aid_cap").ok is True
    assert verdict.eligible is True
    assert check(plan("6928135.00", "4849695.01", "1678439.99", "400000.00")).result(
        "aid_cap").ok is False


# --- cofinancing ---------------------------------------------------------------------------


def test_cofinancing_exactly_floor_accepted():
    result = check(plan("800000.00", "560000.00", "170000.00", "70000.00")).result("cofinancing")
    assert result.ok is True
    assert (result.value, result.limit) == ("240000.00", "240000.00")


def test_cofinancing_one_cent_below_floor_refused():
    # The missing cent comes from other public funding: balanced, but it is not co-financing.
    verdict = check(plan("800000.00", "560000.00", "169999.99", "70000.00", other_public="0.01"))
    result = verdict.result("cofinancing")
    assert result.ok is False
    assert (result.value, result.limit) == ("239999.99", "240000.00")
    assert failed_rules(verdict) == ["cofinancing"]


def test_cofinancing_private_funding_counted():
    verdict = check(plan("800000.00", "560000.00", "100000.00", "70000.00", private="70000.00"))
    assert verdict.figures.cofinancing == Decimal("240000.00")
    assert verdict.eligible is True


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=350_000_00, max_value=10**9))
def test_figures_aid_cap_and_cofinancing_floor_add_up_to_the_base(base_cents):
    """The floor of co-financing is what the capped aid leaves of the base, to the cent."""
    base = Decimal(base_cents).scaleb(-2)
    figures = compute_figures(parse_dossier(json.dumps(plan(str(base), "1.00", "1.00"))),
                              DEFFINUM)
    assert figures.eligible_base == base
    assert figures.aid_cap == (base * Decimal("0.70")).quantize(Decimal(1), "ROUND_HALF_UP")
    assert figures.aid_cap + figures.cofinancing_floor == base
    assert figures.cofinancing_floor.as_tuple().exponent == -2


def test_cofinancing_floor_is_complement_of_rounded_cap():
    # 70 % of 500 005.00 rounds up to 350 004: the floor is 150 001, not 30 % (150 001.50).
    verdict = check(plan("500005.00", "350004.00", "150001.00"))
    assert verdict.result("cofinancing").limit == "150001.00"
    assert verdict.result("cofinancing").ok is True


# --- in_kind_cap ---------------------------------------------------------------------------


def test_in_kind_cap_exactly_thirty_percent_accepted():
    verdict = check(plan("800000.00", "560000.00", "168000.00", "72000.00"))
    result = verdict.result("in_kind_cap")
    assert result.ok is True
    assert (result.value, result.limit) == ("72000.00", "72000.00")
    assert verdict.eligible is True


def test_in_kind_cap_one_cent_above_thirty_percent_refused():
    verdict = check(plan("800000.00", "560000.00", "167999.99", "72000.01"))
    result = verdict.result("in_kind_cap")
    assert result.ok is False
    assert (result.value, result.limit) == ("72000.01", "72000.00")
    assert failed_rules(verdict) == ["in_kind_cap"]


def test_in_kind_cap_fraction_of_a_cent_never_lets_a_cent_through():
    # Co-financing 240 000.01: 30 % is 72 000.003, so 72 000.00 is the most in kind allowed.
    accepted = check(plan("800000.00", "559999.99", "168000.01", "72000.00"))
    assert accepted.figures.cofinancing == Decimal("240000.01")
    assert accepted.figures.in_kind_cap == Decimal("72000.00")
    assert accepted.result("in_kind_cap").ok is True
    refused = check(plan("800000.00", "559999.99", "168000.00", "72000.01"))
    assert refused.figures.cofinancing == Decimal("240000.01")
    assert refused.result("in_kind_cap").ok is False


# --- balanced_plan -------------------------------------------------------------------------


def test_balanced_plan_exact_accepted():
    result = check(plan("800000.00", "560000.00", "170000.00", "70000.00")).result("balanced_plan")
    assert result.ok is True
    assert (result.value, result.limit) == ("800000.00", "800000.00")


def test_balanced_plan_one_cent_over_refused():
    verdict = check(plan("800000.00", "560000.00", "170000.01", "70000.00"))
    result = verdict.result("balanced_plan")
    assert result.ok is False
    assert (result.value, result.limit) == ("800000.01", "800000.00")
    assert failed_rules(verdict) == ["balanced_plan"]


def test_balanced_plan_one_cent_short_refused():
    verdict = check(plan("800000.00", "559999.99", "170000.00", "70000.00"))
    result = verdict.result("balanced_plan")
    assert result.ok is False
    assert (result.value, result.limit) == ("799999.99", "800000.00")
    assert failed_rules(verdict) == ["balanced_plan"]


def test_balanced_plan_other_public_funding_counted_in_total():
    verdict = check(plan("800000.00", "550000.00", "170000.00", "70000.00",
                         other_public="10000.00"))
    assert verdict.figures.total_financing == Decimal("800000.00")
    assert verdict.figures.other_public == Decimal("10000.00")
    assert verdict.result("balanced_plan").ok is True


# --- duration and first_results ------------------------------------------------------------


def test_duration_36_months_accepted():
    document = example()
    document["duration_months"] = 36
    assert check(document).result("duration").ok is True


def test_duration_37_months_refused():
    document = example()
    document["duration_months"] = 37
    verdict = check(document)
    result = verdict.result("duration")
    assert result.ok is False
    assert (result.value, result.limit) == ("37", "36")
    assert failed_rules(verdict) == ["duration"]


def test_duration_missing_refused():
    document = example()
    del document["duration_months"]
    assert check(document).result("duration").ok is False


def test_first_results_month_12_accepted():
    result = check(example()).result("first_results")
    assert result.ok is True
    assert (result.value, result.limit) == ("12", "12")


def test_first_results_month_13_refused():
    document = example()
    document["milestones"][0]["month"] = 13
    verdict = check(document)
    assert verdict.result("first_results").ok is False
    assert verdict.result("first_results").value == "13"
    assert failed_rules(verdict) == ["first_results"]


def test_first_results_none_refused():
    document = example()
    document["milestones"][0]["kind"] = "intermediate"
    result = check(document).result("first_results")
    assert result.ok is False
    assert result.value is None
    assert "non renseigné" in result.message
    assert "not given" in result.message_en


def test_first_results_earliest_of_several_counts():
    document = example()
    document["milestones"].append({"month": 20, "kind": "first_results", "label": "Suite"})
    assert check(document).result("first_results").value == "12"


# --- membership ----------------------------------------------------------------------------


def test_consortium_one_distinct_siret_refused():
    document = example()
    document["members"][1]["siret"] = LEAD_SIRET
    document["expenses"][1]["member"] = LEAD_SIRET
    document["financing"][2]["member"] = LEAD_SIRET
    result = check(document).result("consortium")
    assert result.ok is False
    assert (result.value, result.limit) == ("1", "2")


def test_consortium_duplicate_siret_counts_once():
    document = example()
    document["members"].append({"siret": PARTNER_SIRET, "name": "EdTech Immersia (bis)",
                                "kind": "edtech", "lead": False})
    result = check(document).result("consortium")
    assert result.ok is True
    assert result.value == "2"


def test_lead_none_refused():
    document = example()
    document["members"][0]["lead"] = False
    result = check(document).result("lead")
    assert result.ok is False
    assert (result.value, result.limit) == ("0", "1")


def test_lead_two_refused():
    document = example()
    document["members"][1]["lead"] = True
    verdict = check(document)
    assert verdict.result("lead").ok is False
    assert verdict.result("lead").value == "2"
    assert failed_rules(verdict) == ["lead"]


def test_siret_invalid_check_digit_refused_and_listed():
    document = example()
    document["members"][1]["siret"] = "55208131766523"
    document["expenses"][1]["member"] = "55208131766523"
    document["financing"][2]["member"] = "55208131766523"
    verdict = check(document)
    result = verdict.result("siret")
    assert result.ok is False
    assert result.value == "55208131766523"
    assert "55208131766523" in result.message
    assert failed_rules(verdict) == ["siret"]


def test_siret_no_members_refused():
    document = example()
    document["members"] = []
    document["expenses"] = []
    document["financing"] = [{"source": "aid", "amount": "560000.00"}]
    assert check(document).result("siret").ok is False


def test_member_kind_not_accepted_by_definition_refused():
    text = (ROOT / "calls" / "deffinum.toml").read_text(encoding="utf-8")
    narrower = parse_definition(text.replace('"company", "content_publisher", "edtech",',
                                             '"company", "content_publisher",', 1))
    assert "edtech" not in narrower.eligibility.member_kinds
    verdict = check(example(), definition=narrower)
    assert verdict.result("member_kind").ok is False
    assert verdict.result("member_kind").value == "edtech"
    assert verdict.result("member_kind").message == (
        "Catégorie de membre non admise par l'appel : EdTech.")
    assert check(example()).result("member_kind").ok is True


# --- project -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["national", "interregional"])
def test_scope_allowed_accepted(scope):
    document = example()
    document["scope"] = scope
    assert check(document).result("scope").ok is True


@pytest.mark.parametrize("scope", ["regional", "local"])
def test_scope_regional_or_local_refused(scope):
    document = example()
    document["scope"] = scope
    verdict = check(document)
    result = verdict.result("scope")
    assert result.ok is False
    assert (result.value, result.limit) == (scope, "national, interregional")
    assert failed_rules(verdict) == ["scope"]
    declared = {"regional": "régionale", "local": "locale"}[scope]
    assert result.message == (f"La portée du projet doit être : nationale, interrégionale "
                              f"(déclarée : {declared}).")
    assert result.message_en == (f"The project's scope must be one of: national, "
                                 f"interregional (declared: {scope}).")


def test_pooling_false_refused():
    document = example()
    document["pooling_commitment"] = False
    verdict = check(document)
    assert verdict.result("pooling").ok is False
    assert verdict.result("pooling").value == "false"
    assert failed_rules(verdict) == ["pooling"]


def test_pooling_missing_refused():
    document = example()
    del document["pooling_commitment"]
    assert check(document).result("pooling").ok is False


# --- complete ------------------------------------------------------------------------------


def test_complete_missing_title_and_expenses_listed():
    document = example()
    del document["title"]
    del document["expenses"]
    verdict = check(document)
    result = verdict.result("complete")
    assert result.ok is False
    assert result.value == "title, expenses"
    assert result.message == "Le dossier est incomplet ; à renseigner : titre, dépenses."
    assert result.message_en == "The dossier is incomplete; still to fill in: title, expenses."


def test_complete_message_names_every_missing_section_in_words():
    verdict = check({"format": "guichet.dossier/1", "call": "deffinum"})
    assert verdict.result("complete").message == (
        "Le dossier est incomplet ; à renseigner : titre, résumé, portée, engagement de "
        "mutualisation, date de début, durée, membres du consortium, jalons, dépenses, aide "
        "demandée au plan de financement.")
    assert verdict.result("complete").message_en.endswith(
        "milestones, expenses, aid requested in the financing plan.")


def test_complete_incomplete_dossier_still_evaluated_on_every_rule():
    document = example()
    del document["title"]
    del document["expenses"]
    verdict = check(document)
    assert [result.rule for result in verdict.results] == RULE_ORDER
    assert verdict.eligible is False
    assert verdict.figures.eligible_base == Decimal("0.00")
    assert failed_rules(verdict) == ["complete", "minimum_base", "aid_cap", "balanced_plan"]
    assert verdict.result("consortium").ok is True
    assert verdict.result("cofinancing").limit == "0.00"
    assert verdict.result("deadline").ok is True


def test_complete_empty_draft_lists_every_missing_section():
    verdict = check({"format": "guichet.dossier/1", "call": "deffinum"})
    assert verdict.result("complete").value == (
        "title, summary, scope, pooling_commitment, start_date, duration_months, members, "
        "milestones, expenses, financing.aid")
    assert [result.rule for result in verdict.results] == RULE_ORDER[:-1]
    assert verdict.eligible is False


def test_complete_empty_title_counts_as_missing():
    document = example()
    document["title"] = ""
    assert check(document).result("complete").value == "title"


def test_complete_without_aid_line_lists_financing_aid():
    document = example()
    document["financing"] = document["financing"][1:]
    assert check(document).result("complete").value == "financing.aid"


# --- deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "wave"),
    [
        ("2021-08-31T11:59:59+02:00", "w1"),
        ("2021-08-31T09:59:59Z", "w1"),
        ("2021-08-31T12:00:00+02:00", None),
        ("2021-08-31T10:00:00Z", None),
        ("2021-06-01T00:00:00+02:00", "w1"),
        ("2021-05-31T22:00:00Z", "w1"),
        ("2021-05-31T23:59:59+02:00", None),
        ("2021-05-31T21:59:59Z", None),
        ("2021-12-30T10:59:59Z", "w2"),
        ("2021-12-30T11:59:59+01:00", "w2"),
        ("2021-12-30T11:00:00Z", None),
        ("2021-12-30T12:00:00+01:00", None),
        ("2021-09-30T00:00:00+02:00", "w2"),
        ("2021-09-29T23:59:59+02:00", None),
        ("2022-05-02T09:59:59Z", "w3"),
        ("2022-05-02T10:00:00Z", None),
        ("2021-09-15T12:00:00+02:00", None),
    ],
)
def test_deadline_one_second_around_window_edges(instant, wave):
    verdict = check(at_instant(instant))
    result = verdict.result("deadline")
    assert verdict.wave == wave
    assert result.ok is (wave is not None)
    assert verdict.eligible is (wave is not None)


def test_deadline_value_and_limit_in_paris_time():
    result = check(at_instant("2021-08-31T09:59:59Z")).result("deadline")
    assert result.value == "2021-08-31T11:59:59+02:00"
    assert result.limit == "2021-08-31T12:00:00+02:00"
    winter = check(at_instant("2021-12-30T10:59:59Z")).result("deadline")
    assert winter.value == "2021-12-30T11:59:59+01:00"
    assert winter.limit == "2021-12-30T12:00:00+01:00"


def test_deadline_refused_has_no_limit_and_says_outside_windows():
    result = check(at_instant("2021-08-31T10:00:00Z")).result("deadline")
    assert result.ok is False
    assert result.limit is None
    assert result.message == (
        "Reçu le 31/08/2021 12:00:00 (CEST), hors de toute fenêtre de dépôt de l'appel.")
    assert "outside every submission window" in result.message_en


def test_deadline_absent_when_no_instant_known():
    document = example()
    del document["submitted_at"]
    verdict = check(document)
    assert "deadline" not in [result.rule for result in verdict.results]
    assert verdict.wave is None
    assert verdict.eligible is True


def test_deadline_at_argument_used_when_dossier_has_none():
    document = example()
    del document["submitted_at"]
    inside = check(document, at=dt.datetime(2021, 12, 30, 10, 59, 59, tzinfo=dt.UTC))
    assert inside.wave == "w2"
    assert inside.result("deadline").ok is True
    outside = check(document, at=dt.datetime(2021, 12, 30, 11, 0, 0, tzinfo=dt.UTC))
    assert outside.wave is None
    assert outside.result("deadline").ok is False


def test_deadline_submitted_at_preferred_over_at_argument():
    verdict = check(example(), at=dt.datetime(2022, 6, 1, tzinfo=dt.UTC))
    assert verdict.wave == "w1"
    assert verdict.result("deadline").value == "2021-08-31T11:59:59+02:00"


# --- verdict as a whole --------------------------------------------------------------------


def varied_documents() -> list[dict]:
    incomplete = example()
    del incomplete["title"]
    del incomplete["expenses"]
    late = at_instant("2021-08-31T10:00:00Z")
    late["scope"] = "regional"
    late["members"][1]["lead"] = True
    late["pooling_commitment"] = False
    late["milestones"] = []
    late["duration_months"] = 48
    return [example(), incomplete, late, {"format": "guichet.dossier/1", "call": "deffinum"},
            plan("499999.99", "400000.00", "50000.00", "60000.00")]


@pytest.mark.parametrize("document", varied_documents())
def test_evaluate_every_result_has_french_and_english_messages(document):
    for result in check(document).results:
        assert result.message.strip(), result.rule
        assert result.message_en.strip(), result.rule
        assert result.message != result.message_en, result.rule
        assert "{" not in result.message + result.message_en, result.rule


@pytest.mark.parametrize("document", varied_documents())
def test_evaluate_eligible_exactly_when_every_result_ok(document):
    verdict = check(document)
    assert verdict.eligible is all(result.ok for result in verdict.results)
    assert verdict.failed == failed_rules(verdict)
    assert verdict.to_dict()["eligible"] is verdict.eligible


@pytest.mark.parametrize("document", varied_documents())
def test_evaluate_to_dict_amounts_are_two_decimal_strings(document):
    data = check(document).to_dict()
    json.dumps(data)  # ready for JSON
    figures = data["figures"]
    for name, value in figures.items():
        if name == "aid_rate":
            assert value is None or re.fullmatch(r"^\d+\.\d{4}$", value)
        else:
            assert AMOUNT.fullmatch(value), (name, value)
    for result in data["results"]:
        assert set(result) == {"rule", "ok", "value", "limit", "message", "message_en"}
        if result["rule"] in {"minimum_base", "aid_cap", "cofinancing", "in_kind_cap",
                              "balanced_plan"}:
            assert AMOUNT.fullmatch(result["value"]), result
            assert AMOUNT.fullmatch(result["limit"]), result
        for key in ("value", "limit"):
            assert result[key] is None or isinstance(result[key], str)


def test_evaluate_to_dict_results_match_result_objects():
    verdict = check(example())
    data = verdict.to_dict()
    assert [result["rule"] for result in data["results"]] == RULE_ORDER
    aid_cap = next(result for result in data["results"] if result["rule"] == "aid_cap")
    assert aid_cap == {
        "rule": "aid_cap", "ok": True, "value": "560000.00", "limit": "560000.00",
        "message": "L'aide demandée ne dépasse pas 70 % de l'assiette éligible "
                   "(560\u202f000,00\u00a0€).",
        "message_en": "The aid requested is within 70% of the eligible base (€560,000.00).",
    }


@pytest.mark.parametrize("blank", [" ", "\t\n", "\u00a0", "\u2003\u3000", "\u202f\u2029"])
def test_complete_blank_title_and_summary_count_as_missing(blank):
    document = example()
    document["title"] = document["summary"] = blank
    verdict = check(document)
    assert verdict.result("complete").value == "title, summary"
    assert verdict.eligible is False


def test_missing_fields_blank_text_of_unparsed_dossier_counts_as_missing():
    dossier = Dossier(format="guichet.dossier/1", call="deffinum", title="\u2003 ",
                      summary="\u00a0")
    assert missing_fields(dossier)[:2] == ["title", "summary"]


def test_complete_with_documents_lists_missing_required_attachments():
    dossier = parse_dossier(json.dumps(example()))
    verdict = evaluate(dossier, DEFFINUM, documents={"lead_statutes", "other_kind"})
    assert verdict.result("complete").value == (
        "documents.commitment_letters, documents.financial_annex")
    assert verdict.eligible is False
    every = {document.id for document in DEFFINUM.required_documents}
    assert evaluate(dossier, DEFFINUM, documents=every).result("complete").ok is True
    assert evaluate(dossier, DEFFINUM).result("complete").ok is True  # guichet check: no files


# --- a definition read afresh, and the cache of prepared definitions --------------------------


DEFFINUM_TEXT = (ROOT / "calls" / "deffinum.toml").read_text(encoding="utf-8")


def test_evaluate_with_definition_read_afresh_explains_scope_deadline_and_pooling():
    """A definition object never evaluated before is prepared anew: its sentences, scopes and
    time zone are its own."""
    fresh = parse_definition(DEFFINUM_TEXT)
    document = at_instant("2021-08-31T09:00:00Z")
    document["scope"] = "regional"
    verdict = check(document, definition=fresh)
    scope = verdict.result("scope")
    assert (scope.ok, scope.value, scope.limit) == (False, "regional", "national, interregional")
    assert "nationale, interrégionale (déclarée : régionale)" in scope.message
    deadline = verdict.result("deadline")
    assert (deadline.value, deadline.limit) == ("2021-08-31T11:00:00+02:00",
                                                "2021-08-31T12:00:00+02:00")
    assert verdict.to_dict() == check(document).to_dict()


def test_evaluate_prepares_each_definition_once():
    fresh = parse_definition(DEFFINUM_TEXT)
    assert _prepare(fresh) is _prepare(fresh)
    assert _prepare(fresh) is not _prepare(DEFFINUM)


def test_evaluate_keeps_at_most_64_prepared_definitions():
    definitions = [parse_definition(DEFFINUM_TEXT) for _ in range(65)]
    for definition in definitions:
        _prepare(definition)
        assert len(_prepared) <= 64
    assert _prepared[id(definitions[-1])][0] is definitions[-1]


# --- what a verdict writes ------------------------------------------------------------------


def test_verdict_to_dict_has_the_contract_keys():
    data = check(example()).to_dict()
    assert list(data) == ["eligible", "call", "rules_version", "wave", "figures", "results"]
    assert (data["eligible"], data["call"], data["rules_version"], data["wave"]) == (
        True, "deffinum", "deffinum-2021.1", "w1")


def test_verdict_without_instant_has_no_wave():
    document = example()
    del document["submitted_at"]
    verdict = check(document)
    assert verdict.wave is None
    assert verdict.to_dict()["wave"] is None


@pytest.mark.parametrize(("pooling", "text"), [(True, "true"), (False, "false")])
def test_pooling_value_written_true_or_false(pooling, text):
    document = example()
    document["pooling_commitment"] = pooling
    assert check(document).result("pooling").value == text


def test_siret_and_member_kind_list_every_offender():
    document = example()
    document["members"][0]["siret"] = "73282932000075"
    document["members"][1]["siret"] = "55208131766521"
    document["expenses"] = []
    document["financing"] = [{"source": "aid", "amount": "1.00"}]
    assert check(document).result("siret").value == "73282932000075, 55208131766521"
    narrower = parse_definition(DEFFINUM_TEXT.replace(
        '"training_network", ', '', 1).replace('"edtech", ', '', 1))
    kinds = check(example(), definition=narrower).result("member_kind")
    assert (kinds.ok, kinds.value) == (False, "edtech, training_network")


def test_figures_add_up_several_lines_of_one_source():
    document = plan("800000.00", "560000.00", "100000.00", "70000.00")
    document["financing"].append({"source": "own_cash", "member": LEAD_SIRET,
                                  "amount": "70000.00"})
    figures = check(document).figures
    assert figures.cofinancing == Decimal("240000.00")
    assert figures.total_financing == Decimal("800000.00")


def test_in_kind_cap_on_the_eligible_base_when_the_definition_says_so():
    on_base = parse_definition(DEFFINUM_TEXT.replace(
        'in_kind_cap_base = "cofinancing"', 'in_kind_cap_base = "eligible_base"', 1))
    figures = check(example(), definition=on_base).figures
    assert figures.in_kind_cap == Decimal("240000.00")  # 30 % of 800 000, not of 240 000
    assert check(example()).figures.in_kind_cap == Decimal("72000.00")
