"""The call editor's services: a copy or the next version of a call, written as a draft,
validated as `guichet loadcall` validates a file, published as a new rules version."""

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from guichet.audit.models import AuditEvent
from guichet.calls import editor
from guichet.calls.editor import (
    DraftConflict,
    DraftRefused,
    add_item,
    edit_draft,
    open_copy,
    open_revision,
    remove_item,
    set_values,
)
from guichet.calls.models import Call, CallDefinitionVersion, CallDraft, Programme
from guichet.calls.services import RulesVersionConflict, load_call
from guichet.core.permissions import PermissionRefused
from guichet.dossiers.models import Submission
from guichet.dossiers.services import submit
from guichet.review.models import CallRole, Role
from guichet.review.staff import publish_call_draft
from guichet.rules.dossier import parse_dossier
from guichet.rules.eligibility import evaluate
from tests.conftest import DEFFINUM_TOML
from tests.factories import make_dossier, make_user, staff

pytestmark = pytest.mark.django_db
GUICHET = str(Path(sys.executable).parent / "guichet")
QUESTION = {"id": "ajoutee", "label": "Question ajoutée", "label_en": "Added question",
            "type": "text", "required": True}


@pytest.fixture
def admin(deffinum):
    return staff(deffinum, "admin@deffinum.example.fr", Role.ADMINISTRATOR)


@pytest.fixture
def copy(deffinum, admin):
    return open_copy(deffinum, admin, code="deffinum-bis", name="Deffinum bis",
                     name_en="Deffinum bis")


def edited(draft, by, edit):
    return edit_draft(draft, by, edit, version=CallDraft.objects.get(pk=draft.pk).version)


def test_copy_is_a_draft_nobody_can_apply_to(deffinum, copy):
    assert copy.definition["id"] == "deffinum-bis"
    assert copy.definition["programme"]["id"] == "deffinum-bis"
    assert copy.call is None
    assert not Call.objects.filter(code="deffinum-bis").exists()
    assert copy.definition["eligibility"] == deffinum.definition["eligibility"]


@pytest.mark.parametrize("code", ["deffinum", "pic-transformation-formation", "Déf", "a b",
                                  "x\x00", "=cmd", "a" * 65, ""])
def test_copy_with_a_taken_or_malformed_code_refused(deffinum, admin, code):
    with pytest.raises(DraftRefused) as refused:
        open_copy(deffinum, admin, code=code, name="Copie", name_en="Copy")
    assert refused.value.field == "code"
    assert not CallDraft.objects.exists()


def test_copy_by_staff_of_another_funder_refused(deffinum, other_call):
    theirs = staff(other_call, "admin@region.example.fr", Role.ADMINISTRATOR)
    with pytest.raises(PermissionRefused):
        open_copy(deffinum, theirs, code="vol", name="Vol", name_en="Theft")
    assert not CallDraft.objects.exists()


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.COMMITTEE, Role.EXPERT])
def test_copy_by_other_roles_of_the_call_refused(deffinum, role):
    person = staff(deffinum, f"{role}@deffinum.example.fr", role)
    with pytest.raises(PermissionRefused):
        open_copy(deffinum, person, code="vol", name="Vol", name_en="Theft")


def test_copy_by_a_superuser_allowed(deffinum):
    root = make_user("root@example.fr")
    root.is_superuser = True
    root.save()
    assert open_copy(deffinum, root, code="copie", name="Copie", name_en="Copy").pk


def test_edit_valid_value_is_saved_with_a_new_version(copy, admin):
    draft = edited(copy, admin, set_values("eligibility", {"aid_cap_rate": "0.60"}))
    assert draft.definition["eligibility"]["aid_cap_rate"] == "0.60"
    assert draft.version == 2
    assert AuditEvent.objects.filter(action="call.draft_edited").count() == 1


@pytest.mark.parametrize(("path", "values", "field", "words"), [
    ("eligibility", {"aid_cap_rate": "1.5"}, "aid_cap_rate", "taux d'aide maximal"),
    ("eligibility", {"aid_cap_rate": "0"}, "aid_cap_rate", "supérieur à 0"),
    ("eligibility", {"in_kind_cap_rate": "NaN"}, "in_kind_cap_rate", "plafond des apports"),
    ("eligibility", {"first_results_month": 40}, "first_results_month", "durée maximale"),
    ("eligibility", {"minimum_base": "100.001"}, "minimum_base", "assiette minimale"),
    ("eligibility", {"min_members": 0}, "min_members", "nombre minimal de membres"),
    ("eligibility", {"min_members": "2"}, "min_members", "nombre entier"),
    ("eligibility", {"allowed_scopes": []}, "allowed_scopes", "au moins un élément"),
    ("waves[w2]", {"closes_at": "2021-09-01T12:00:00+02:00"}, "closes_at", "après l'ouverture"),
    ("waves[w2]", {"opens_at": "2021-08-01T00:00:00+02:00"}, "opens_at", "chevauche"),
    ("", {"name": ""}, "name", "ne doit pas être vide"),
    ("", {"name": "x" * 301}, "name", "300 caractères au plus"),
    ("programme", {"envelope": "1000.00"}, None, "dépassent l'enveloppe"),
])
def test_edit_invalid_value_refused_on_its_field_nothing_saved(copy, admin, path, values,
                                                                field, words):
    with pytest.raises(DraftRefused) as refused:
        edited(copy, admin, set_values(path, values))
    assert refused.value.field == field
    assert words in refused.value.message
    again = CallDraft.objects.get(pk=copy.pk)
    assert (again.version, again.definition) == (1, copy.definition)


def test_edit_adds_a_question_of_each_type(copy, admin):
    choice = dict(QUESTION, id="format", type="choice", choices=[
        {"id": "court", "label": "Court", "label_en": "Short"},
        {"id": "long", "label": "Long", "label_en": "Long"}])
    draft = edited(copy, admin, add_item("sections[hybridation].questions", QUESTION))
    draft = edited(draft, admin, add_item("sections[hybridation].questions", choice))
    draft = edited(draft, admin, add_item("sections[hybridation].questions", dict(
        QUESTION, id="seuil", type="number", minimum="0", maximum="10",
        when={"question": "format", "equals": ["long"]})))
    questions = editor.draft_definition(draft).sections[0].questions
    assert [q.id for q in questions[-3:]] == ["ajoutee", "format", "seuil"]
    assert questions[-1].when.equals == ["long"]


def test_edit_choice_question_without_choices_refused_on_choices(copy, admin):
    with pytest.raises(DraftRefused) as refused:
        edited(copy, admin, add_item("sections[hybridation].questions",
                                     dict(QUESTION, type="choice")))
    assert refused.value.field == "choices"
    assert "Sections hybridation › questions ajoutee › choix" in refused.value.message


def test_edit_question_with_a_taken_id_refused(copy, admin):
    with pytest.raises(DraftRefused) as refused:
        edited(copy, admin, add_item("sections[hybridation].questions",
                                     dict(QUESTION, id="commitment_letters")))
    assert refused.value.field == "id"


def test_edit_removes_a_question_and_adds_a_section(copy, admin):
    draft = edited(copy, admin, remove_item("sections[hybridation].questions",
                                            "positioning_tools"))
    section = {"id": "impact", "label": "Impact", "label_en": "Impact",
               "questions": [dict(QUESTION, id="impact_texte")]}
    draft = edited(draft, admin, add_item("sections", section))
    definition = editor.draft_definition(draft)
    assert "positioning_tools" not in [q.id for q in definition.sections[0].questions]
    assert [s.id for s in definition.sections] == ["hybridation", "impact"]


def test_edit_section_named_like_a_fixed_step_refused(copy, admin):
    section = {"id": "budget", "label": "Budget", "label_en": "Budget",
               "questions": [dict(QUESTION, id="b")]}
    with pytest.raises(DraftRefused, match="étape commune"):
        edited(copy, admin, add_item("sections", section))


def test_edit_waves_add_and_remove_on_a_copy(copy, admin):
    wave = {"id": "w4", "name": "Vague 4", "name_en": "Wave 4",
            "opens_at": dt.datetime(2022, 6, 1, tzinfo=dt.UTC), "closes_at":
            dt.datetime(2022, 9, 1, tzinfo=dt.UTC), "budget": None}
    draft = edited(copy, admin, add_item("waves", wave))
    draft = edited(draft, admin, remove_item("waves", "w1"))
    assert [w.id for w in editor.draft_definition(draft).waves] == ["w2", "w3", "w4"]


def test_edit_cannot_remove_a_published_wave(deffinum, admin):
    draft = open_revision(deffinum, admin)
    with pytest.raises(DraftRefused, match="publiée"):
        edited(draft, admin, remove_item("waves", "w1"))


def test_edit_on_a_stale_version_refused(copy, admin):
    edited(copy, admin, set_values("eligibility", {"aid_cap_rate": "0.60"}))
    with pytest.raises(DraftConflict):
        edit_draft(copy, admin, set_values("eligibility", {"aid_cap_rate": "0.50"}), version=1)
    assert CallDraft.objects.get(pk=copy.pk).definition["eligibility"]["aid_cap_rate"] == "0.60"


def test_edit_of_an_item_gone_refused(copy, admin):
    with pytest.raises(DraftRefused, match="n'existe plus"):
        edited(copy, admin, set_values("waves[w9]", {"name": "x"}))


def test_publish_copy_creates_the_call_with_its_source_and_diff(deffinum, copy, admin):
    draft = edited(copy, admin, set_values("eligibility", {"aid_cap_rate": "0.60"}))
    published = publish_call_draft(draft, admin, "bis-2026.1", version=draft.version)
    call = Call.objects.get(code="deffinum-bis")
    assert published.created
    assert published.call == call
    assert call.rules().eligibility.aid_cap_rate == Decimal("0.60")
    assert call.programme.code == "deffinum-bis"
    assert Programme.objects.get(code=deffinum.programme.code).envelope == 300_000_000
    version = CallDefinitionVersion.objects.get(call=call)
    assert version.published_by == admin
    assert ["eligibility.aid_cap_rate", "0.70", "0.60"] in version.diff
    assert 'aid_cap_rate = "0.60"' in version.source
    assert CallRole.objects.filter(call=call, user=admin, role=Role.ADMINISTRATOR).exists()
    assert CallDraft.objects.get(pk=draft.pk).is_published


def test_publish_revision_keeps_the_previous_version_and_the_diff(deffinum, admin):
    draft = open_revision(deffinum, admin)
    draft = edited(draft, admin, set_values("eligibility", {"minimum_base": "400000.00"}))
    publish_call_draft(draft, admin, "deffinum-2026.1", version=draft.version)
    deffinum.refresh_from_db()
    assert deffinum.rules_version == "deffinum-2026.1"
    versions = dict(deffinum.versions.values_list("rules_version", "diff"))
    assert versions["deffinum-2021.1"] == []
    assert ["eligibility.minimum_base", "500000.00", "400000.00"] in versions["deffinum-2026.1"]
    assert ["rules_version", "deffinum-2021.1", "deffinum-2026.1"] in versions["deffinum-2026.1"]


def test_publish_with_a_rules_version_already_used_refused(deffinum, admin):
    draft = open_revision(deffinum, admin)
    draft = edited(draft, admin, set_values("eligibility", {"minimum_base": "400000.00"}))
    with pytest.raises(RulesVersionConflict) as refused:
        publish_call_draft(draft, admin, "deffinum-2021.1", version=draft.version)
    assert refused.value.field == "rules_version"
    deffinum.refresh_from_db()
    assert deffinum.rules().eligibility.minimum_base == 500_000
    assert not CallDraft.objects.get(pk=draft.pk).is_published


@pytest.mark.parametrize("version", ["", "   ", "v\x00", "v\n2", "v" * 65])
def test_publish_with_a_malformed_rules_version_refused(copy, admin, version):
    with pytest.raises(DraftRefused) as refused:
        publish_call_draft(copy, admin, version, version=1)
    assert refused.value.field == "rules_version"
    assert not Call.objects.filter(code="deffinum-bis").exists()


def test_publish_by_another_funder_refused(copy, other_call):
    theirs = staff(other_call, "admin@region.example.fr", Role.ADMINISTRATOR)
    with pytest.raises(PermissionRefused):
        publish_call_draft(copy, theirs, "vol-1", version=1)
    assert not Call.objects.filter(code="deffinum-bis").exists()


def test_publish_copy_onto_a_code_taken_meanwhile_refused(deffinum, copy, admin, other_call):
    Call.objects.filter(pk=other_call.pk).update(code="deffinum-bis")
    with pytest.raises(DraftRefused, match="existe déjà"):
        publish_call_draft(copy, admin, "bis-1", version=1)


def test_publish_copy_sharing_another_calls_programme_refused(deffinum, copy, admin):
    draft = edited(copy, admin, set_values("programme", {"id": deffinum.programme.code}))
    with pytest.raises(DraftRefused, match="autre appel"):
        publish_call_draft(draft, admin, "bis-1", version=draft.version)


def test_publish_twice_refused(copy, admin):
    publish_call_draft(copy, admin, "bis-1", version=1)
    with pytest.raises(DraftRefused, match="déjà publié"):
        publish_call_draft(copy, admin, "bis-2", version=1)


def test_export_toml_loads_back_as_the_same_call(deffinum, admin, tmp_path):
    path = tmp_path / "deffinum.toml"
    path.write_text(editor.export_toml(deffinum), encoding="utf-8")
    result = load_call(path)
    assert not result.new_version
    assert result.call.definition == deffinum.definition


def test_exportcall_command_writes_a_file_check_reads_with_the_platforms_verdict(
        open_call, tmp_path, example_document):
    """The exported definition, through `guichet check --call`, gives the verdict the
    platform gives the same dossier."""
    admin = staff(open_call, "admin@deffinum.example.fr", Role.ADMINISTRATOR)
    draft = open_revision(open_call, admin)
    draft = edited(draft, admin, set_values("eligibility", {"aid_cap_rate": "0.60"}))
    publish_call_draft(draft, admin, "deffinum-2026.1", version=draft.version)
    open_call.refresh_from_db()
    path = tmp_path / "export.toml"
    call_command("exportcall", "deffinum", "-o", str(path))
    dossier_path = tmp_path / "dossier.json"
    dossier_path.write_text(json.dumps(example_document), encoding="utf-8")
    done = subprocess.run([GUICHET, "check", str(dossier_path), "--call", str(path)],
                          capture_output=True, text=True, check=False, timeout=120)
    verdict = evaluate(parse_dossier(json.dumps(example_document).encode()), open_call.rules())
    assert json.loads(done.stdout) == verdict.to_dict()
    assert not verdict.eligible
    assert done.returncode == 1
    assert "aid_cap" in done.stdout


def test_publish_revision_refused_when_the_call_changed_since_the_draft_opened(
        deffinum, admin, tmp_path):
    draft = open_revision(deffinum, admin)
    changed = tmp_path / "deffinum.toml"
    changed.write_text(DEFFINUM_TOML.read_text().replace(
        'minimum_base = "500000.00"', 'minimum_base = "450000.00"').replace(
        'rules_version = "deffinum-2021.1"', 'rules_version = "deffinum-2021.2"'))
    load_call(changed)
    with pytest.raises(DraftRefused, match="ont changé depuis l'ouverture"):
        publish_call_draft(draft, admin, "deffinum-2026.1", version=draft.version)
    assert Call.objects.get(code="deffinum").rules_version == "deffinum-2021.2"


def test_discard_draft_deletes_it_and_leaves_the_call(deffinum, admin):
    draft = open_revision(deffinum, admin)
    editor.discard_draft(draft, admin, version=draft.version)
    assert not CallDraft.objects.exists()
    assert AuditEvent.objects.filter(action="call.draft_discarded").count() == 1
    assert open_revision(deffinum, admin).pk != draft.pk


def test_submitted_dossier_keeps_the_rules_version_it_was_checked_against(
        open_call, example_document):
    admin = staff(open_call, "admin@deffinum.example.fr", Role.ADMINISTRATOR)
    dossier = make_dossier(example_document)
    submit(dossier)
    draft = open_revision(open_call, admin)
    draft = edited(draft, admin, set_values("eligibility", {"aid_cap_rate": "0.60"}))
    publish_call_draft(draft, admin, "deffinum-2026.1", version=draft.version)
    submission = Submission.objects.get(dossier=dossier)
    assert submission.rules_version == "deffinum-2021.1"
    assert submission.eligible
    open_call.refresh_from_db()
    assert open_call.rules_version == "deffinum-2026.1"
