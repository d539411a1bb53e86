"""The instruction workbench in a browser, on a desktop and on a 390 px phone: an instructor
finds a dossier by a member's name, then labels three dossiers at once and exports them. Every
page passes axe-core with no JavaScript error."""

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from guichet.dossiers.models import ConsortiumMember, Dossier
from guichet.dossiers.services import submit
from guichet.review import workbench
from guichet.review.models import CallRole, Role
from tests.e2e.conftest import click_through, log_in, tick, verified_user, visit
from tests.e2e.test_mobile import on_phone
from tests.factories import bulk_submitted_dossiers, make_dossier

pytestmark = pytest.mark.e2e
PASSWORD = "Instruction-Atelier-2024!"


@pytest.fixture
def workbench_call(deffinum_open, example_document):
    """Four bulk dossiers and one submitted for real, whose partner is « Atelier Gaspard
    Lenoir »; an instructor and the call's label « À revoir »."""
    bulk_submitted_dossiers(deffinum_open, 4)
    dossier = make_dossier(example_document)
    ConsortiumMember.objects.filter(consortium=dossier.consortium, is_lead=False).update(
        name="Atelier Gaspard Lenoir")
    submit(dossier)
    instructor = verified_user("instructrice.atelier@example.fr", PASSWORD)
    CallRole.objects.create(user=instructor, call=deffinum_open, role=Role.INSTRUCTOR)
    workbench.create_label(deffinum_open, instructor, "À revoir", "pink-macaron")
    dossier.refresh_from_db()
    return {"call": deffinum_open, "found": dossier, "instructor": instructor}


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_instructor_finds_a_dossier_by_member_and_labels_three(new_page, live_server,
                                                                workbench_call, mobile):
    page = new_page(mobile=mobile)
    check = on_phone if mobile else visit
    base = live_server.url
    log_in(page, base, workbench_call["instructor"].email, PASSWORD)
    page.goto(f"{base}/instruction/appels/{workbench_call['call'].code}/dossiers/")
    check(page, "workbench list")
    table = page.get_by_test_id("dossiers")
    expect(table.locator("tbody tr")).to_have_count(5)

    page.get_by_label("Rechercher (titre, résumé, membres, SIRET)").fill("Lenoir")
    click_through(page.get_by_role("button", name="Filtrer"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(workbench_call["found"].receipt_number)
    check(page, "workbench search by member")

    page.goto(f"{base}/instruction/appels/{workbench_call['call'].code}/dossiers/?tri=numero")
    chosen = list(Dossier.objects.order_by("receipt_number")[:3])
    for dossier in chosen:
        tick(page.locator(f"#select-{dossier.pk}"))
    bulk = page.locator("#bulk")
    bulk.get_by_label("Action").select_option(label="Ajouter l'étiquette")
    bulk.get_by_label("Étiquette").select_option(label="À revoir")
    click_through(bulk.get_by_role("button", name="Appliquer aux dossiers cochés"))
    expect(page.get_by_text("3 dossiers modifiés.")).to_be_visible()
    expect(table.get_by_test_id("row-labels")).to_have_count(3)
    check(page, "workbench three labelled")
    assert set(workbench_call["call"].labels.get().dossiers.all()) == set(chosen)

    for dossier in chosen:
        tick(page.locator(f"#select-{dossier.pk}"))
    with page.expect_download() as download:
        bulk.get_by_test_id("export-checked").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert sorted(row[0] for row in rows) == [dossier.receipt_number for dossier in chosen]


@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_instructor_labels_one_dossier_from_its_page(new_page, live_server, workbench_call,
                                                     mobile):
    page = new_page(mobile=mobile)
    check = on_phone if mobile else visit
    base = live_server.url
    dossier = workbench_call["found"]
    log_in(page, base, workbench_call["instructor"].email, PASSWORD)
    page.goto(f"{base}/instruction/dossiers/{dossier.pk}/")
    check(page, "dossier page, label form")
    page.get_by_label("Ajouter une étiquette").select_option(label="À revoir")
    click_through(page.get_by_test_id("label-form").get_by_role("button", name="Ajouter"))
    expect(page.get_by_text("Étiquettes du dossier mises à jour.")).to_be_visible()
    expect(page.get_by_test_id("labels")).to_contain_text("À revoir")
    check(page, "dossier page, labelled")
    assert [label.name for label in dossier.labels.all()] == ["À revoir"]
    click_through(page.get_by_role("button", name="Retirer l'étiquette À revoir"))
    expect(page.get_by_test_id("labels")).to_have_count(0)
    check(page, "dossier page, label taken off")
    assert not dossier.labels.exists()
