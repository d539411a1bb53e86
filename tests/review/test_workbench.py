"""The workbench's services: labels, saved filters, annotations, follows, the instructor in
charge, and bulk actions (all or nothing, permission-checked per dossier, audited)."""

import datetime as dt

import pytest

from guichet.audit.models import AuditEvent
from guichet.core.errors import ServiceError
from guichet.dossiers.models import CorrectionRequest, Dossier, DossierStatus
from guichet.grants.models import Decision, DecisionStatus
from guichet.review import workbench
from guichet.review.instruction import request_correction
from guichet.review.models import Annotation, DossierInstructor, Follow, Label, Role, SavedFilter
from tests.factories import bulk_submitted_dossiers, database_state, staff
from tests.grants.test_decisions import instructed_dossier

pytestmark = pytest.mark.django_db
LATER = dt.datetime(2099, 1, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def three(deffinum):
    bulk_submitted_dossiers(deffinum, 3)
    return list(Dossier.objects.filter(call=deffinum).order_by("receipt_number"))


@pytest.fixture
def label(deffinum, team):
    return workbench.create_label(deffinum, team["instructor"], "À revoir", "pink-macaron")


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_label_created_with_a_palette_colour_and_audited(deffinum, label):
    assert (label.call, label.name, label.colour) == (deffinum, "À revoir", "pink-macaron")
    assert events("call.label_created") == 1


@pytest.mark.parametrize(("name", "colour", "field"), [
    ("", "pink-macaron", "name"), ("Urgent", "red", "colour"), ("à REVOIR", "blue-ecume", "name")])
def test_label_refused_names_the_field(deffinum, team, label, name, colour, field):
    with pytest.raises(ServiceError) as refused:
        workbench.create_label(deffinum, team["instructor"], name, colour)
    assert refused.value.field == field
    assert Label.objects.count() == 1


def test_bulk_label_of_three_dossiers(deffinum, team, label, three):
    changed = workbench.bulk_apply(deffinum, team["instructor"], [d.pk for d in three],
                                   "add_label", label=label)
    assert changed == 3
    assert set(label.dossiers.all()) == set(three)
    assert events("dossier.labels_changed") == 3
    workbench.bulk_apply(deffinum, team["committee"], [three[0].pk], "remove_label",
                         label=label)
    assert set(label.dossiers.all()) == set(three[1:])


def test_bulk_refuses_a_dossier_of_another_call_and_changes_nothing(
        deffinum, other_call, team, label, three):
    bulk_submitted_dossiers(other_call, 1, start=500)
    foreign = Dossier.objects.get(call=other_call)
    before = database_state()
    with pytest.raises(ServiceError, match="n'existent pas dans cet appel"):
        workbench.bulk_apply(deffinum, team["instructor"], [three[0].pk, foreign.pk],
                             "add_label", label=label)
    assert database_state() == before


def test_bulk_refusal_by_permission_names_the_dossiers(deffinum, team, three):
    before = database_state()
    with pytest.raises(ServiceError) as refused:
        workbench.bulk_apply(deffinum, team["committee"], [d.pk for d in three],
                             "request_documents", points="Kbis à jour", deadline=LATER)
    for dossier in three:
        assert dossier.receipt_number in refused.value.message
    assert database_state() == before


def test_bulk_refusal_of_one_dossier_rolls_back_the_others(deffinum, team, three):
    request_correction(three[1], team["instructor"], "RIB", LATER)  # no longer instructable
    with pytest.raises(ServiceError) as refused:
        workbench.bulk_apply(deffinum, team["instructor"], [d.pk for d in three],
                             "request_documents", points="Kbis à jour", deadline=LATER)
    assert three[1].receipt_number in refused.value.message
    assert three[0].receipt_number not in refused.value.message
    assert "Rien n'a été modifié" in refused.value.message
    assert list(CorrectionRequest.objects.values_list("dossier", flat=True)) == [three[1].pk]
    assert Dossier.objects.filter(status=DossierStatus.CORRECTION_REQUESTED).count() == 1


def test_bulk_request_documents_on_each_dossier(deffinum, team, three):
    workbench.bulk_apply(deffinum, team["instructor"], [d.pk for d in three],
                         "request_documents", points="Kbis à jour", deadline=LATER)
    assert CorrectionRequest.objects.filter(points="Kbis à jour").count() == 3
    assert events("dossier.correction_requested") == 3


def test_bulk_prepare_decisions_on_instructed_dossiers(deffinum, team, example_document):
    dossiers = [instructed_dossier(example_document, team["instructor"]) for _ in range(2)]
    workbench.bulk_apply(deffinum, team["committee"], [d.pk for d in dossiers],
                         "prepare_decision", outcome="selected")
    decisions = Decision.objects.filter(status=DecisionStatus.PENDING)
    assert {(d.dossier_id, d.awarded_aid) for d in decisions} == {
        (d.pk, d.requested_aid) for d in dossiers}


def test_bulk_prepare_decision_refusal_says_why(deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(ServiceError, match="Un refus doit être motivé"):
        workbench.bulk_apply(deffinum, team["committee"], [dossier.pk], "prepare_decision",
                             outcome="rejected")
    assert not Decision.objects.exists()


def test_bulk_assign_instructor(deffinum, team, three):
    other = staff(deffinum, "second.instructeur@example.fr", Role.INSTRUCTOR)
    workbench.bulk_apply(deffinum, team["instructor"], [d.pk for d in three[:2]],
                         "assign_instructor", instructor=other)
    assert set(DossierInstructor.objects.values_list("dossier", "instructor")) == {
        (three[0].pk, other.pk), (three[1].pk, other.pk)}


def test_bulk_assign_refuses_someone_who_does_not_instruct(deffinum, team, three):
    with pytest.raises(ServiceError, match="n'instruit pas"):
        workbench.bulk_apply(deffinum, team["instructor"], [three[0].pk],
                             "assign_instructor", instructor=team["committee"])
    assert not DossierInstructor.objects.exists()


def test_bulk_refuses_an_empty_selection_and_an_unknown_action(deffinum, team):
    with pytest.raises(ServiceError) as empty:
        workbench.bulk_apply(deffinum, team["instructor"], [], "add_label")
    assert empty.value.field == "ids"
    with pytest.raises(ServiceError) as unknown:
        workbench.bulk_apply(deffinum, team["instructor"], [1], "delete_everything")
    assert unknown.value.field == "action"


def test_saved_filter_is_personal_and_replaced_by_name(deffinum, team):
    workbench.save_filter(deffinum, team["instructor"], "Île-de-France", "region=11")
    workbench.save_filter(deffinum, team["instructor"], "Île-de-France", "region=11&q=btp")
    workbench.save_filter(deffinum, team["committee"], "Île-de-France", "region=11")
    mine = SavedFilter.objects.get(user=team["instructor"])
    assert (mine.name, mine.query) == ("Île-de-France", "region=11&q=btp")
    with pytest.raises(ServiceError):
        workbench.delete_filter(mine, team["committee"])
    workbench.delete_filter(mine, team["instructor"])
    assert SavedFilter.objects.count() == 1


def test_annotation_by_staff_is_audited(deffinum, team, three):
    note = workbench.annotate(three[0], team["committee"], "vigilance", "  Budget élevé ")
    assert (note.kind, note.body, note.author) == ("vigilance", "Budget élevé", team["committee"])
    assert events("dossier.annotated") == 1


@pytest.mark.parametrize(("kind", "body", "field"), [("rumeur", "x", "kind"),
                                                     ("question", "  ", "body")])
def test_annotation_refused_names_the_field(team, three, kind, body, field):
    with pytest.raises(ServiceError) as refused:
        workbench.annotate(three[0], team["instructor"], kind, body)
    assert refused.value.field == field
    assert not Annotation.objects.exists()


def test_annotation_and_follow_refused_to_an_expert(deffinum, three):
    expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    with pytest.raises(ServiceError):
        workbench.annotate(three[0], expert, "question", "Avis")
    with pytest.raises(ServiceError):
        workbench.follow(three[0], expert)
    assert not Annotation.objects.exists()
    assert not Follow.objects.exists()


def test_follow_is_recorded_once_and_undone(team, three):
    workbench.follow(three[0], team["instructor"])
    workbench.follow(three[0], team["instructor"])
    assert list(Follow.objects.values_list("user", flat=True)) == [team["instructor"].pk]
    assert events("dossier.followed") == 1
    workbench.follow(three[0], team["instructor"], following=False)
    assert not Follow.objects.exists()
    assert events("dossier.unfollowed") == 1
