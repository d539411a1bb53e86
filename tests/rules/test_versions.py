"""The difference between two versions of a dossier, field by field and line by line."""

import copy
import json
from pathlib import Path

from guichet.rules.dossier import dossier_from_builtins
from guichet.rules.versions import ADDED, CHANGED, REMOVED, Change, diff_dossiers, diff_fields

EXAMPLE = json.loads((Path(__file__).parent.parent / "data" / "contract-example.json")
                     .read_text())
LEAD, EDTECH = "73282932000074", "55208131766522"


def versions(edit):
    """The contract example, and a copy changed by `edit`."""
    new = copy.deepcopy(EXAMPLE)
    edit(new)
    return dossier_from_builtins(EXAMPLE), dossier_from_builtins(new)


def test_diff_of_identical_versions_is_empty():
    old, new = versions(lambda document: None)
    assert diff_dossiers(old, new) == []


def test_diff_names_a_changed_project_field_with_both_values():
    old, new = versions(lambda d: d.update(duration_months=30, title="Campus hybride v2"))
    assert diff_dossiers(old, new) == [
        Change("project", CHANGED, "title", EXAMPLE["title"], "Campus hybride v2"),
        Change("project", CHANGED, "duration_months", 36, 30)]


def test_diff_shows_a_budget_line_amount_change_to_the_cent():
    def edit(document):
        document["expenses"][1]["amount"] = "349999.99"
    old, new = versions(edit)
    [change] = diff_dossiers(old, new)
    assert (change.section, change.kind, change.field) == ("expenses", CHANGED, "amount")
    assert (change.before, change.after) == ("350000.00", "349999.99")
    assert change.line["label"] == "Simulateurs"


def test_diff_reads_a_relabelled_line_as_removed_and_added():
    def edit(document):
        document["expenses"][0]["label"] = "Ingénierie"
    old, new = versions(edit)
    changes = diff_dossiers(old, new)
    assert [(c.section, c.kind, c.line["label"]) for c in changes] == [
        ("expenses", REMOVED, "Ingénierie pédagogique"), ("expenses", ADDED, "Ingénierie")]


def test_diff_lists_an_added_member_and_a_removed_milestone():
    def edit(document):
        document["members"].append({"siret": "35600000000048", "name": "Lycée Vauban",
                                    "kind": "school", "lead": False})
        del document["milestones"][0]
    old, new = versions(edit)
    changes = diff_dossiers(old, new)
    assert [(c.section, c.kind) for c in changes] == [("members", ADDED),
                                                      ("milestones", REMOVED)]
    assert changes[0].line["name"] == "Lycée Vauban"
    assert changes[1].line["kind"] == "first_results"


def test_diff_ignores_a_move_of_lines_in_the_list():
    old, new = versions(lambda d: d["expenses"].reverse())
    assert diff_dossiers(old, new) == []


def test_diff_matches_lines_with_the_same_identity_in_order():
    def edit(document):
        document["financing"].append({"source": "aid", "amount": "10.00"})
    old, new = versions(edit)
    [change] = diff_dossiers(old, new)
    assert (change.section, change.kind, change.line["amount"]) == ("financing", ADDED, "10.00")


def test_diff_sees_a_member_role_change():
    def edit(document):
        document["members"][0]["lead"] = False
        document["members"][1]["lead"] = True
    old, new = versions(edit)
    assert [(c.line["siret"], c.field, c.before, c.after) for c in diff_dossiers(old, new)] == [
        (LEAD, "lead", True, False), (EDTECH, "lead", False, True)]


def test_diff_fields_lists_a_field_only_in_the_old_version():
    assert diff_fields("hybrid", {"distance_share": 40, "tools": "VR"}, {"tools": "VR"}) == [
        Change("hybrid", CHANGED, "distance_share", 40, None)]
