"""Early closure: a wave that had not opened is cancelled, keeps its planned dates, and is shown
as cancelled (home page, back office, money dashboard), never as closing before it opens."""

import datetime as dt
import re

import pytest
from django.utils.formats import date_format

from guichet.calls.models import Wave
from guichet.calls.services import close_call, load_call, open_wave
from guichet.core.clock import in_paris, now
from guichet.review.models import Role
from tests.conftest import DEFFINUM_TOML
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_early():
    """Deffinum with its second wave open today, closed early by its administrator."""
    call = load_call(DEFFINUM_TOML, demo_today=in_paris(now()).date()).call
    planned = {wave.code: (wave.opens_at, wave.closes_at) for wave in call.waves.all()}
    admin = staff(call, "admin@example.fr", Role.ADMINISTRATOR)
    close_call(call, admin, "Le programme est réorienté.")
    call.refresh_from_db()
    return call, admin, planned


def _paris(instant: dt.datetime) -> str:
    return date_format(in_paris(instant), "j F Y, H:i")


def test_closure_cancels_the_wave_not_yet_open_and_keeps_its_dates(closed_early):
    call, _admin, planned = closed_early
    waves = {wave.code: wave for wave in Wave.objects.filter(call=call)}
    assert (waves["w3"].opens_at, waves["w3"].closes_at) == planned["w3"]
    assert waves["w2"].closes_at == call.closed_at  # the open wave closes now
    assert [waves[code].is_cancelled for code in ("w1", "w2", "w3")] == [False, False, True]
    assert open_wave(call, planned["w3"][0] + dt.timedelta(days=1)) is None


def test_home_shows_the_cancelled_wave_as_cancelled_with_its_dates(client, closed_early):
    _call, _admin, planned = closed_early
    html = client.get("/").content.decode()
    assert re.findall(r'data-wave-state="(\w+)"', html) == ["closed", "closed", "cancelled"]
    row = re.search(r"<tr>\s*<th scope=\"row\">Vague 3</th>(.*?)</tr>", html, re.S).group(1)
    opens, closes = planned["w3"]
    assert _paris(opens) in row
    assert _paris(closes) in row
    assert "Annulée" in row


def test_back_office_and_dashboard_say_the_wave_is_cancelled(client, closed_early):
    _call, admin, _planned = closed_early
    client.force_login(admin)
    home = client.get("/instruction/").content.decode()
    assert "comité Vague 3 (annulée)" in home
    assert "comité Vague 2</a>" in home
    dashboard = client.get("/instruction/tableau-de-bord/").content.decode()
    assert "Dispositifs France formation innovante numérique — Vague 3 (annulée)" in dashboard
    assert "Dispositifs France formation innovante numérique — Vague 2<" in dashboard
