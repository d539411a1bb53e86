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
def team(deffinum):
    """An instructor, a committee member and an administrator of the call."""
    from guichet.review.models import Role
    from tests.factories import staff

    return {"instructor": staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR),
            "committee": staff(deffinum, "comite@example.fr", Role.COMMITTEE),
            "admin": staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR)}


@pytest.fixture
def other_call(db, tmp_path):
    """A second call (a regional offshoot of Deffinum) with its own id, name and rules version,
    whose staff is not ours: what one call's pages show must never include it."""
    from guichet.calls.services import load_call

    text = DEFFINUM_TOML.read_text(encoding="utf-8")
    for old, new in [('id = "deffinum"', 'id = "deffinov"'),
                     ('rules_version = "deffinum-2021.1"', 'rules_version = "deffinov-2021.1"'),
                     ('name = "Deffinum — ', 'name = "Deffinov Provence — '),
                     ('name_en = "Deffinum — ', 'name_en = "Deffinov Provence — ')]:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "deffinov.toml"
    path.write_text(text, encoding="utf-8")
    return load_call(path).call
