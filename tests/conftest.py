import copy
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFFINUM_TOML = ROOT / "calls" / "deffinum.toml"
CONTRACT_EXAMPLE = Path(__file__).parent / "data" / "contract-example.json"


@pytest.fixture
def example_document() -> dict:
    """The eligible dossier of contracts/dossier-format.md, without its receipt instant."""
    document = json.loads(CONTRACT_EXAMPLE.read_text(encoding="utf-8"))
    document.pop("submitted_at")
    return copy.deepcopy(document)


@pytest.fixture
def deffinum(db):
    """The Deffinum call loaded from its definition file, with its real wave dates."""
    from guichet.calls.services import load_call

    return load_call(DEFFINUM_TOML).call


@pytest.fixture
def open_call(db):
    """Deffinum with its second wave open today (the demo dates)."""
    import datetime as dt

    from guichet.calls.services import load_call

    return load_call(DEFFINUM_TOML, demo_today=dt.date.today()).call


@pytest.fixture
def team(deffinum):
    """An instructor, a committee member and an administrator of the call."""
    from guichet.review.models import Role
    from tests.factories import staff

    return {"instructor": staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR),
            "committee": staff(deffinum, "comite@example.fr", Role.COMMITTEE),
            "admin": staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR)}


@pytest.fixture
def audit_log_emptied(transactional_db):
    """Let the flush that ends a transactional test work on SQLite.

    The audit table is append-only through SQLite triggers (audit migration 0002), so the
    DELETE with which Django empties the tables after the test aborts. Here the triggers are
    lifted, the log emptied, and the triggers put back before that flush (PostgreSQL empties
    tables with TRUNCATE, which row triggers do not see)."""
    from importlib import import_module

    from django.db import connection

    yield  # this teardown runs before transactional_db's, which flushes
    if connection.vendor != "sqlite":
        return
    migration = import_module("guichet.audit.migrations.0002_append_only")
    with connection.cursor() as cursor:
        for statement in migration.REVERSE["sqlite"]:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditevent")
        for statement in migration.SQLITE:
            cursor.execute(statement)
