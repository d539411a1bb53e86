import datetime as dt
import re

import pytest
from django.core.management import call_command

from guichet.audit.services import verify_chain
from guichet.calls.services import load_call
from guichet.dossiers.format import dossier_queryset, export_dossier, submitted_dossier
from guichet.dossiers.models import Dossier
from guichet.grants.models import Grant
from guichet.grants.selectors import paid_total
from guichet.rules import dossier as fmt
from tests.conftest import DEFFINUM_TOML

pytestmark = pytest.mark.django_db


def _states(html: str) -> list[str]:
    return re.findall(r'data-wave-state="(\w+)"', html)


def test_home_lists_call_and_marks_open_wave(client):
    load_call(DEFFINUM_TOML, demo_today=dt.date.today())
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deffinum — Dispositifs France formation innovante numérique" in html
    assert _states(html) == ["closed", "open", "upcoming"]
    assert "300\u202f000\u202f000,00\u00a0€" in html


def test_home_real_dates_show_every_wave_closed(client, deffinum):
    html = client.get("/").content.decode()
    assert _states(html) == ["closed", "closed", "closed"]
    assert "31 août 2021, 12:00" in html


def test_home_in_english_after_language_switch(client, deffinum):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert response.status_code == 200
    assert "<html lang=\"en\"" in response.content.decode()


def test_dossier_schema_is_published(client):
    schema = client.get("/schemas/guichet.dossier-1.json").json()
    assert schema["$ref"] == "#/$defs/Dossier"
    assert schema["$defs"]["Dossier"]["properties"]["format"]["enum"] == ["guichet.dossier/1"]


def test_seeddemo_creates_submitted_and_draft_dossiers(client):
    call_command("loadcall", str(DEFFINUM_TOML), "--demo")
    call_command("seeddemo")
    call_command("seeddemo")
    statuses = sorted(Dossier.objects.values_list("status", flat=True))
    assert statuses == ["draft", "draft", "selected", "selected"]
    grants = Grant.objects.order_by("pk")
    assert [grant.status for grant in grants] == ["signed", "signed"]
    assert [paid_total(grant) > 0 for grant in grants] == [True, True]
    assert grants[0].tranches.get(number=2).status == "paid"
    assert verify_chain().intact
    for dossier in dossier_queryset().filter(status="selected"):
        assert dossier.submissions.get().eligible is True
        frozen = submitted_dossier(dossier.submissions.get().snapshot)
        assert export_dossier(dossier) == fmt.canonical_json(frozen)
