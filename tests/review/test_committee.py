"""The committee's services (issue 11, item 6): a simulation adopted as the prepared decisions
in one step, and a what-if on the call's thresholds that writes nothing."""

import json
from decimal import Decimal

import pytest

from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.core.errors import ServiceError
from guichet.core.permissions import PermissionRefused
from guichet.dossiers.models import Submission
from guichet.grants.models import Decision, DecisionStatus, Outcome
from guichet.review.committee import adopt_simulation, simulate, threshold_what_if
from guichet.rules.whatif import Thresholds, thresholds_of
from tests.backoffice.test_committee_page import scaled
from tests.grants.test_decisions import instructed_dossier, pool_of_three, scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave_of_three(deffinum, team, example_document):
    """Three scored dossiers of wave 1 ("dear" asks twice the aid), a budget for two of the
    small ones only."""
    experts = pool_of_three(deffinum)
    dossiers = {}
    for name, document, score in (("dear", scaled(example_document, 2), 5),
                                  ("good", example_document, 4),
                                  ("fair", example_document, 3)):
        dossiers[name] = instructed_dossier(document, team["instructor"])
        scored(dossiers[name], team["instructor"], experts, score)
    Wave.objects.filter(code="w1").update(budget=Decimal("1200000.00"))
    return dossiers


def _wave(deffinum):
    return deffinum.waves.get(code="w1")


def test_adopt_simulation_prepares_the_selected_and_rejects_the_others(
        deffinum, team, wave_of_three):
    wave = _wave(deffinum)
    run = simulate(wave, team["committee"], objective="score_sum")
    prepared = adopt_simulation(wave, run.pk, team["committee"])
    outcomes = {d.dossier_id: (d.outcome, d.awarded_aid, d.status) for d in prepared}
    assert outcomes == {
        wave_of_three["good"].pk: (Outcome.SELECTED, Decimal("560000.00"),
                                   DecisionStatus.PENDING),
        wave_of_three["fair"].pk: (Outcome.SELECTED, Decimal("560000.00"),
                                   DecisionStatus.PENDING),
        wave_of_three["dear"].pk: (Outcome.REJECTED, None, DecisionStatus.PENDING)}
    rejected = Decision.objects.get(dossier=wave_of_three["dear"])
    assert rejected.motivation.startswith("Non retenu par le comité de sélection")
    event = AuditEvent.objects.get(action="review.selection_adopted")
    assert (event.object_id, json.loads(event.details)) == (str(run.pk),
                                                         {"selected": 2, "rejected": 1})


def test_adopt_simulation_replaces_pending_decisions(deffinum, team, wave_of_three):
    wave = _wave(deffinum)
    run = simulate(wave, team["committee"], objective="score_sum")
    adopt_simulation(wave, run.pk, team["committee"])
    adopt_simulation(wave, run.pk, team["committee"])
    assert Decision.objects.count() == 3


def test_adopt_simulation_older_run_refused_and_nothing_prepared(deffinum, team, wave_of_three):
    wave = _wave(deffinum)
    older = simulate(wave, team["committee"], objective="score_sum")
    simulate(wave, team["committee"], objective="score_weighted_aid")
    with pytest.raises(ServiceError, match="Seule la dernière simulation"):
        adopt_simulation(wave, older.pk, team["committee"])
    assert not Decision.objects.exists()


def test_adopt_simulation_by_instructor_refused(deffinum, team, wave_of_three):
    wave = _wave(deffinum)
    run = simulate(wave, team["committee"], objective="score_sum")
    with pytest.raises(PermissionRefused):
        adopt_simulation(wave, run.pk, team["instructor"])
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="review.selection_adopted").exists()


# --- what-if on the thresholds ----------------------------------------------------------------

def test_what_if_higher_minimum_base_makes_the_small_dossiers_ineligible(
        deffinum, team, wave_of_three):
    """The example dossier's base is 800 000 €; "dear" has 1 600 000 €."""
    wave = _wave(deffinum)
    frozen = list(Submission.objects.values_list("pk", "eligible", "verdict"))
    current = thresholds_of(deffinum.rules())
    comparison, dossiers = threshold_what_if(wave, team["committee"], Thresholds(
        Decimal("1000000.00"), current.aid_cap_rate, current.in_kind_cap_rate))
    changed = {dossiers[change.key].pk: (change.eligible_before, change.eligible_after,
                                         change.failed_after)
               for change in comparison.changes}
    assert changed == {wave_of_three["good"].pk: (True, False, ("minimum_base",)),
                       wave_of_three["fair"].pk: (True, False, ("minimum_base",))}
    assert (comparison.eligible_before, comparison.eligible_after) == (3, 1)
    assert comparison.aid_before == Decimal("2240000.00")
    assert comparison.aid_after == Decimal("1120000.00")
    assert list(Submission.objects.values_list("pk", "eligible", "verdict")) == frozen


def test_what_if_lower_aid_rate_fails_the_aid_cap_of_every_dossier(
        deffinum, team, wave_of_three):
    """The example asks 70 % of its base: a 60 % cap refuses it, and co-financing with it."""
    current = thresholds_of(deffinum.rules())
    comparison, _dossiers = threshold_what_if(_wave(deffinum), team["committee"], Thresholds(
        current.minimum_base, Decimal("0.60"), current.in_kind_cap_rate))
    assert {change.failed_after for change in comparison.changes} == {
        ("aid_cap", "cofinancing")}
    assert comparison.eligible_after == 0
    assert comparison.aid_after == Decimal("0")


def test_what_if_same_thresholds_change_nothing(deffinum, team, wave_of_three):
    comparison, _dossiers = threshold_what_if(_wave(deffinum), team["committee"],
                                              thresholds_of(deffinum.rules()))
    assert comparison.changes == []
    assert comparison.aid_before == comparison.aid_after == Decimal("2240000.00")


def test_what_if_rate_out_of_bounds_refused_naming_the_field(deffinum, team, wave_of_three):
    current = thresholds_of(deffinum.rules())
    with pytest.raises(ServiceError) as refused:
        threshold_what_if(_wave(deffinum), team["committee"], Thresholds(
            current.minimum_base, current.aid_cap_rate, Decimal("1.5")))
    assert refused.value.field == "in_kind_cap_rate"


def test_what_if_by_instructor_refused(deffinum, team, wave_of_three):
    with pytest.raises(PermissionRefused):
        threshold_what_if(_wave(deffinum), team["instructor"],
                          thresholds_of(deffinum.rules()))
