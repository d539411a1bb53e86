"""What the applicant is told is missing: required attachments (issue 8, item 16) and blank
text (item 24) count, in the live verdict panel as on the submission step."""

import datetime as dt

import pytest

from guichet.calls.services import load_call
from guichet.core.clock import now
from guichet.dossiers.models import Document, Dossier
from guichet.portal.selectors import workspace
from tests.conftest import DEFFINUM_TOML
from tests.factories import lead_and_member, make_dossier
from tests.html import one

pytestmark = pytest.mark.django_db
BLANKS = [" ", "   ", "\t\n", "\u00a0", "\u2003\u3000", "\u202f \u2029"]


@pytest.fixture
def open_call(db):
    return load_call(DEFFINUM_TOML, demo_today=dt.date.today()).call


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document)


@pytest.fixture
def lead_client(client, dossier):
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    return client


def panel(client, dossier) -> str:
    return client.get(f"/dossiers/{dossier.pk}/verdict/").content.decode()


def rule_ok(html: str, rule: str) -> str:
    return one(html, f'[data-rule="{rule}"][data-ok]').get("data-ok")


def test_complete_dossier_with_every_attachment_shows_eligible(lead_client, dossier):
    html = panel(lead_client, dossier)
    assert 'data-verdict="eligible"' in html
    assert rule_ok(html, "complete") == "true"


def test_missing_required_attachment_shows_not_eligible_and_incomplete(lead_client, dossier):
    Document.objects.filter(dossier=dossier, kind="financial_annex").delete()

    html = panel(lead_client, dossier)

    assert 'data-verdict="not-eligible"' in html
    assert 'data-verdict="eligible"' not in html
    assert rule_ok(html, "complete") == "false"
    assert "Reste à fournir :</strong> Annexe financière signée par le chef de file" in html


def test_workspace_verdict_complete_lists_missing_attachments(dossier):
    Document.objects.filter(dossier=dossier).exclude(kind="lead_statutes").delete()
    lead, _member = lead_and_member(dossier)
    space = workspace(dossier, lead, now())
    assert space.verdict.eligible is False
    assert space.verdict.result("complete").value == (
        "documents.commitment_letters, documents.financial_annex")
    assert space.missing == ["documents.commitment_letters", "documents.financial_annex"]


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("field", ["title", "summary"])
def test_blank_title_or_summary_counts_as_missing_in_portal(lead_client, dossier, field, blank):
    Dossier.objects.filter(pk=dossier.pk).update(**{field: blank})

    html = panel(lead_client, dossier)

    assert 'data-verdict="not-eligible"' in html
    assert rule_ok(html, "complete") == "false"
    depot = lead_client.get(f"/dossiers/{dossier.pk}/etape/depot/").content.decode()
    assert "Dossier incomplet" in depot
