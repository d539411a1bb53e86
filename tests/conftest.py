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
