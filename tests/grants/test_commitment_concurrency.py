"""Fifty commitments at once against an envelope that fits only some: never over-committed,
on PostgreSQL.

This is the only test of the commitment lock (commit_grant's select_for_update on the
programme). SQLite serialises every write, so on SQLite these tests are skipped and `make test`
stays green even without the lock: the PostgreSQL run of .ci/run (DATABASE_URL set) is the one
that fails when the lock is removed. Run it after touching commitments:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB .venv/bin/pytest \
        tests/grants/test_commitment_concurrency.py
"""

import datetime as dt
import json
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from guichet.audit.models import AuditEvent
from guichet.audit.services import verify_chain
from guichet.calls.models import Call, CallStatus, Programme
from guichet.dossiers.format import frozen_submission
from guichet.dossiers.models import Dossier, DossierStatus, Submission
from guichet.grants.commitment import commit_grant
from guichet.grants.errors import GrantRefused
from guichet.grants.models import Decision, DecisionStatus, Grant, Outcome, Tranche
from guichet.grants.selectors import programme_remaining
from guichet.review.models import Role
from guichet.rules import dossier as fmt
from guichet.rules.money import format_eur_fr
from tests.factories import bulk_submitted_dossiers, staff

IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
CONTENDERS = 50
AWARD = Decimal("400000.00")
LEFT_OVER = Decimal("100000.00")  # what remains once every commitment that fits is made

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite serialises writes, so it cannot catch a missing "
                              "commitment lock (select_for_update on the programme): "
                              ".ci/run runs this file on PostgreSQL, set DATABASE_URL to run it"),
]


def _pending_decisions(call, example_document, count: int) -> list[int]:
    """`count` instructed dossiers of wave 1, each with a frozen submission (the example
    dossier's figures: 800 000 € base, 36 months) and a pending decision selecting it."""
    wave = call.waves.get(code="w1")
    bulk_submitted_dossiers(call, count, wave=wave)
    committee = staff(call, "comite@example.fr", Role.COMMITTEE)
    document = fmt.dossier_from_builtins(dict(example_document,
                                              submitted_at=IN_WAVE_ONE.isoformat()))
    dossiers = list(Dossier.objects.filter(call=call, wave=wave))
    snapshots = [frozen_submission(dossier, document) for dossier in dossiers]
    Submission.objects.bulk_create(
        Submission(dossier=dossier, version=1, received_at=IN_WAVE_ONE, wave=wave,
                   snapshot=snapshot.decode(), sha256=fmt.sha256_hex(snapshot),
                   rules_version=call.rules_version, eligible=True, verdict={})
        for dossier, snapshot in zip(dossiers, snapshots, strict=True))
    Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(
        status=DossierStatus.INSTRUCTED, requested_aid=AWARD)
    decisions = Decision.objects.bulk_create(
        Decision(dossier=dossier, outcome=Outcome.SELECTED, awarded_aid=AWARD,
                 prepared_by=committee, prepared_at=IN_WAVE_ONE)
        for dossier in dossiers)
    return [decision.pk for decision in decisions]


def _race(decision_pks: list[int], by) -> list:
    barrier = threading.Barrier(len(decision_pks))
    outcomes = []

    def contender(decision_pk: int):
        try:
            decision = Decision.objects.select_related("dossier").get(pk=decision_pk)
            barrier.wait()
            with transaction.atomic():
                outcomes.append(commit_grant(decision, by))
        except GrantRefused as refused:
            outcomes.append(refused)
        except Exception as unexpected:  # reported by the assertions
            outcomes.append(unexpected)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contender, args=(pk,)) for pk in decision_pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize(("round_number", "fitting"), [(0, 20), (1, 7), (2, 33)])
def test_parallel_commitments_never_exceed_envelope(deffinum, example_document, round_number,
                                                    fitting):
    envelope = fitting * AWARD + LEFT_OVER
    Programme.objects.filter(pk=deffinum.programme_id).update(envelope=envelope)
    admin = staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR)
    decision_pks = _pending_decisions(deffinum, example_document, CONTENDERS)

    outcomes = _race(decision_pks, admin)

    grants = [outcome for outcome in outcomes if isinstance(outcome, Grant)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, GrantRefused)]
    unexpected = [outcome for outcome in outcomes
                  if not isinstance(outcome, Grant | GrantRefused)]
    assert unexpected == []
    assert len(outcomes) == CONTENDERS
    assert len(grants) == fitting
    assert len(refusals) == CONTENDERS - fitting
    remaining = format_eur_fr(LEFT_OVER)
    assert all(f"({remaining})" in refusal.message for refusal in refusals), [
        refusal.message for refusal in refusals if remaining not in refusal.message]
    committed = sum(Grant.objects.values_list("award", flat=True), Decimal(0))
    assert committed <= envelope
    assert committed == fitting * AWARD
    assert Grant.objects.count() == fitting
    assert programme_remaining(
        Programme.objects.get(pk=deffinum.programme_id)) == LEFT_OVER
    assert Tranche.objects.count() == 3 * fitting
    assert AuditEvent.objects.filter(action="grant.committed").count() == fitting
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PENDING}
    # 100 000 € left is under the early-closure threshold: the call closed, exactly once.
    call = Call.objects.get(pk=deffinum.pk)
    assert call.status == CallStatus.CLOSED
    [closed] = AuditEvent.objects.filter(action="call.closed")
    assert remaining in json.loads(closed.details)["message"]
    assert verify_chain().intact
