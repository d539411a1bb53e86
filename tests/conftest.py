import copy
import datetime as dt
import json
import re
from importlib import import_module
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFFINUM_TOML = ROOT / "calls" / "deffinum.toml"
EXAMPLE_REGIONAL_TOML = ROOT / "calls" / "deffinov-exemple.toml"
CONTRACT_EXAMPLE = Path(__file__).parent / "data" / "contract-example.json"

# The test layers (docs/architecture.md): `pytest -m unit` is the quick loop, without a database.
LAYERS = ("unit", "integration", "e2e")
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def layer_of(path: Path, fixturenames, marked_db_or_slow: bool) -> str:
    """e2e under tests/e2e (a browser and a live server), unit under tests/rules (pure Python)
    and anywhere a test touches no database and is not marked slow (servers of its own);
    integration otherwise."""
    parts = path.relative_to(Path(__file__).parent).parts
    if parts[0] == "e2e":
        return "e2e"
    if parts[0] == "rules" or not (marked_db_or_slow or DATABASE_FIXTURES & set(fixturenames)):
        return "unit"
    return "integration"


# A module whose `pytestmark` (on one line, or a list over several) names a database or a
# layer holds no unit test.
MODULE_NOT_UNIT = re.compile(
    r"^pytestmark = (?:[^\n]*\n[ \t\]])*[^\n]*?\b(django_db|integration|e2e)\b", re.M)


def pytest_ignore_collect(collection_path: Path, config):
    """Under `-m unit`, the modules that hold no unit test (tests/e2e, and those a module-level
    marker makes integration) are not even imported: the quick loop skips what they import
    (factories, WeasyPrint, boto3, frictionless…). `-m unit --collect-only` counts the same
    tests as when they are imported and deselected (tests/core/test_architecture.py)."""
    if config.getoption("markexpr", "") != "unit" or not collection_path.name.startswith("test_"):
        return None
    if "e2e" in collection_path.parts or (
            collection_path.suffix == ".py"
            and MODULE_NOT_UNIT.search(collection_path.read_text(encoding="utf-8"))):
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Give every test its layer marker, unless it names one itself."""
    for item in items:
        if any(item.get_closest_marker(layer) for layer in LAYERS):
            continue
        layer = layer_of(Path(item.path), getattr(item, "fixturenames", ()),
                         any(item.get_closest_marker(name) for name in ("django_db", "slow")))
        item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture
def example_document() -> dict:
    """The eligible dossier of contracts/dossier-format.md, without its receipt instant."""
    document = json.loads(CONTRACT_EXAMPLE.read_text(encoding="utf-8"))
    document.pop("submitted_at")
    return copy.deepcopy(document)


@pytest.fixture
def regional_document(example_document) -> dict:
    """The contract's example made eligible under the regional example call (other_call): a
    regional scope, 24 months, first results by month 9, aid at its 50 % cap, and the answer
    its one required question asks."""
    members = [member["siret"] for member in example_document["members"]]
    return dict(
        example_document, call="deffinov-exemple", scope="regional", duration_months=24,
        milestones=[{"month": 9, "kind": "first_results", "label": "Premiers résultats"},
                    {"month": 24, "kind": "final", "label": "Bilan final"}],
        financing=[{"source": "aid", "amount": "400000.00"},
                   {"source": "own_cash", "member": members[0], "amount": "330000.00"},
                   {"source": "own_in_kind", "member": members[1], "amount": "70000.00"}],
        answers={"territorial_need": "Former aux métiers du bâtiment en zone rurale."})


@pytest.fixture
def deffinum(db):
    """The Deffinum call loaded from its definition file, with its real wave dates."""
    # Imported here: tests/rules also run without Django (`make mutation`: -p no:django): Django
    # code loads in the fixtures.
    from guichet.calls.services import load_call  # noqa: PLC0415

    return load_call(DEFFINUM_TOML).call


@pytest.fixture
def open_call(db):
    """Deffinum with its second wave open today (the demo dates)."""
    # Imported here: tests/rules also run without Django (`make mutation`: -p no:django): Django
    # code loads in the fixtures.
    from guichet.calls.services import load_call  # noqa: PLC0415

    return load_call(DEFFINUM_TOML, demo_today=dt.date.today()).call


@pytest.fixture
def team(deffinum):
    """An instructor, a committee member and an administrator of the call."""
    # Imported here: tests/rules also run without Django (`make mutation`: -p no:django): Django
    # code loads in the fixtures.
    from guichet.review.models import Role  # noqa: PLC0415
    from tests.factories import staff  # noqa: PLC0415

    return {"instructor": staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR),
            "committee": staff(deffinum, "comite@example.fr", Role.COMMITTEE),
            "admin": staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR)}


def _transactional(request) -> bool:
    """Whether the test runs over a committed database that Django flushes afterwards (the
    same reading as pytest-django's)."""
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or
                            marker.kwargs.get("reset_sequences"))) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames)


@pytest.fixture(autouse=True)
def _audit_log_emptied(request):
    """Let the flush that ends a transactional test (browser tests, races) work.

    The audit table is append-only in the database: on SQLite, row triggers abort the DELETE
    with which Django empties the tables (audit migration 0002); on PostgreSQL, a row trigger
    refuses DELETE and a statement trigger refuses the TRUNCATE with which Django empties them
    while the log holds events (migration 0003). So, before that flush, the row triggers are
    lifted, the log emptied, and the triggers put back: the flush then meets an empty log,
    which SQLite's DELETE and PostgreSQL's TRUNCATE trigger both let through."""
    if not _transactional(request):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so torn down (flushed) last
    yield
    # Imported here: tests/rules also run without Django (`make mutation`: -p no:django): Django
    # code loads in the fixtures.
    from django.db import connection  # noqa: PLC0415

    lift, restore = _audit_row_triggers(connection.vendor)
    with connection.cursor() as cursor:
        for statement in lift:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditpersonal")  # it points at the events
        cursor.execute("DELETE FROM audit_auditevent")
        for statement in restore:
            cursor.execute(statement)


def _audit_row_triggers(vendor: str) -> tuple[list[str], list[str]]:
    """The statements that lift and restore the audit log's row triggers (migration 0002)."""
    migration = import_module("guichet.audit.migrations.0002_append_only")
    if vendor == "sqlite":
        return migration.REVERSE["sqlite"], migration.SQLITE
    statement = "ALTER TABLE audit_auditevent {} TRIGGER audit_event_append_only"
    return [statement.format("DISABLE")], [statement.format("ENABLE")]


@pytest.fixture
def other_call(db):
    """A second call, of another funder and programme: the regional example shipped beside
    Deffinum (calls/deffinov-exemple.toml), whose staff is not ours: what one call's pages show
    must never include it."""
    # Imported here: tests/rules also run without Django (`make mutation`: -p no:django): Django
    # code loads in the fixtures.
    from guichet.calls.services import load_call  # noqa: PLC0415

    return load_call(EXAMPLE_REGIONAL_TOML).call
