import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from guichet.audit.models import AuditEvent
from guichet.calls.models import Call, CallDefinitionVersion, Programme, Wave
from guichet.calls.services import RulesVersionConflict, load_call, open_wave
from guichet.rules.definition import definition_to_builtins, shipped_definition
from tests.conftest import DEFFINUM_TOML

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def test_loadcall_creates_programme_call_and_waves():
    call = load_call(DEFFINUM_TOML).call
    assert call.programme.envelope == 300_000_000
    waves = list(call.waves.order_by("position"))
    assert [w.code for w in waves] == ["w1", "w2", "w3"]
    assert waves[0].closes_at == dt.datetime(2021, 8, 31, 10, 0, tzinfo=dt.UTC)
    assert waves[1].closes_at == dt.datetime(2021, 12, 30, 11, 0, tzinfo=dt.UTC)
    assert waves[0].budget == 100_000_000
    assert waves[1].budget is None
    assert call.rules().eligibility.minimum_base == 500_000


def test_loadcall_twice_is_idempotent():
    load_call(DEFFINUM_TOML)
    events = AuditEvent.objects.count()
    result = load_call(DEFFINUM_TOML)
    assert not result.created
    assert not result.new_version
    assert (Programme.objects.count(), Call.objects.count(), Wave.objects.count()) == (1, 1, 3)
    assert CallDefinitionVersion.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_loadcall_of_the_shipped_file_after_migration_0011_is_no_conflict(tmp_path):
    text = DEFFINUM_TOML.read_text()
    old = tmp_path / "old.toml"
    old.write_text(text[:text.index("[[sections]]")])
    call = load_call(old).call
    sections = definition_to_builtins(shipped_definition("deffinum"))["sections"]
    Call.objects.filter(pk=call.pk).update(  # what migration 0011 writes
        definition={**call.definition, "sections": sections})
    result = load_call(DEFFINUM_TOML)
    assert not result.new_version
    assert CallDefinitionVersion.objects.get(call=call).source == old.read_text()


def test_loadcall_of_other_sections_under_a_version_loaded_without_them_refused(tmp_path):
    text = DEFFINUM_TOML.read_text()
    old = tmp_path / "old.toml"
    old.write_text(text[:text.index("[[sections]]")])
    load_call(old)
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace('label = "Outils immersifs"', 'label = "Outils"'))
    with pytest.raises(RulesVersionConflict):
        load_call(changed)


def test_loadcall_changed_rules_without_new_version_refused(tmp_path):
    load_call(DEFFINUM_TOML)
    changed = tmp_path / "deffinum.toml"
    changed.write_text(DEFFINUM_TOML.read_text().replace(
        'minimum_base = "500000.00"', 'minimum_base = "400000.00"'))
    with pytest.raises(RulesVersionConflict, match=r"deffinum-2021\.1"):
        load_call(changed)
    assert Call.objects.get().rules().eligibility.minimum_base == 500_000


def test_loadcall_new_rules_version_is_recorded(tmp_path):
    load_call(DEFFINUM_TOML)
    changed = tmp_path / "deffinum.toml"
    changed.write_text(DEFFINUM_TOML.read_text().replace(
        'minimum_base = "500000.00"', 'minimum_base = "400000.00"').replace(
        'rules_version = "deffinum-2021.1"', 'rules_version = "deffinum-2021.2"'))
    call = load_call(changed).call
    assert call.rules_version == "deffinum-2021.2"
    assert call.rules().eligibility.minimum_base == 400_000
    assert CallDefinitionVersion.objects.count() == 2


def test_loadcall_demo_opens_second_wave_today_and_keeps_file():
    today = dt.date(2026, 11, 27)
    call = load_call(DEFFINUM_TOML, demo_today=today).call
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=PARIS)
    assert open_wave(call, noon).code == "w2"
    w1 = call.waves.get(code="w1")
    assert w1.closes_at < noon
    assert w1.closes_at.astimezone(PARIS).time() == dt.time(12, 0)
    assert call.rules().wave("w2").opens_at <= noon < call.rules().wave("w2").closes_at
    assert "closes_at = 2021-08-31T12:00:00" in DEFFINUM_TOML.read_text()


def test_loadcall_command_bad_file_names_key(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(DEFFINUM_TOML.read_text().replace(
        'aid_cap_rate = "0.70"', 'aid_cap_rate = "1.70"'))
    with pytest.raises(CommandError, match=r"broken\.toml: eligibility\.aid_cap_rate"):
        call_command("loadcall", str(broken))
    assert not Call.objects.exists()
