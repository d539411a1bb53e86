"""The envelope forecast read from the database: the pipeline, the dashboard, the command."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from guichet.calls.services import load_call
from guichet.core.clock import in_paris, now
from guichet.core.labels import money
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.review.forecast import wave_forecast
from guichet.review.models import Role
from tests.conftest import EXAMPLE_REGIONAL_TOML
from tests.factories import make_dossier, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def regional_today():
    """The regional example call with its single wave open today (opened 30 days ago)."""
    return load_call(EXAMPLE_REGIONAL_TOML, demo_today=in_paris(now()).date()).call


def _pipeline(document: dict, count: int, submitted: int = 0) -> list[Dossier]:
    dossiers = [make_dossier(document) for _ in range(count)]
    for dossier in dossiers[:submitted]:
        submit(dossier, now=now())
    return dossiers


def test_forecast_pipeline_of_drafts_and_submitted_dossiers(regional_today, regional_document):
    _pipeline(regional_document, 6, submitted=2)  # 400 000 € of aid each, all entered today
    wave, result = wave_forecast(regional_today, now())
    assert wave.code == "w1"
    assert result.budget == Decimal("6000000.00")
    assert result.expected_now == Decimal("2400000.00")  # no earlier wave: every rate is 1
    elapsed = (now() - wave.opens_at) / dt.timedelta(days=1)
    assert abs(result.per_day - Decimal(2400000 / elapsed)) < Decimal("1")
    # 3.6 M€ left at 2.4 M€ per `elapsed` days (about 30): 1.5 × elapsed, about 45 days,
    # before the close in about 90.
    days = (result.exhausted_at - now()) / dt.timedelta(days=1)
    assert abs(days - 1.5 * elapsed) < 0.01, (days, elapsed)
    assert result.earliest < result.exhausted_at < result.latest
    assert result.before_deadline is True


def test_forecast_ineligible_and_other_call_dossiers_left_out(
        regional_today, regional_document, deffinum, example_document):
    _pipeline(regional_document, 1)
    _pipeline(example_document, 3)  # Deffinum's drafts weigh on Deffinum only
    _wave, result = wave_forecast(regional_today, now())
    assert result.expected_now == Decimal("400000.00")


def test_forecast_none_when_no_wave_is_open(other_call):
    assert wave_forecast(other_call, now()) is None  # its real wave closed in June 2026


def test_dashboard_warns_of_an_exhaustion_before_the_deadline(
        client, regional_today, regional_document, deffinum):
    _pipeline(regional_document, 6)
    client.force_login(staff(regional_today, "admin-region@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/tableau-de-bord/").content.decode()
    assert 'data-testid="forecast-deffinov-exemple"' in page
    assert 'data-testid="forecast-warning"' in page
    assert money(Decimal("2400000.00")) in page  # the aid expected from today's pipeline
    client.force_login(staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/tableau-de-bord/").content.decode()
    assert 'data-testid="forecast-deffinov-exemple"' not in page


def test_dashboard_no_warning_when_the_envelope_outlasts_the_wave(
        client, regional_today, regional_document):
    _pipeline(regional_document, 2)  # 26 700 € a day against 5.2 M€: beyond the close
    client.force_login(staff(regional_today, "admin-region@example.fr", Role.ADMINISTRATOR))
    page = client.get("/instruction/tableau-de-bord/").content.decode()
    assert 'data-testid="forecast-deffinov-exemple"' in page
    assert 'data-testid="forecast-warning"' not in page


def test_forecast_command_prints_json_in_paris_time(regional_today, regional_document):
    _pipeline(regional_document, 6)
    out = io.StringIO()
    call_command("forecast", "deffinov-exemple", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["wave"] == "w1"
    assert printed["expected_now"] == "2400000.00"
    assert printed["before_deadline"] is True
    assert printed["exhausted_at"][-6:] in ("+01:00", "+02:00")
    assert printed["rates"]["observed"] is False
