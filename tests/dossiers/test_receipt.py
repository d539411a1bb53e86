"""The accusé de réception PDF: what it prints, read back from the PDF itself."""

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pypdf
import pytest

from guichet.dossiers.pdf_check import check_pdf
from guichet.dossiers.receipt import (
    ReceiptData,
    format_paris_instant,
    receipt_hash_from_pdf,
    render_receipt_pdf,
)
from guichet.rules.money import format_eur_fr

SUMMER_HASH = hashlib.sha256(b"dossier gele, ete").hexdigest()
WINTER_HASH = hashlib.sha256(b"dossier gele, hiver").hexdigest()

SUMMER = ReceiptData(
    receipt_number="DEF-2021-000042",
    received_at=datetime(2021, 8, 31, 9, 59, 59, tzinfo=UTC),
    sha256=SUMMER_HASH,
    call_name="Deffinum",
    wave_name="Vague 1",
    title='Projet <script>alert("x")</script> & associés',
    lead_name="Université de Lorraine",
    members=[
        ("Université de Lorraine", "19542208700013"),
        ("Société Numérique SAS", "73282932000074"),
    ],
    eligible_base=Decimal("1234567.89"),
    aid=Decimal("864197.52"),
    eligible=False,
    failed_rules=[
        "L'aide demandée dépasse le plafond de l'appel.",
        "Le consortium doit compter au moins deux membres.",
    ],
    version=3,
)
WINTER = replace(
    SUMMER,
    receipt_number="DEF-2021-000043",
    received_at=datetime(2021, 12, 15, 9, 59, 59, tzinfo=UTC),
    sha256=WINTER_HASH,
    title="Médiathèques en réseau",
    eligible=True,
    failed_rules=[],
    version=1,
)


@pytest.fixture(scope="module")
def summer_pdf() -> bytes:
    return render_receipt_pdf(SUMMER)


@pytest.fixture(scope="module")
def winter_pdf() -> bytes:
    return render_receipt_pdf(WINTER)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_metadata(pdf: bytes) -> dict:
    return dict(pypdf.PdfReader(io.BytesIO(pdf)).metadata)


def test_render_receipt_pdf_is_a_single_page_pdf(summer_pdf):
    assert summer_pdf.startswith(b"%PDF-")
    assert len(pypdf.PdfReader(io.BytesIO(summer_pdf)).pages) == 1


def test_render_receipt_pdf_accepted_by_the_attachment_check(summer_pdf):
    checked = check_pdf(io.BytesIO(summer_pdf))

    assert checked.pages == 1
    assert checked.sha256 == hashlib.sha256(summer_pdf).hexdigest()


def test_render_receipt_pdf_shows_heading_call_wave_number_and_version(summer_pdf):
    text = pdf_text(summer_pdf)

    assert "République française" in text
    assert "Accusé de réception" in text
    assert "Deffinum — Vague 1" in text
    assert "DEF-2021-000042" in text
    assert "Version du dossier 3" in text


def test_receipt_hash_from_pdf_reads_exact_hash(summer_pdf, winter_pdf):
    assert receipt_hash_from_pdf(summer_pdf) == SUMMER_HASH
    assert receipt_hash_from_pdf(winter_pdf) == WINTER_HASH


def test_render_receipt_pdf_hash_extracted_contiguously_on_its_own_line(summer_pdf):
    lines = [line.strip() for line in pdf_text(summer_pdf).splitlines()]

    assert SUMMER_HASH in lines


def test_render_receipt_pdf_summer_instant_in_paris_time(summer_pdf):
    assert "Reçu le 31/08/2021 à 11:59:59 (heure de Paris, UTC+02:00)" in pdf_text(summer_pdf)


def test_render_receipt_pdf_winter_instant_in_paris_time(winter_pdf):
    assert "Reçu le 15/12/2021 à 10:59:59 (heure de Paris, UTC+01:00)" in pdf_text(winter_pdf)


def test_render_receipt_pdf_script_title_printed_as_text(summer_pdf):
    assert 'Projet <script>alert("x")</script> & associés' in pdf_text(summer_pdf)


def test_render_receipt_pdf_metadata_has_title_and_hash(summer_pdf):
    metadata = pdf_metadata(summer_pdf)

    assert metadata["/Title"] == "Accusé de réception DEF-2021-000042"
    assert f"sha256={SUMMER_HASH}" in metadata["/Keywords"]
    assert f"sha256={SUMMER_HASH}" in metadata["/Subject"]


def test_render_receipt_pdf_project_lead_members_and_amounts(summer_pdf):
    text = pdf_text(summer_pdf)

    assert "Chef de file Université de Lorraine" in text
    assert "Société Numérique SAS 73282932000074" in text
    assert "Université de Lorraine 19542208700013" in text
    assert f"Assiette éligible {format_eur_fr(Decimal('1234567.89'))}" in text
    assert "Aide demandée 864\u202f197,52\u00a0€" in text


def test_render_receipt_pdf_not_eligible_lists_failed_rules(summer_pdf):
    text = pdf_text(summer_pdf)

    assert "Dossier non éligible au moment de sa réception." in text
    assert "L'aide demandée dépasse le plafond de l'appel." in text
    assert "Le consortium doit compter au moins deux membres." in text


def test_render_receipt_pdf_eligible_verdict(winter_pdf):
    text = pdf_text(winter_pdf)

    assert "Dossier éligible au moment de sa réception." in text
    assert "non éligible" not in text
    assert "Règles non respectées" not in text


def test_render_receipt_pdf_explains_the_hash(summer_pdf):
    text = " ".join(pdf_text(summer_pdf).split())

    assert "le dossier n'a pas été modifié depuis sa réception" in text


def test_render_receipt_pdf_naive_instant_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_receipt_pdf(replace(SUMMER, received_at=datetime(2021, 8, 31, 11, 59, 59)))


def test_render_receipt_pdf_malformed_hash_refused():
    with pytest.raises(ValueError, match="64 lowercase"):
        render_receipt_pdf(replace(SUMMER, sha256=SUMMER_HASH.upper()))


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Spring forward: 01:30 UTC on 28 March 2021 is 03:30 in Paris.
        (
            datetime(2021, 3, 28, 1, 30, tzinfo=UTC),
            "28/03/2021 à 03:30:00 (heure de Paris, UTC+02:00)",
        ),
        # Before midnight UTC, already the next day in Paris.
        (
            datetime(2021, 12, 31, 23, 30, tzinfo=UTC),
            "01/01/2022 à 00:30:00 (heure de Paris, UTC+01:00)",
        ),
        # Any aware instant is converted, whatever its own offset.
        (
            datetime(2021, 8, 31, 5, 59, 59, tzinfo=timezone(timedelta(hours=-4))),
            "31/08/2021 à 11:59:59 (heure de Paris, UTC+02:00)",
        ),
    ],
)
def test_format_paris_instant_converts_to_paris(instant, expected):
    assert format_paris_instant(instant) == expected


def blank_pdf(metadata: dict[str, str]) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_receipt_hash_from_pdf_falls_back_to_metadata():
    pdf = blank_pdf({"/Keywords": f"receipt, sha256={WINTER_HASH}"})

    assert receipt_hash_from_pdf(pdf) == WINTER_HASH


def test_receipt_hash_from_pdf_without_hash_returns_none():
    assert receipt_hash_from_pdf(blank_pdf({"/Title": "Autre document"})) is None


def test_receipt_hash_from_pdf_reads_printed_text_without_metadata(summer_pdf):
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(summer_pdf)))
    stripped = io.BytesIO()
    writer.write(stripped)
    assert "sha256" not in str(pdf_metadata(stripped.getvalue()))

    assert receipt_hash_from_pdf(stripped.getvalue()) == SUMMER_HASH
