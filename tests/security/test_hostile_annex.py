"""Hostile financial annexes (issue 8, item 4): each is refused quickly, with a French reason,
and changes nothing. Smaller than the attacks of `benchmarks/hostile_annex.py`, but each one
trips the same guard."""

import datetime as dt
import io
import tracemalloc
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import (
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory

from guichet.audit.models import AuditEvent
from guichet.calls.services import load_call
from guichet.core.uploads import BoundedUploadHandler, OversizeUpload
from guichet.dossiers.annex import reader, schema, template
from guichet.dossiers.annex.schema import AnnexInvalid
from guichet.dossiers.budget import import_annex
from guichet.dossiers.models import ExpenseLine
from tests import hostile_files as hostile
from tests.conftest import DEFFINUM_TOML
from tests.factories import lead_and_member, make_dossier

pytestmark = pytest.mark.django_db

MEBIBYTE = 1024 * 1024


@pytest.fixture
def dossier(db, example_document):
    load_call(DEFFINUM_TOML, demo_today=dt.date.today())
    return make_dossier(example_document)


@pytest.fixture
def lead_client(client, dossier):
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    return client


def budget_of(dossier) -> list[tuple]:
    return list(ExpenseLine.objects.filter(dossier=dossier).order_by("pk")
                .values_list("pk", "label", "amount"))


def post_annex(client, dossier, data: bytes) -> str:
    """Post `data` as the annex; the page (a refusal is a page, never a redirect)."""
    response = client.post(f"/dossiers/{dossier.pk}/annexe/", {
        "file": SimpleUploadedFile("annexe.xlsx", data)})
    assert response.status_code == 200
    return response.content.decode()


def assert_refused(client, dossier, data: bytes, reason: str) -> None:
    budget = budget_of(dossier)
    page = post_annex(client, dossier, data)
    assert reason in page
    assert budget_of(dossier) == budget
    assert not AuditEvent.objects.filter(action="dossier.annex_imported").exists()


def test_whitespace_bomb_refused_from_declared_size_without_inflating(lead_client, dossier):
    bomb = hostile.rebuild(hostile.whitespace_bomb(64 * MEBIBYTE))
    assert len(bomb) < 200_000

    tracemalloc.start()
    try:
        assert_refused(lead_client, dossier, bomb,
                       "Le classeur est trop volumineux une fois décompressé : la partie "
                       "« xl/worksheets/sheet1.xml » fait 64 Mo (au plus 12 Mo).")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MEBIBYTE  # the 64 MB of blanks were never inflated


def test_compression_bomb_under_size_limit_refused_by_ratio(lead_client, dossier):
    bomb = hostile.rebuild(hostile.whitespace_bomb(2 * MEBIBYTE))

    assert_refused(lead_client, dossier, bomb, "Le classeur est anormalement compressé (la "
                   "partie « xl/worksheets/sheet1.xml » grossit")


def test_lying_declared_size_never_inflates_past_it(lead_client, dossier):
    bomb = hostile.with_lying_size(hostile.rebuild(hostile.whitespace_bomb(16 * MEBIBYTE)),
                                   hostile.EXPENSES_PART, 1000)

    assert_refused(lead_client, dossier, bomb, "Le fichier n&#x27;est pas un classeur XLSX "
                   "lisible.")


def test_shared_strings_flood_refused(lead_client, dossier):
    flood = hostile.rebuild(hostile.shared_strings(60_001, distinct=True))

    assert_refused(lead_client, dossier, flood,
                   "Le classeur contient trop de textes partagés (au plus 60\u202f000).")


def test_blank_rows_beyond_row_limit_refused_blank_rows_counted(lead_client, dossier):
    blank = hostile.rebuild(hostile.blank_rows(5001))

    assert_refused(lead_client, dossier, blank,
                   "Feuille « Dépenses », ligne 5002 : trop de lignes : au plus 5000 lignes sous "
                   "l&#x27;en-tête, lignes vides comprises")


def test_blank_rows_flood_refused_by_element_count(lead_client, dossier):
    flood = hostile.rebuild(hostile.blank_rows(100_000))

    assert_refused(lead_client, dossier, flood,
                   "Le classeur contient trop d&#x27;éléments (au plus 200\u202f000).")


def test_deeply_nested_elements_refused(lead_client, dossier):
    nested = hostile.rebuild(hostile.deep_nesting(1000))

    assert_refused(lead_client, dossier, nested, "Le classeur imbrique ses éléments trop "
                   "profondément (au plus 24 niveaux).")


def test_style_sheet_flood_refused(lead_client, dossier):
    styles = hostile.rebuild(hostile.huge_styles(20_001))

    assert_refused(lead_client, dossier, styles, "Le classeur contient trop d&#x27;éléments de "
                   "structure ou de mise en forme (au plus 20\u202f000).")


def test_row_of_too_many_cells_refused(lead_client, dossier):
    cells = "".join(f'<c r="A2" t="inlineStr"><is><t>{n}</t></is></c>' for n in range(1001))
    wide = hostile.rebuild({hostile.EXPENSES_PART: hostile.sheet_part(
        lambda: [f'<row r="2">{cells}</row>'.encode()])})

    assert_refused(lead_client, dossier, wide,
                   "Une ligne du classeur contient trop de cellules (au plus 1\u202f000).")


def test_many_parts_refused_before_reading_the_directory(lead_client, dossier):
    parts = hostile.rebuild(hostile.many_parts(200))

    assert_refused(lead_client, dossier, parts,
                   "Le classeur contient trop de parties (212 ; au plus 200).")


def test_entity_expansion_refused(lead_client, dossier):
    laughs = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData><row r="1"><c r="A1" '
              't="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>')
    bomb = hostile.rebuild({hostile.EXPENSES_PART: laughs.encode()})

    assert_refused(lead_client, dossier, bomb, "Le classeur contient une déclaration de type de "
                   "document (DTD), refusée.")


def test_upload_over_5_mb_refused_on_its_field(lead_client, dossier):
    budget = budget_of(dossier)
    page = post_annex(lead_client, dossier, b"PK" + b"\0" * (5 * MEBIBYTE))

    assert 'id="id_file-messages"' in page or "fr-error-text" in page
    assert "Le fichier dépasse 5 Mo." in page
    assert "Annexe financière remplie (XLSX)" in page
    assert budget_of(dossier) == budget


def test_upload_beyond_server_limit_dropped_as_it_arrives(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    request = RequestFactory().post("/", data={
        "file": SimpleUploadedFile("annexe.xlsx", b"x" * 5000),
        "after": "kept"})
    handlers = [BoundedUploadHandler(request), MemoryFileUploadHandler(request),
                TemporaryFileUploadHandler(request)]

    post, files = MultiPartParser(request.META, io.BytesIO(request.body), handlers).parse()

    upload = files["file"]
    assert isinstance(upload, OversizeUpload)
    assert (upload.name, upload.size, upload.read()) == ("annexe.xlsx", 5000, b"")
    assert post["after"] == "kept"  # the fields after the file are read


def test_annex_service_refuses_over_5_mb(dossier):
    lead, _member = lead_and_member(dossier)
    budget = budget_of(dossier)
    with pytest.raises(AnnexInvalid) as caught:
        import_annex(dossier, lead, b"\0" * (5 * MEBIBYTE + 1))

    assert [error.reason for error in caught.value.errors] == ["Le fichier dépasse 5 Mo."]
    assert budget_of(dossier) == budget


def test_ods_file_is_not_read_as_an_annex(lead_client, dossier):
    ods = lead_client.get(f"/dossiers/{dossier.pk}/budget.ods").content

    assert_refused(lead_client, dossier, ods, "Le fichier n&#x27;est pas un classeur XLSX "
                   "lisible.")


def test_full_annex_of_5000_lines_within_every_limit():

    members = [schema.AnnexMember("12345678900011", "Alpha"),
               schema.AnnexMember("98765432100012", "Beta")]
    categories = [schema.AnnexCategory("staff", "Personnel")]
    expenses = [schema.AnnexExpense(members[n % 2].siret, "staff", f"Ligne {n} " + "é" * 400,
                                    Decimal("1234.56"), n % 3 == 0) for n in range(5000)]
    financing = [schema.AnnexFinancing("aid", None, Decimal("1000.00"))] * 5000
    data = template.build_template(members, categories, schema.AnnexContent(expenses, financing))

    content = reader.parse_annex(data, members, categories)

    assert (len(content.expenses), len(content.financing)) == (5000, 5000)


def test_thousands_of_refused_cells_listed_hundred_at_most(lead_client, dossier):
    invalid = hostile.rebuild(hostile.wide_rows(300, 6))

    page = post_annex(lead_client, dossier, invalid)

    alert = page[page.index('data-testid="annex-errors"'):].split("</div>")[0]
    assert "1200 erreurs dans l'annexe" in alert  # B is a reading aid, D any text
    assert alert.count("<li>") == 100
    assert "… et 1100 autres erreurs." in alert
