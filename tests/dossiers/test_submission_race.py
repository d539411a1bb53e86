"""Two requests submitting the same dossier at once: exactly one receipt, on PostgreSQL."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from guichet.audit.services import verify_chain
from guichet.dossiers.models import Dossier, Submission
from guichet.dossiers.services import SubmissionRefused, submit
from tests.factories import make_dossier

IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks under real parallel transactions need PostgreSQL; "
                              ".ci/run runs this file on PostgreSQL"),
]


def _race(dossier_pk: int, contenders: int) -> list:
    barrier = threading.Barrier(contenders)
    outcomes = []

    def contender():
        try:
            barrier.wait()
            outcomes.append(submit(Dossier.objects.get(pk=dossier_pk), now=IN_WAVE_ONE))
        except SubmissionRefused as refused:
            outcomes.append(refused)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contender) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("round_number", range(5))
def test_submit_race_issues_exactly_one_receipt(deffinum, example_document, round_number):
    dossier = make_dossier(example_document)
    outcomes = _race(dossier.pk, contenders=4)
    receipts = [outcome for outcome in outcomes if isinstance(outcome, Submission)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, SubmissionRefused)]
    assert len(receipts) == 1
    assert len(refusals) == 3
    assert all("déjà été déposé" in refusal.message for refusal in refusals)
    assert Submission.objects.filter(dossier=dossier).count() == 1
    assert verify_chain().intact
