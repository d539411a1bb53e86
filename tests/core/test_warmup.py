"""The warm-up the gunicorn master runs before forking its workers (guichet/core/warmup.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import guichet
from guichet.core import warmup

GUICHET_TEMPLATES = {
    path.relative_to(folder).as_posix()
    for folder in Path(guichet.__file__).parent.glob("**/templates")
    for path in folder.rglob("*.html")}

WARM_IN_A_FRESH_MASTER = """
import json
import guichet.wsgi
from django.db import connections
from django.template import engines
from django.urls import get_resolver
from django.utils.translation import trans_real
from guichet import gunicorn_conf as conf
conf.when_ready(None)
cached = engines["django"].engine.template_loaders[0].get_template_cache
print(json.dumps({
    "templates": sorted(name for name, template in cached.items()
                        if not isinstance(template, type)),
    "catalogues": sorted(trans_real._translations),
    "urls_ready": get_resolver()._populated,
    "connections_opened": [alias for alias in connections
                           if connections[alias].connection is not None],
}))
conf.on_exit(None)
"""


@pytest.mark.integration  # a fresh interpreter, as gunicorn's master
def test_gunicorn_master_warms_up_before_forking_without_opening_a_connection():
    done = subprocess.run([sys.executable, "-c", WARM_IN_A_FRESH_MASTER], capture_output=True,
                          timeout=120, check=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(
                              Path(guichet.__file__).parent.parent)})
    state = json.loads(done.stdout.splitlines()[-1])
    assert set(state["templates"]) >= GUICHET_TEMPLATES
    assert {"portal/step_depot.html", "dsfr/base.html"} <= set(state["templates"])
    assert {"fr", "en"} <= set(state["catalogues"])
    assert state["urls_ready"] is True
    assert state["connections_opened"] == []


@pytest.mark.unit
def test_warm_up_compiles_every_guichet_template_once():
    first = warmup.warm_up()
    assert first["templates"] >= len(GUICHET_TEMPLATES)
    assert first["languages"] == 2
    assert warmup.warm_up() == first  # from the cache the second time: the same templates


@pytest.mark.unit
def test_template_names_lists_templates_by_their_loader_name(tmp_path):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "page.html").write_text("x")
    (tmp_path / "mail.txt").write_text("x")
    (tmp_path / "notes.md").write_text("x")
    assert warmup.template_names([tmp_path, tmp_path / "absent"]) == {
        "portal/page.html", "mail.txt"}
