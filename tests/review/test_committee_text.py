"""The committee's funding line in sentences: each kind of reason the rules core gives, as the
committee page writes it (French, and English through the catalogue)."""

import pytest
from django.utils import translation

from guichet.grants.models import SelectionRun
from guichet.review.committee_text import describe_run, why_impossible
from guichet.rules.definition import shipped_definition
from guichet.rules.selection import (
    explain,
    parse_selection_instance,
    selection_result_to_dict,
    solve_selection,
)

DEFINITION = shipped_definition("deffinum")
NAMES = {f"d{n}": f"DEFFINUM-W1-00000{n}" for n in range(1, 8)}


def instance(dossiers, budget, **extra) -> dict:
    """Dossiers as (number, aid, score, region, sector)."""
    return {"budget": budget, "objective": "score_sum", "min_score": 2.5, **extra,
            "dossiers": [{"id": f"d{n}", "aid": aid, "score": score,
                          "groups": {"region": region, "sector": sector}}
                         for n, aid, score, region, sector in dossiers]}


def run_of(document: dict) -> SelectionRun:
    parsed = parse_selection_instance(document)
    result = selection_result_to_dict(solve_selection(parsed))
    return SelectionRun(instance=document, result=result, normalised=False,
                        explanation=explain(parsed, result["selected"],
                                            result["rank_order"]["selected"]))


def reasons(entries) -> list[tuple[str, str]]:
    return [(entry.name, entry.reason.replace("\u202f", " ").replace("\xa0", " "))
            for entry in entries]


def test_describe_cap_reached_and_room_freed():
    text = describe_run(run_of(instance(
        [(1, "900000.00", 4.8, "11", "btp"), (2, "500000.00", 4.5, "11", "btp"),
         (3, "500000.00", 4.4, "11", "btp"), (4, "600000.00", 3.0, "28", "btp")],
        "2000000.00", caps=[{"group": "region", "value": "11", "max_aid": "1000000.00"}])),
        NAMES, DEFINITION)
    assert reasons(text.leaves) == [("DEFFINUM-W1-000001",
                                     "plafond région Île-de-France atteint")]
    assert reasons(text.enters) == [
        ("DEFFINUM-W1-000002", "plafond région Île-de-France : place libérée par "
                               "DEFFINUM-W1-000001"),
        ("DEFFINUM-W1-000003", "plafond région Île-de-France : place libérée par "
                               "DEFFINUM-W1-000001")]
    assert text.summary == ("Le portefeuille optimal diffère de la ligne au rang ; il compte 3 "
                            "inversions de rang (un dossier mieux noté écarté au profit d'un "
                            "autre).")


def test_describe_floor_brings_in_a_sector():
    text = describe_run(run_of(instance(
        [(1, "500000.00", 4.0, "11", "btp"), (2, "500000.00", 3.9, "11", "btp"),
         (3, "500000.00", 2.6, "28", "sante")], "1000000.00",
        floors=[{"group": "sector", "value": "sante", "min_count": 1}])), NAMES, DEFINITION)
    assert reasons(text.enters) == [("DEFFINUM-W1-000003", "plancher filière Santé, social et "
                                                           "soin : au moins 1 projet")]
    assert reasons(text.leaves) == [("DEFFINUM-W1-000002", "budget : l'aide de 500 000,00 € ne "
                                                           "tient plus dans le budget restant")]


def test_describe_below_threshold_and_pins_named_apart():
    text = describe_run(run_of(instance(
        [(1, "500000.00", 4.9, "11", "btp"), (2, "400000.00", 3.0, "11", "btp"),
         (3, "100000.00", 1.0, "11", "btp")], "1000000.00", pinned_out=["d1"],
        pinned_in=["d2"])), NAMES, DEFINITION)
    assert (text.pinned_in, text.pinned_out) == (["DEFFINUM-W1-000002"], ["DEFFINUM-W1-000001"])
    assert text.below_min_score == ("Sous la note minimale de l'appel (2,50) : "
                                    "DEFFINUM-W1-000003.")
    assert text.summary == "Les deux lignes retiennent les mêmes dossiers."


def test_describe_in_english_uses_the_catalogue():
    run = run_of(instance([(1, "1100000.00", 4.9, "11", "btp"),
                           (2, "500000.00", 4.0, "11", "btp")], "1000000.00"))
    with translation.override("en"):
        text = describe_run(run, NAMES, DEFINITION)
    assert text.summary == ("Both lines select the same applications, with the same rank "
                            "inversion (a better-scored application left out for lack of room).")
    assert reasons(text.passed_over) == [
        ("DEFFINUM-W1-000001", "budget: the aid of €1,100,000.00 no longer fits in the budget "
                               "left")]


@pytest.mark.parametrize(("why", "sentence"), [
    ({"kind": "pinned_both", "dossier": "d1"},
     "DEFFINUM-W1-000001 est à la fois retenu et écarté d'office"),
    ({"kind": "pinned_over_budget", "need": "1200000.00", "budget": "1000000.00"},
     "les dossiers retenus d'office demandent 1 200 000,00 €, plus que le budget disponible "
     "(1 000 000,00 €)"),
    ({"kind": "floor_over_cap", "group": "sector", "value": "btp", "min_count": 2,
      "need": "900000.00", "cap": "500000.00"},
     "le plancher filière Bâtiment et travaux publics : ses 2 projets les moins coûteux "
     "demandent 900 000,00 €, plus que son plafond (500 000,00 €)"),
    ({"kind": "no_selection"}, "aucune sélection ne respecte à la fois le budget, les plafonds, "
                               "les planchers et les décisions d'office"),
])
def test_why_impossible_in_french(why, sentence):
    text = why_impossible(why, NAMES, DEFINITION).replace("\u202f", " ").replace("\xa0", " ")
    assert text == sentence
