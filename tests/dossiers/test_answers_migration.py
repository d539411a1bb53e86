"""Migration 0011: the hybridation profiles, written with the schema before the call's
questions were data, become the dossiers' answers, and the calls stored without sections
declare the section the code used to impose.

The database is migrated back to the schema before it, filled the way the old code filled it
(a call definition without sections, profiles with shares, texts, blanks and targets, a
submission frozen with its profile beside the dossier), then migrated forward.
"""

import datetime as dt
import hashlib

import msgspec
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guichet.calls.models import Call
from guichet.dossiers.format import submitted_envelope
from guichet.dossiers.models import Dossier, DossierAnswers
from guichet.dossiers.presentation import dossier_sheet
from guichet.rules.definition import shipped_definition
from tests.factories import fresh_siret, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("dossiers", "0010_personal_data_erased_at"), ("calls", "0003_mail_texts")]
T0 = dt.datetime(2021, 7, 1, 9, 0, tzinfo=dt.UTC)
PROFILE = {"synchronous_share": 40, "asynchronous_share": 60, "in_person_share": None,
           "distance_share": None, "work_situation_share": None,
           "immersive_tools": "  Casques de réalité virtuelle ", "positioning_tools": "",
           "learners_targeted": "Apprentis du BTP", "trades_targeted": "",
           "indicator_targets": {"learners_reached": 500}}
ANSWERS = {"synchronous_share": 40, "asynchronous_share": 60,
           "immersive_tools": "Casques de réalité virtuelle",
           "learners_targeted": "Apprentis du BTP",
           "indicator_targets": {"learners_reached": 500}}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_apps(transactional_db, open_call):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(_latest())


def _old_call(apps, code: str):
    """The call as the old code stored it: its definition had no sections."""
    call = apps.get_model("calls", "Call").objects.get(code=code)
    definition = {key: value for key, value in call.definition.items() if key != "sections"}
    call.definition = definition
    call.definition_sha256 = hashlib.sha256(
        msgspec.json.encode(definition, order="sorted")).hexdigest()
    call.save()
    return call


def _old_dossier(apps, call, title: str, profile: dict | None):
    model = apps.get_model
    organisation = model("dossiers", "Organisation").objects.create(siret=fresh_siret(),
                                                                   name=title)
    consortium = model("dossiers", "Consortium").objects.create(name=title)
    model("dossiers", "ConsortiumMember").objects.create(
        consortium=consortium, organisation=organisation, name=title, kind="edtech",
        is_lead=True, position=0, confirmed_at=T0)
    dossier = model("dossiers", "Dossier").objects.create(call_id=call.pk,
                                                          consortium=consortium, title=title)
    if profile is not None:
        model("dossiers", "HybridProfile").objects.create(dossier=dossier, version=4, **profile)
    return dossier


def _old_submission(apps, dossier, wave_pk: int, by) -> None:
    """A submission frozen by the old code: its profile beside the dossier, not in it."""
    snapshot = msgspec.json.encode({
        "format": "guichet.submission/1", "documents": [],
        "classification": {"sector": "", "keywords": ""}, "hybrid_profile": PROFILE,
        "dossier": {"format": "guichet.dossier/1", "call": "deffinum", "title": "Soumis",
                    "members": [], "milestones": [], "expenses": [], "financing": []},
    }, order="sorted").decode()
    apps.get_model("dossiers", "Submission").objects.create(
        dossier_id=dossier.pk, version=1, received_at=T0, wave_id=wave_pk,
        submitted_by_id=by.pk, snapshot=snapshot,
        sha256=hashlib.sha256(snapshot.encode()).hexdigest(),
        rules_version="deffinum-2021.1", eligible=False, verdict=[])


def test_migration_turns_profiles_into_answers_under_the_same_ids(old_apps, open_call):
    call = _old_call(old_apps, open_call.code)
    filled = _old_dossier(old_apps, call, "Profil rempli", PROFILE)
    blank = _old_dossier(old_apps, call, "Profil vide", dict.fromkeys(PROFILE) | {
        "immersive_tools": "", "positioning_tools": "", "learners_targeted": "",
        "trades_targeted": "", "indicator_targets": {}})
    without = _old_dossier(old_apps, call, "Sans profil", None)
    submitted = _old_dossier(old_apps, call, "Soumis", PROFILE)
    _old_submission(old_apps, submitted, open_call.waves.first().pk, make_user("a@example.fr"))

    _migrate(_latest())

    assert DossierAnswers.objects.get(dossier_id=filled.pk).values == ANSWERS
    assert DossierAnswers.objects.get(dossier_id=filled.pk).version == 4
    assert DossierAnswers.objects.get(dossier_id=blank.pk).values == {}
    assert not DossierAnswers.objects.filter(dossier_id=without.pk).exists()
    stored = Call.objects.get(pk=call.pk)
    assert stored.definition["sections"] == msgspec.to_builtins(
        shipped_definition("deffinum").sections)
    assert stored.definition_sha256 == hashlib.sha256(
        msgspec.json.encode(stored.definition, order="sorted")).hexdigest()
    assert stored.rules().sections[0].id == "hybridation"
    # An old frozen submission reads its profile as its answers, as the sheet shows them.
    envelope = submitted_envelope(Dossier.objects.get(pk=submitted.pk)
                                  .submissions.get().snapshot)
    assert envelope.answers == {key: value for key, value in PROFILE.items()
                                if value not in (None, "", {})}
    sheet = dossier_sheet(stored, envelope, documents=[], verdict=[])
    rows = {row.question: row.text for row in sheet.sections[0].rows}
    assert rows["Temps synchrone (%)"] == "40\u00a0%"
    assert rows["Outils immersifs"] == "  Casques de réalité virtuelle "
    assert rows["Métiers visés"] == "—"
    assert sheet.indicators == [("Apprenants touchés", "500")]


def test_migration_keeps_the_sections_a_stored_definition_declares(other_call, old_apps):
    before = Call.objects.get(pk=other_call.pk).definition
    _migrate(_latest())
    assert Call.objects.get(pk=other_call.pk).definition == before  # its own, not Deffinum's
