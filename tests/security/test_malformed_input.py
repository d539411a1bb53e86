"""Malformed input never gets a 500 or a traceback: NUL characters, NaN and infinities, huge or
non-ASCII numbers in filters, forms and posted ids; dates at the calendar's limits; files that
are not UTF-8. Each test repeats one of the scripted requests of the review (issue 8, item 9)."""

import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command

from guichet.dossiers.models import Document, ExpenseLine
from guichet.grants.decisions import publish_decisions
from guichet.grants.models import Payment, SelectionRun
from tests.conftest import CONTRACT_EXAMPLE
from tests.factories import bulk_submitted_dossiers, lead_and_member, make_dossier, make_user
from tests.grants import test_grants as grants_helpers
from tests.grants.test_decisions import instructed_dossier, pool_of_three, scored

pytestmark = pytest.mark.django_db

LIST = "/instruction/appels/deffinum/dossiers/"
COMMITTEE = "/instruction/appels/deffinum/comite/w1/"
GUICHET = Path(sys.executable).with_name("guichet")
# What a fuzzer sends where a number or a short code is expected.
HOSTILE_VALUES = ["\x00", "12\x00", "NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "-0",
                  "١٢٣", "²", "9" * 5000, "x" * 20_000]


@pytest.fixture
def admin_client(client, team):
    client.force_login(team["admin"])
    return client


def listed(response) -> int:
    return response.context["page"].count


# --- list filters ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("name", ["aide_min", "aide_max", "tri", "apres", "avant"])
def test_hostile_list_filter_number_is_ignored_not_a_server_error(admin_client, deffinum, name,
                                                                  value):
    bulk_submitted_dossiers(deffinum, 3)
    response = admin_client.get(LIST, {name: value})
    assert response.status_code == 200
    assert listed(response) == 3


@pytest.mark.parametrize("value", ["\x00", "11\x00", "x" * 20_000])
@pytest.mark.parametrize("name", ["region", "vague", "etat", "portee", "filiere"])
def test_nul_or_huge_list_filter_text_is_ignored_not_a_server_error(admin_client, deffinum, name,
                                                                    value):
    bulk_submitted_dossiers(deffinum, 3)
    response = admin_client.get(LIST, {name: value})
    assert response.status_code == 200
    assert listed(response) == 3


def test_list_filter_typed_amount_still_filters(admin_client, deffinum):
    bulk_submitted_dossiers(deffinum, 3)  # aids 350 000, 357 919, 365 838
    response = admin_client.get(LIST, {"aide_min": "357 919,00", "aide_max": "360000"})
    assert listed(response) == 1


# --- committee simulation -------------------------------------------------------------------

@pytest.fixture
def ranked(deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    scored(dossier, team["instructor"], pool_of_three(deffinum), 4)
    return dossier


def simulate(client, **fields):
    return client.post(COMMITTEE + "simulation/", {"objective": "score_sum", **fields})


HOSTILE_AMOUNTS = ["NaN", "-5", "Infinity", "1e999999", "x", "١٢٣", "9" * 5000]


@pytest.mark.parametrize("limit", HOSTILE_AMOUNTS)
def test_simulation_with_hostile_cap_refused_on_the_form(admin_client, ranked, limit):
    response = simulate(admin_client, cap_0_group="region:11", cap_0_limit=limit)
    assert response.status_code == 200
    assert response.context["form"].errors["cap_0_limit"] == [
        "Saisissez un montant positif en euros, au centime près (ex. 1 234,50)."]
    assert not SelectionRun.objects.exists()


@pytest.mark.parametrize("group", [" ", "region", "region:", "sector:nope", "\x00", "zone:11"])
def test_simulation_with_hostile_cap_group_refused_on_the_form(admin_client, ranked, group):
    response = simulate(admin_client, cap_0_group=group, cap_0_limit="100")
    assert response.status_code == 200
    assert "cap_0_group" in response.context["form"].errors
    assert not SelectionRun.objects.exists()


@pytest.mark.parametrize("limit", ["-1", "0", "NaN", "²", "9" * 5000])
def test_simulation_with_hostile_floor_refused_on_the_form(admin_client, ranked, limit):
    response = simulate(admin_client, floor_0_group="sector:btp", floor_0_limit=limit)
    assert response.status_code == 200
    assert response.context["form"].errors["floor_0_limit"]
    assert not SelectionRun.objects.exists()


@pytest.mark.parametrize("field", ["pinned_in", "pinned_out"])
def test_simulation_pinning_unknown_dossier_refused_with_message(admin_client, ranked, field):
    response = simulate(admin_client, **{field: "DEFFINUM-W9-999999"})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [
        "Numéro inconnu parmi les dossiers notés de la vague : DEFFINUM-W9-999999."]
    assert not SelectionRun.objects.exists()


@pytest.mark.parametrize("value", ["x", "NaN", "d-1", "d²", "d" + "9" * 5000, "\x00"])
def test_simulation_pinning_malformed_id_refused_on_the_form(admin_client, ranked, value):
    response = simulate(admin_client, pinned_in=value)
    assert response.context["form"].errors["pinned_in"]
    assert not SelectionRun.objects.exists()


def test_simulation_with_valid_cap_and_pin_still_runs(admin_client, ranked):
    response = simulate(admin_client, cap_0_group="sector:btp", cap_0_limit="600 000,00",
                        floor_0_group="sector:btp", floor_0_limit="1",
                        pinned_in=ranked.receipt_number)
    assert response.status_code == 302
    run = SelectionRun.objects.get()
    assert run.instance["caps"] == [{"group": "sector", "value": "btp", "max_aid": "600000.00"}]
    assert run.instance["floors"] == [{"group": "sector", "value": "btp", "min_count": 1}]
    assert run.result["selected"] == [f"d{ranked.pk}"]


# --- posted ids -----------------------------------------------------------------------------

NON_NUMERIC_IDS = ["abc", "NaN", "²", "١", "1e3", "-1", "99999999999999999999", "\x00", " "]


@pytest.mark.parametrize("value", NON_NUMERIC_IDS)
def test_staff_remove_expert_with_non_numeric_assignment_id_is_404(admin_client, ranked, value):
    response = admin_client.post(
        f"/instruction/dossiers/{ranked.pk}/experts/{quote(value, safe='')}/retrait/")
    assert response.status_code == 404
    assert ranked.assignments.count() == 3


@pytest.mark.parametrize("value", NON_NUMERIC_IDS)
def test_expert_assignment_with_hostile_wave_code_is_404(admin_client, deffinum, value):
    response = admin_client.post("/instruction/appels/deffinum/experts/affectation/",
                                 {"wave": value})
    assert response.status_code == 404


@pytest.fixture
def lead_client(client, deffinum, example_document):
    draft = make_dossier(example_document)
    lead, _member = lead_and_member(draft)
    client.force_login(lead)
    return client, draft


@pytest.mark.parametrize("value", NON_NUMERIC_IDS)
def test_applicant_document_delete_with_non_numeric_id_is_404(lead_client, value):
    client, draft = lead_client
    response = client.post(f"/dossiers/{draft.pk}/pieces/retrait/",
                           {"document": value})
    assert response.status_code == 404
    assert Document.objects.filter(dossier=draft).count() == 3


@pytest.mark.parametrize("line", ["²:1", "1:²", "99999999999999999999:1", "١:1", "x:y", ":"])
def test_applicant_line_delete_with_non_numeric_id_is_404(lead_client, line):
    client, draft = lead_client
    response = client.post(f"/dossiers/{draft.pk}/depenses/suppression/",
                           {"line": line})
    assert response.status_code == 404
    assert ExpenseLine.objects.filter(dossier=draft).count() == 2


@pytest.mark.parametrize("address", ["tranches/{}/versement/", "rapports/{}/examen/"])
@pytest.mark.parametrize("value", ["abc", "²", "99999999999999999999"])
def test_staff_grant_action_with_non_numeric_id_is_404(admin_client, team, example_document,
                                                       address, value):
    dossier = grants_helpers.instructed_dossier(example_document, team["instructor"])
    grants_helpers.select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    action = address.format(quote(value, safe=""))
    response = admin_client.post(f"/instruction/subventions/{dossier.grant.pk}/{action}", {
        "paid_on": "2022-02-01", "reference": "VIR", "decision": "approve"})
    assert response.status_code == 404
    assert not Payment.objects.exists()


# --- dates at the calendar's limits ---------------------------------------------------------

def run_check(tmp_path, document: dict, *args):
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run([str(GUICHET), "check", str(path), *args], cwd=tmp_path,
                          capture_output=True, env=env, timeout=60, check=False)


@pytest.mark.parametrize(("field", "value"), [
    ("start_date", "9999-12-31"), ("start_date", "0001-01-01"),
    ("submitted_at", "9999-12-31T23:59:59+00:00"), ("submitted_at", "0001-01-01T00:00:00+14:00"),
    ("submitted_at", "9999-12-31T23:59:59-14:00")])
def test_check_dossier_dated_at_calendar_limit_exits_two_naming_field(tmp_path, field, value):
    document = json.loads(CONTRACT_EXAMPLE.read_text(encoding="utf-8"))
    document[field] = value
    done = run_check(tmp_path, document)
    stderr = done.stderr.decode()
    assert (done.returncode, done.stdout) == (2, b"")
    assert stderr.splitlines() == [
        f"guichet check: {tmp_path / 'dossier.json'}: {field}: {value} is out of range "
        "(1900-01-01 to 2999-12-31)"]


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00",
                                "9999-12-31T23:59:59-14:00"])
def test_check_at_option_at_calendar_limit_exits_two_naming_option(tmp_path, example_document, at):
    done = run_check(tmp_path, example_document, "--at", at)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"guichet check: {tmp_path / 'dossier.json'}: --at: {at} is out of range "
        "(1900-01-01 to 2999-12-31)"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_applicant_start_date_at_calendar_limit_refused_on_the_form(lead_client, value):
    client, draft = lead_client
    response = client.post(f"/dossiers/{draft.pk}/etape/projet/", {
        "version": draft.version, "title": "Titre", "start_date": value})
    assert response.status_code == 200
    assert response.context["form"].errors["start_date"] == [
        "Saisissez une date entre le 01/01/1900 et le 31/12/2999."]


def test_correction_deadline_at_calendar_limit_refused_on_the_form(admin_client, ranked):
    response = admin_client.post(f"/instruction/dossiers/{ranked.pk}/corrections/", {
        "points": "Préciser le budget.", "deadline": "0001-01-01T00:30"})
    assert response.status_code == 200
    assert response.context["correction_form"].errors["deadline"] == [
        "Saisissez une date entre le 01/01/1900 et le 31/12/2999."]


# --- files that are not UTF-8 ---------------------------------------------------------------

def test_import_dossier_of_invalid_utf8_is_a_clear_command_error(tmp_path, deffinum):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format": "guichet.dossier/1", "call": "deffinum", "title": "Caf\xe9"}')
    with pytest.raises(CommandError) as refused:
        call_command("import_dossier", str(path), stdout=io.StringIO())
    assert str(refused.value) == f"{path}: not valid UTF-8 (byte 0xe9 at offset 65)"


def test_check_of_invalid_utf8_exits_two_with_one_line(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format": "guichet.dossier/1", "call": "deffinum", "title": "Caf\xe9"}')
    done = subprocess.run([str(GUICHET), "check", str(path)], capture_output=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"guichet check: {path}: not valid UTF-8 (byte 0xe9 at offset 65)"]


@pytest.mark.parametrize("token", ["%00", "a%00b", "%C2%B2", "x" * 5000])
def test_invitation_link_with_nul_or_odd_token_is_404(client, deffinum, token):
    client.force_login(make_user("curieux@example.fr"))
    assert client.get(f"/invitations/{token}/").status_code == 404
