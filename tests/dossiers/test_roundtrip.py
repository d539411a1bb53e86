import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.dossiers.format import dossier_queryset, export_dossier, submitted_dossier
from guichet.dossiers.models import Dossier, Organisation
from guichet.dossiers.services import ImportRefused, import_dossier, submit
from guichet.rules import dossier as fmt
from tests.factories import (
    OrganisationFactory,
    attach_required_documents,
    document_with_fresh_sirets,
)

pytestmark = pytest.mark.django_db


def _round_trip(document: dict) -> tuple[bytes, bytes]:
    """(the canonical form of the document, the export of what was imported from it)."""
    original = fmt.canonical_json(fmt.parse_dossier(json.dumps(document)))
    stored = import_dossier(original).dossier
    return original, export_dossier(dossier_queryset().get(pk=stored.pk))


def test_round_trip_contract_example_is_lossless(deffinum, example_document):
    original, exported = _round_trip(example_document)
    assert exported == original


def test_round_trip_keeps_draft_gaps_and_order(deffinum, example_document):
    """An incomplete draft (no title, no milestones) and non-eligible lines survive as they are."""
    example_document.pop("title")
    example_document["milestones"] = []
    example_document["expenses"].append({"member": "55208131766522", "category": "travel",
                                         "label": "Hors assiette", "amount": "0.01",
                                         "eligible": False})
    original, exported = _round_trip(example_document)
    assert exported == original
    assert json.loads(exported)["expenses"][-1]["amount"] == "0.01"


amounts = st.integers(min_value=0, max_value=10**11).map(lambda cents: Decimal(cents) / 100)
# Any text but NUL, which the format refuses (no database stores it), and lone surrogates,
# which are not Unicode text.
labels = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
                 min_size=1, max_size=40)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expense_amounts=st.lists(amounts, min_size=1, max_size=8),
       aid=amounts, label=labels, duration=st.integers(min_value=1, max_value=60),
       eligible=st.lists(st.booleans(), min_size=8, max_size=8))
def test_round_trip_generated_dossiers_are_lossless(deffinum, example_document, expense_amounts,
                                                    aid, label, duration, eligible):
    document = document_with_fresh_sirets(example_document)
    sirets = [member["siret"] for member in document["members"]]
    document["duration_months"] = duration
    document["expenses"] = [
        {"member": sirets[i % 2], "category": "staff", "label": f"{label} {i}",
         "amount": str(amount), "eligible": eligible[i]}
        for i, amount in enumerate(expense_amounts)]
    document["financing"][0]["amount"] = str(aid)
    original, exported = _round_trip(document)
    assert exported == original


def test_export_of_submitted_dossier_is_its_frozen_snapshot(deffinum, example_document):
    dossier = import_dossier(json.dumps(example_document).encode()).dossier
    attach_required_documents(dossier)
    submission = submit(dossier, now=dt.datetime(2021, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    exported = export_dossier(dossier_queryset().get(pk=dossier.pk))
    assert exported == fmt.canonical_json(submitted_dossier(submission.snapshot))
    assert fmt.sha256_hex(submission.snapshot.encode()) == submission.sha256
    assert json.loads(exported)["submitted_at"] == "2021-07-01T09:00:00+02:00"
    envelope = json.loads(submission.snapshot)
    assert envelope["format"] == "guichet.submission/1"
    assert [d["kind"] for d in envelope["documents"]] == [
        "commitment_letters", "financial_annex", "lead_statutes"]


def test_import_ignores_receipt_instant_and_says_so(deffinum, example_document):
    example_document["submitted_at"] = "2021-08-31T11:59:59+02:00"
    result = import_dossier(json.dumps(example_document).encode())
    assert result.receipt_ignored is True
    exported = json.loads(export_dossier(dossier_queryset().get(pk=result.dossier.pk)))
    assert exported["submitted_at"] is None


def test_import_unknown_call_refused_and_changes_nothing(deffinum, example_document):
    example_document["call"] = "deffinov-paca"
    with pytest.raises(ImportRefused, match="deffinov-paca") as refused:
        import_dossier(json.dumps(example_document).encode())
    assert refused.value.field == "call"
    assert not Dossier.objects.exists()
    assert not Organisation.objects.exists()


def test_import_duplicate_member_siret_refused_naming_member(deffinum, example_document):
    example_document["members"][1]["siret"] = example_document["members"][0]["siret"]
    example_document["expenses"][1]["member"] = example_document["members"][0]["siret"]
    example_document["financing"][2]["member"] = example_document["members"][0]["siret"]
    with pytest.raises(ImportRefused) as refused:
        import_dossier(json.dumps(example_document).encode())
    assert refused.value.field == "members[1].siret"
    assert not Organisation.objects.exists()


def test_import_existing_organisation_is_reused(deffinum, example_document):
    OrganisationFactory(siret="73282932000074", name="Réseau Formation BTP (registre)")
    import_dossier(json.dumps(example_document).encode())
    assert Organisation.objects.get(siret="73282932000074").name == (
        "Réseau Formation BTP (registre)")
    assert Organisation.objects.count() == 2


def test_export_and_import_commands_round_trip(deffinum, example_document, tmp_path, capsys):
    source = tmp_path / "dossier.json"
    source.write_text(json.dumps(example_document), encoding="utf-8")
    call_command("import_dossier", str(source))
    dossier_id = int(capsys.readouterr().out.strip())
    call_command("export_dossier", str(dossier_id))
    exported = capsys.readouterr().out.strip().encode()
    assert exported == fmt.canonical_json(fmt.parse_dossier(json.dumps(example_document)))


def test_import_command_bad_file_names_field(deffinum, example_document, tmp_path):
    example_document["expenses"][0]["amount"] = "12.345"
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(example_document), encoding="utf-8")
    with pytest.raises(CommandError, match=r"expenses\[0\]\.amount"):
        call_command("import_dossier", str(source))
    assert not Dossier.objects.exists()
