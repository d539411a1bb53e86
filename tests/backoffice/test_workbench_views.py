"""The workbench pages: the received column, bulk labels through the list, saved filters,
private annotations (never shown to applicants nor experts) and follows."""

import datetime as dt
import io
import json
import re

import openpyxl
import pytest

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.core.clock import PARIS
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.review import workbench
from guichet.review.models import Assignment, ExpertProfile, Label, Role
from tests.factories import (
    bulk_submitted_dossiers,
    database_state,
    lead_and_member,
    make_dossier,
    portal_addresses,
    staff,
)
from tests.html import select, text

pytestmark = pytest.mark.django_db
LIST = "/instruction/appels/deffinum/dossiers/"
SECRET = "Montage financier fragile, à surveiller"
ASSIGNED = dt.datetime(2021, 9, 15, 10, 0, tzinfo=PARIS)


@pytest.fixture
def instructor(client, team):
    client.force_login(team["instructor"])
    return team["instructor"]


def receipts(page: str) -> list[str]:
    return re.findall(r'href="/instruction/dossiers/\d+/">([^<]+)</a>', page)


def test_list_received_column_in_paris_time_and_sortable(client, deffinum, example_document,
                                                         instructor):
    dossier = make_dossier(example_document)
    submit(dossier, now=dt.datetime(2021, 7, 1, 9, 45, tzinfo=dt.UTC))
    bulk_submitted_dossiers(deffinum, 30)
    page = client.get(LIST, {"q": dossier.title}).content.decode()
    assert "11:45" in page  # 9:45 UTC is 11:45 in Paris in July
    for sort, order in (("recu", "received_at"), ("-recu", "-received_at")):
        expected = list(Dossier.objects.filter(call=deffinum).order_by(order, "pk")
                        .values_list("receipt_number", flat=True))
        assert receipts(client.get(LIST, {"tri": sort}).content.decode()) == expected, sort


def test_bulk_label_through_the_list_shows_on_rows_and_dossier_page(client, deffinum,
                                                                    instructor):
    bulk_submitted_dossiers(deffinum, 5)
    label = workbench.create_label(deffinum, instructor, "Dossier phare", "green-menthe")
    chosen = list(Dossier.objects.filter(call=deffinum).order_by("pk")[:3])
    response = client.post(f"{LIST}lot/", {"ids": [d.pk for d in chosen], "action": "add_label",
                                           "label": label.pk, "next": "tri=titre"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?tri=titre"
    page = client.get(LIST).content.decode()
    assert "3 dossiers modifiés" in page
    assert page.count('fr-badge--green-menthe">Dossier phare') == 3 + 1  # rows + the call's
    filtered = client.get(LIST, {"etiquette": label.pk}).content.decode()
    assert sorted(receipts(filtered)) == sorted(d.receipt_number for d in chosen)
    detail = client.get(f"/instruction/dossiers/{chosen[0].pk}/").content.decode()
    assert 'data-testid="labels"' in detail
    assert "Dossier phare" in detail


@pytest.mark.parametrize(("post", "field"), [
    ({"ids": ["abc"], "action": "add_label"}, "Dossiers cochés"),
    ({"ids": ["1"], "action": "explode"}, "Action"),
    ({"action": "add_label"}, "Dossiers cochés"),
    ({"ids": ["1"], "action": "request_documents"}, "Pièces ou points à corriger")])
def test_bulk_hostile_input_says_which_field_and_changes_nothing(client, deffinum, instructor,
                                                                 post, field):
    bulk_submitted_dossiers(deffinum, 2)
    before = database_state()
    response = client.post(f"{LIST}lot/", post, follow=True)
    assert response.status_code == 200
    assert re.search(rf'fr-alert--error[^>]*><p>{field} :', response.content.decode())
    assert database_state() == before


def test_bulk_refusal_names_the_refused_dossiers_on_the_page(client, deffinum, team):
    bulk_submitted_dossiers(deffinum, 2)
    client.force_login(team["committee"])
    ids = list(Dossier.objects.filter(call=deffinum).values_list("pk", flat=True))
    page = client.post(f"{LIST}lot/", {"ids": ids, "action": "request_documents",
                                       "points": "Kbis", "deadline": "2099-01-01T12:00"},
                       follow=True).content.decode()
    for number in Dossier.objects.values_list("receipt_number", flat=True):
        assert number in page.split("Rien n'a été modifié")[0]


def test_saved_filter_through_the_list(client, deffinum, instructor):
    client.post(f"{LIST}filtres/", {"name": "Occitanie éligibles",
                                     "query": "region=76&eligible=yes"})
    page = client.get(LIST).content.decode()
    assert '<a class="fr-link" href="?region=76&amp;eligible=yes">Occitanie éligibles</a>' in page


@pytest.fixture
def annotated(deffinum, example_document, team):
    dossier = make_dossier(example_document)
    submit(dossier, now=dt.datetime(2021, 8, 1, 10, 0, tzinfo=PARIS))
    workbench.annotate(dossier, team["instructor"], "vigilance", SECRET)
    workbench.follow(dossier, team["committee"])
    return dossier


def test_annotations_shown_to_staff_with_kind_author_and_followers(client, annotated, team):
    client.force_login(team["admin"])
    page = client.get(f"/instruction/dossiers/{annotated.pk}/").content.decode()
    assert SECRET in page
    assert "point de vigilance" in page
    assert re.search(r'data-testid="followers">[^<]*comite@example.fr', page)


def test_annotations_never_shown_to_an_assigned_expert(client, annotated, deffinum):
    expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    profile = ExpertProfile.objects.create(user=expert, call=deffinum, sectors=["btp"])
    Assignment.objects.create(dossier=annotated, expert=profile, created_at=ASSIGNED)
    client.force_login(expert)
    response = client.get(f"/instruction/dossiers/{annotated.pk}/")
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert 'data-testid="workbench"' not in response.content.decode()
    assert client.post(f"/instruction/dossiers/{annotated.pk}/annotations/",
                       {"kind": "question", "body": "x"}).status_code == 403


def test_annotations_never_shown_in_the_portal(client, annotated):
    lead, member = lead_and_member(annotated)
    for person in (lead, member):
        client.force_login(person)
        for address in portal_addresses(annotated):
            response = client.get(address)
            body = (b"".join(response.streaming_content) if response.streaming
                    else response.content)
            assert SECRET.encode() not in body, address


def test_follow_through_the_dossier_page(client, annotated, instructor):
    client.post(f"/instruction/dossiers/{annotated.pk}/suivi/", {"suivre": "oui"})
    page = client.get(f"/instruction/dossiers/{annotated.pk}/").content.decode()
    assert re.search(r'data-testid="followers">[^<]*instructeur@example.fr', page)
    assert "Ne plus suivre ce dossier" in page


def test_export_checked_sends_exactly_the_checked_dossiers_to_the_export(client, deffinum,
                                                                         instructor):
    bulk_submitted_dossiers(deffinum, 5)
    checked = list(Dossier.objects.filter(call=deffinum).order_by("pk")
                   .values_list("pk", flat=True)[:3])
    response = client.post(f"{LIST}export-coches/", {"ids": checked, "format": "xlsx",
                                                     "action": "add_label"})
    assert response.status_code == 302
    assert response["Location"] == (f"{LIST}export/?format=xlsx&separator=semicolon&"
                                    + "&".join(f"ids={pk}" for pk in checked))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(response["Location"]).getvalue()))
    numbers = [row[0].value for row in workbook.worksheets[0].iter_rows(min_row=2)]
    assert sorted(numbers) == sorted(Dossier.objects.filter(pk__in=checked)
                                     .values_list("receipt_number", flat=True))


@pytest.mark.parametrize(("post", "field"), [
    ({"format": "xlsx"}, "Dossiers cochés"),
    ({"ids": ["1x"], "format": "xlsx"}, "Dossiers cochés"),
    ({"ids": ["1"], "format": "exe"}, "Format"),
])
def test_export_checked_refused_says_which_field(client, deffinum, instructor, post, field):
    response = client.post(f"{LIST}export-coches/", post, follow=True)
    assert response.status_code == 200
    assert re.search(rf'fr-alert--error[^>]*><p>{field} :', response.content.decode())


def _label_options(page: str) -> list[str]:
    return [text(option) for option in select(page, '[data-testid="label-form"] option')]


def test_dossier_page_label_form_puts_a_label_on_and_takes_it_off(client, annotated, deffinum,
                                                                 team):
    phare = workbench.create_label(deffinum, team["admin"], "Dossier phare", "green-menthe")
    workbench.create_label(deffinum, team["admin"], "À revoir", "orange-terre-battue")
    client.force_login(team["instructor"])
    page_url = f"/instruction/dossiers/{annotated.pk}/"
    assert _label_options(client.get(page_url).content.decode()) == ["Dossier phare",
                                                                     "À revoir"]
    response = client.post(f"{page_url}etiquettes/", {"label": phare.pk, "present": "oui"},
                           follow=True)
    page = response.content.decode()
    assert "Étiquettes du dossier mises à jour." in page
    assert [text(badge) for badge in select(page, '[data-testid="labels"] .fr-badge')] == [
        "Dossier phare"]
    assert _label_options(page) == ["À revoir"]
    assert list(annotated.labels.all()) == [phare]
    client.post(f"{page_url}etiquettes/", {"label": phare.pk, "present": "non"})
    assert list(annotated.labels.all()) == []
    changes = AuditEvent.objects.filter(action=AuditAction.DOSSIER_LABELS_CHANGED,
                                        object_id=str(annotated.pk))
    assert [json.loads(event.details)["present"]
            for event in changes.order_by("sequence")] == [True, False]


@pytest.mark.parametrize(("post", "field"), [
    ({"label": "OTHER", "present": "oui"}, "Étiquette"),
    ({"label": "1 OR 1=1", "present": "oui"}, "Étiquette"),
    ({"label": "PHARE", "present": "=cmd|' /C calc'!A0"}, "Action"),
    ({"present": "oui"}, "Étiquette")])
def test_dossier_page_label_form_hostile_input_says_which_field_and_changes_nothing(
        client, annotated, deffinum, other_call, team, post, field):
    phare = workbench.create_label(deffinum, team["admin"], "Dossier phare", "green-menthe")
    elsewhere = Label.objects.create(call=other_call, name="Ailleurs", colour="blue-ecume")
    post = {name: {"OTHER": elsewhere.pk, "PHARE": phare.pk}.get(value, value)
            for name, value in post.items()}
    client.force_login(team["instructor"])
    before = database_state()
    response = client.post(f"/instruction/dossiers/{annotated.pk}/etiquettes/", post,
                           follow=True)
    assert response.status_code == 200
    assert re.search(rf'fr-alert--error[^>]*><p>{field} :', response.content.decode())
    assert database_state() == before


def test_dossier_page_label_form_not_offered_to_an_expert_and_refused(client, annotated,
                                                                      deffinum, team):
    phare = workbench.create_label(deffinum, team["admin"], "Dossier phare", "green-menthe")
    expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    profile = ExpertProfile.objects.create(user=expert, call=deffinum, sectors=["btp"])
    Assignment.objects.create(dossier=annotated, expert=profile, created_at=ASSIGNED)
    client.force_login(expert)
    assert select(client.get(f"/instruction/dossiers/{annotated.pk}/").content.decode(),
                  '[data-testid="label-form"]') == []
    response = client.post(f"/instruction/dossiers/{annotated.pk}/etiquettes/",
                           {"label": phare.pk, "present": "oui"})
    assert response.status_code == 403
    assert list(annotated.labels.all()) == []
