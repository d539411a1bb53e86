"""The layers of docs/architecture.md hold: `lint-imports` (import-linter, contracts in
pyproject.toml) passes on the real tree and fails, naming the import, on a copy of it with a
deliberate violation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# lint-imports runs in processes of its own, over a copy of the tree: not the quick loop.
pytestmark = pytest.mark.integration


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` over the `guichet` package found in `root`, with root's contracts."""
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=environment,
                          capture_output=True, text=True, timeout=120)


def tree_with(tmp_path: Path, violations) -> Path:
    """A copy of the package and its contracts, where each (module, line) of `violations`
    starts with its line."""
    shutil.copytree(ROOT / "guichet", tmp_path / "guichet",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates",
                                                  "locale", "*.json", "*.toml"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, line, _named in violations:
        path = tmp_path / Path(*module.split(".")).with_suffix(".py")
        if path.exists():
            path.write_text(f"{line}\n{path.read_text(encoding='utf-8')}", encoding="utf-8")
        else:  # a new package
            path.parent.mkdir()
            path.write_text(f"{line}\n", encoding="utf-8")
    return tmp_path


def test_lint_imports_on_the_real_tree_passes():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# One copy carries them all (a run of lint-imports takes seconds): each must be named.
VIOLATIONS = [
    ("guichet.rules.money", "import django", "guichet.rules.money -> django"),
    ("guichet.rules.eligibility", "from guichet.core import clock",
     "guichet.rules.eligibility -> guichet.core.clock"),
    ("guichet.calls.models", "from guichet.grants import models",
     "guichet.calls.models -> guichet.grants.models"),
    ("guichet.dossiers.services", "from guichet.portal import views",
     "guichet.dossiers.services -> guichet.portal.views"),
    ("guichet.web.views", "from guichet.backoffice import selectors",
     "guichet.web.views -> guichet.backoffice.selectors"),
    ("guichet.newapp.__init__", "", "- guichet.newapp"),  # not given a layer
]


def test_lint_imports_with_violations_fails_naming_each(tmp_path):
    result = lint_imports(tree_with(tmp_path, VIOLATIONS))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 broken" in result.stdout
    missing = [named for _module, _line, named in VIOLATIONS if named not in result.stdout]
    assert not missing, result.stdout


def _collected(markexpr: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", markexpr], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {line for line in done.stdout.splitlines() if "::" in line}


@pytest.mark.integration
def test_unit_loop_skipping_modules_loses_no_unit_test():
    """`-m unit` does not import the modules a module-level marker makes integration or e2e
    (tests/conftest.py); any other expression imports them all. Both find the same tests."""
    quick = _collected("unit")
    assert len(quick) > 800
    assert quick == _collected("unit or unit")
