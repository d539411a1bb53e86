"""`guichet check` as a user runs it: a separate process, any directory, no database."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONTRACT_EXAMPLE, DEFFINUM_TOML

GUICHET = Path(sys.executable).with_name("guichet")
# Each test starts `guichet` (or Python) in a process of its own: not the quick loop.
pytestmark = pytest.mark.integration


def _check(tmp_path, *args, stdin: bytes | None = None):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    return subprocess.run([str(GUICHET), "check", *args], cwd=tmp_path, input=stdin,
                          capture_output=True, env=env, timeout=60, check=False)


def _write(tmp_path, document) -> str:
    path = tmp_path / "dossier.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def example():
    return json.loads(CONTRACT_EXAMPLE.read_text(encoding="utf-8"))


def test_check_eligible_exits_zero_with_contract_verdict(tmp_path):
    done = _check(tmp_path, str(CONTRACT_EXAMPLE))
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert (verdict["eligible"], verdict["call"], verdict["wave"]) == (True, "deffinum", "w1")
    assert verdict["rules_version"] == "deffinum-2021.1"
    assert verdict["figures"]["aid_rate"] == "0.7000"
    assert [r["rule"] for r in verdict["results"]][-1] == "deadline"
    assert done.stderr == b""


def test_check_ineligible_exits_one(tmp_path, example):
    example["duration_months"] = 37
    done = _check(tmp_path, _write(tmp_path, example))
    assert done.returncode == 1
    verdict = json.loads(done.stdout)
    assert [r["rule"] for r in verdict["results"] if not r["ok"]] == ["duration"]


def test_check_at_option_sets_receipt_instant(tmp_path, example):
    example.pop("submitted_at")
    path = _write(tmp_path, example)
    inside = _check(tmp_path, path, "--at", "2021-08-31T11:59:59+02:00")
    late = _check(tmp_path, path, "--at", "2021-08-31T12:00:00")  # naive: Europe/Paris
    assert (inside.returncode, json.loads(inside.stdout)["wave"]) == (0, "w1")
    assert (late.returncode, json.loads(late.stdout)["wave"]) == (1, None)


def test_check_call_option_uses_given_definition(tmp_path, example):
    definition = tmp_path / "strict.toml"
    definition.write_text(DEFFINUM_TOML.read_text().replace(
        "max_duration_months = 36", "max_duration_months = 24"), encoding="utf-8")
    done = _check(tmp_path, _write(tmp_path, example), "--call", str(definition))
    assert done.returncode == 1
    assert json.loads(done.stdout)["results"][7]["limit"] == "24"


@pytest.mark.parametrize(("document", "field"), [
    ("{not json", "not valid JSON"),
    ('{"format": "guichet.dossier/2", "call": "deffinum"}', "format"),
    ('{"format": "guichet.dossier/1", "call": "deffinum", "duration_months": "36"}',
     "duration_months"),
    ('{"format": "guichet.dossier/1", "call": "deffinum", '
     '"financing": [{"source": "aid", "amount": 0.001}]}', "financing[0].amount"),
    ('{"format": "guichet.dossier/1", "call": "nope"}', "no shipped definition"),
])
def test_check_unreadable_input_exits_two_with_one_line(tmp_path, document, field):
    done = _check(tmp_path, _write(tmp_path, document))
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert field in lines[0]
    assert "Traceback" not in done.stderr.decode()


def test_check_missing_file_exits_two(tmp_path):
    done = _check(tmp_path, "absent.json")
    assert done.returncode == 2
    assert "cannot read the file" in done.stderr.decode()


def test_check_reads_standard_input(tmp_path, example):
    example["duration_months"] = 37  # not the file on disk: the verdict is of what was piped
    done = _check(tmp_path, "-", stdin=json.dumps(example).encode())
    assert done.returncode == 1, done.stderr
    assert done.stderr == b""
    verdict = json.loads(done.stdout)
    assert verdict["eligible"] is False
    assert [r["rule"] for r in verdict["results"] if not r["ok"]] == ["duration"]
    from_file = _check(tmp_path, _write(tmp_path, example))
    assert json.loads(from_file.stdout) == verdict


def test_check_does_not_import_django():
    code = ("import sys, contextlib, io\n"
            "from guichet.cli import check\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    check([{str(CONTRACT_EXAMPLE)!r}])\n"
            "print('django' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                          timeout=60)
    assert done.stdout.strip() == b"False"


def test_check_blank_title_is_incomplete_exits_one(tmp_path, example):
    example["title"] = "\u00a0 \u2003"
    done = _check(tmp_path, _write(tmp_path, example))
    assert done.returncode == 1
    complete = json.loads(done.stdout)["results"][0]
    assert (complete["rule"], complete["ok"], complete["value"]) == ("complete", False, "title")
