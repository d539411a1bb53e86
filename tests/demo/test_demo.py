"""The demo of `make run` (`loadcall --demo`, then `seeddemo`) is consistent with today, Paris."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from guichet.calls.models import Call
from guichet.core.clock import in_paris, now
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.dashboard import late_reports
from guichet.grants.models import Grant, Payment, Report, ReportStatus
from tests.conftest import DEFFINUM_TOML

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    """What `make run` loads, today."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("loadcall", str(DEFFINUM_TOML), "--demo", stdout=io.StringIO())
    call_command("seeddemo", stdout=io.StringIO())
    return Call.objects.get(code="deffinum")


def test_demo_drafts_start_after_today(demo):
    today = in_paris(now()).date()
    drafts = Dossier.objects.filter(call=demo, status=DossierStatus.DRAFT)
    assert drafts.count() == 2
    assert all(start > today for start in drafts.values_list("start_date", flat=True)), (
        today, list(drafts.values_list("start_date", flat=True)))


def test_demo_grants_have_no_report_overdue_on_day_one(demo):
    today = in_paris(now()).date()
    assert Grant.objects.filter(dossier__call=demo).count() == 2
    assert list(late_reports(demo, today)) == []
    pending = Report.objects.filter(grant__dossier__call=demo).exclude(
        status=ReportStatus.APPROVED)
    assert pending.count() == 3  # the second grant's two reports, the first grant's final one
    assert all(report.due_on > today for report in pending)


def test_demo_money_and_receipts_are_in_the_past(demo):
    today = in_paris(now()).date()
    assert sorted(Payment.objects.values_list("paid_on", flat=True)) == [today] * 3
    for dossier in Dossier.objects.filter(call=demo).exclude(status=DossierStatus.DRAFT):
        received = dossier.submissions.get().received_at
        assert received < now()
        assert dossier.start_date <= today < dossier.start_date + dt.timedelta(days=31)
