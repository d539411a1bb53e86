"""The demo of `make run` (`loadcall --demo`, then `seeddemo`) is consistent with today, Paris."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from guichet.calls.models import Call
from guichet.core.clock import in_paris, now
from guichet.demo.grants import REGIONAL_STAFF, STAFF
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants.dashboard import late_reports
from guichet.grants.models import Grant, Payment, Report, ReportStatus
from guichet.review.models import CallRole
from tests.conftest import DEFFINUM_TOML, EXAMPLE_REGIONAL_TOML

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


@pytest.fixture
def regional_demo(demo):
    """`make run` also loads the regional example call beside Deffinum."""
    call_command("loadcall", str(EXAMPLE_REGIONAL_TOML), "--demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seeddemo", stdout=out)
    return Call.objects.get(code="deffinov-exemple"), out.getvalue()


def test_regional_demo_dossiers_eligible_under_the_regional_rules(regional_demo):
    call, _out = regional_demo
    dossiers = Dossier.objects.filter(call=call).order_by("pk")
    assert [dossier.status for dossier in dossiers] == [DossierStatus.SUBMITTED,
                                                       DossierStatus.DRAFT]
    submitted = dossiers[0]
    submission = submitted.submissions.get()
    assert submission.eligible is True, submission.verdict
    assert submission.rules_version == "deffinov-exemple-2026.3"
    figures = submission.verdict["figures"]
    assert Decimal(figures["aid"]) == Decimal(figures["aid_cap"]) == (
        Decimal(figures["eligible_base"]) * Decimal("0.50")).quantize(Decimal("1")), figures
    assert submitted.submissions.get().received_at < now()
    assert call.waves.get().opens_at < now() < call.waves.get().closes_at


def test_regional_demo_staff_serve_only_their_call(regional_demo):
    call, out = regional_demo
    deffinum = Call.objects.get(code="deffinum")
    for email in REGIONAL_STAFF.values():
        assert set(CallRole.objects.filter(user__email=email)
                   .values_list("call_id", flat=True)) == {call.pk}
        assert email in out
    for email in STAFF.values():
        assert set(CallRole.objects.filter(user__email=email)
                   .values_list("call_id", flat=True)) == {deffinum.pk}
    assert Dossier.objects.filter(call=deffinum).count() == 4  # Deffinum's demo is unchanged
