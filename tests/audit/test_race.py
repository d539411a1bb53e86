"""Parallel transactions appending audit events on different dossiers: the chain stays one line,
on PostgreSQL.

append_event locks the single AuditHead row (select_for_update) so that two transactions never
take the same sequence number or link to the same previous event. SQLite serialises every write,
so there this lock is never put to the test: only this file, run by .ci/run on PostgreSQL, fails
if the lock goes.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent, AuditHead
from guichet.audit.services import append_event, verify_chain
from guichet.dossiers.models import Dossier
from tests.factories import bulk_submitted_dossiers

CONTENDERS = 12

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite serialises writes, so it cannot race the audit head lock; "
                              ".ci/run runs this file on PostgreSQL"),
]


def _race(dossier_pks: list[int]) -> list:
    barrier = threading.Barrier(len(dossier_pks))
    outcomes = []

    def contender(dossier_pk: int):
        try:
            dossier = Dossier.objects.get(pk=dossier_pk)
            barrier.wait()
            with transaction.atomic():
                outcomes.append(append_event(AuditAction.DOSSIER_NOTE_WRITTEN, dossier,
                                             details={"dossier": dossier_pk}))
        except Exception as unexpected:  # reported by the assertions
            outcomes.append(unexpected)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contender, args=(pk,)) for pk in dossier_pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("round_number", range(3))
def test_parallel_audit_appends_on_different_dossiers_keep_one_linear_chain(deffinum,
                                                                           round_number):
    bulk_submitted_dossiers(deffinum, CONTENDERS)
    before = AuditHead.objects.get(pk=1).sequence
    dossier_pks = list(Dossier.objects.filter(call=deffinum).values_list("pk", flat=True))

    outcomes = _race(dossier_pks)

    assert [o for o in outcomes if not isinstance(o, AuditEvent)] == []
    events = list(AuditEvent.objects.filter(action=AuditAction.DOSSIER_NOTE_WRITTEN)
                  .order_by("sequence"))
    assert sorted(int(event.object_id) for event in events) == sorted(dossier_pks)
    assert [event.sequence for event in events] == list(
        range(before + 1, before + CONTENDERS + 1))
    previous = AuditEvent.objects.get(sequence=before)
    for event in events:
        assert event.prev_hash == previous.hash, event.sequence
        previous = event
    head = AuditHead.objects.get(pk=1)
    assert (head.sequence, head.hash) == (events[-1].sequence, events[-1].hash)
    report = verify_chain()
    assert report.intact, report.reason
    assert report.events == before + CONTENDERS
