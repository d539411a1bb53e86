"""The applicant portal through Django's test client: access, editing, bad input."""

import datetime as dt
import hashlib
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from odf.opendocument import load as load_ods
from odf.table import TableCell
from odf.text import P

from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import Document, Dossier, ExpenseLine, Submission
from guichet.dossiers.services import SubmissionRefused, submit
from guichet.rules.money import format_eur_fr
from tests.factories import (
    attach_required_documents,
    fresh_siret,
    lead_and_member,
    make_dossier,
    make_user,
)

pytestmark = pytest.mark.django_db

STEPS = ["projet", "consortium", "calendrier", "budget", "financement", "hybridation",
         "documents", "depot"]


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document)


@pytest.fixture
def people(dossier):
    return lead_and_member(dossier)


def _urls(dossier) -> list[str]:
    base = f"/dossiers/{dossier.pk}"
    return [*(f"{base}/etape/{step}/" for step in STEPS), f"{base}/verdict/",
            f"{base}/annexe.xlsx", f"{base}/budget.xlsx", f"{base}/budget.ods"]


def _eur(amount: int) -> str:
    return format_eur_fr(Decimal(amount))


# What each step must show of the example dossier (tests/data/contract-example.json).
STEP_CONTENT = {
    "projet": ["Campus hybride des métiers du bâtiment",
               "Hybridation des parcours CAP/BP avec simulateurs immersifs"],
    "consortium": ["Réseau Formation BTP", "EdTech Immersia", "Chef de file"],
    "calendrier": ["Premiers résultats : 3 parcours hybridés", "Bilan final"],
    "budget": ["Ingénierie pédagogique", _eur(450_000), "Simulateurs", _eur(350_000),
               f"assiette éligible {_eur(800_000)}"],
    "financement": [_eur(560_000), _eur(170_000), _eur(70_000)],
    "hybridation": ["Profil d'hybridation des formations"],
    "documents": ["commitment_letters.pdf", "financial_annex.pdf", "lead_statutes.pdf"],
    "depot": ["Le dossier est complet et éligible."],
}
# What only the lead gets (editing and submitting), and what a member is told instead.
LEAD_ONLY = {"projet": 'data-testid="project-form"', "depot": 'data-testid="submit-form"'}
MEMBER_ONLY = {"depot": "Seul le chef de file dépose le dossier."}


def _spreadsheet_texts(url: str, content: bytes) -> set[str]:
    """Every cell of an exported workbook (XLSX or ODS), as text."""
    if url.endswith(".ods"):
        document = load_ods(io.BytesIO(content))
        return {"".join(str(p) for p in cell.getElementsByType(P))
                for cell in document.spreadsheet.getElementsByType(TableCell)}
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True)
            for value in row if value is not None}


def test_portal_pages_show_the_dossier_to_lead_and_member(client, dossier, people):
    base = f"/dossiers/{dossier.pk}"
    for user, role in zip(people, ["vous êtes chef de file", "vous êtes membre du consortium"],
                          strict=True):
        client.force_login(user)
        for number, step in enumerate(STEPS, start=1):
            response = client.get(f"{base}/etape/{step}/")
            assert response.status_code == 200, step
            page = response.content.decode().replace("&#x27;", "'")
            expected = [*STEP_CONTENT[step], role, f"Étape {number} sur 8",
                        'data-verdict="eligible"']
            assert [text for text in expected if text not in page] == [], step
            lead_only, member_only = LEAD_ONLY.get(step), MEMBER_ONLY.get(step)
            is_lead = user == people[0]
            if lead_only:
                assert (lead_only in page) is is_lead, step
            if member_only:
                assert (member_only in page) is not is_lead, step
        verdict = client.get(f"{base}/verdict/").content.decode().replace("&#x27;", "'")
        assert 'data-verdict="eligible"' in verdict
        assert f"L'assiette de dépenses éligibles ({_eur(800_000)}) atteint le minimum" in verdict
        for name in ("annexe.xlsx", "budget.xlsx", "budget.ods"):
            response = client.get(f"{base}/{name}")
            assert response.status_code == 200, name
            assert f"-{dossier.pk}." in response["Content-Disposition"], name
            texts = _spreadsheet_texts(name, response.content)
            expected = {"Ingénierie pédagogique", "Simulateurs", "Réseau Formation BTP"}
            assert expected <= texts, (name, expected - texts)


def test_portal_other_consortium_gets_404_everywhere(client, dossier, example_document):
    other = make_dossier(example_document)
    outsider, _member = lead_and_member(other)
    client.force_login(outsider)
    document = dossier.documents.first()
    for url in [*_urls(dossier), f"/dossiers/{dossier.pk}/accuse/",
                f"/dossiers/{dossier.pk}/accuse.pdf",
                f"/dossiers/{dossier.pk}/pieces/{document.pk}/"]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"title": "pris"}).status_code in (404, 405), url
    assert Dossier.objects.get(pk=dossier.pk).title == example_document["title"]


def test_portal_anonymous_is_sent_to_login(client, dossier):
    response = client.get(f"/dossiers/{dossier.pk}/etape/projet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/login/")


def test_portal_member_cannot_edit_project_or_submit(client, dossier, people):
    _lead, member = people
    client.force_login(member)
    client.post(f"/dossiers/{dossier.pk}/etape/projet/",
                {"version": dossier.version, "title": "Détourné", "duration_months": 12})
    response = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert "Seul le chef de file dépose le dossier." in response.content.decode()
    dossier.refresh_from_db()
    assert (dossier.title, dossier.status) == ("Campus hybride des métiers du bâtiment", "draft")


def test_portal_member_adds_own_expense_but_not_for_another(client, dossier, people):
    _lead, member = people
    client.force_login(member)
    own = dossier.consortium.members.get(is_lead=False)
    lead_member = dossier.consortium.members.get(is_lead=True)
    url = f"/dossiers/{dossier.pk}/etape/budget/"
    line = {"category": "staff", "label": "Tutorat", "amount": "1 234,50", "eligible": "on"}
    assert client.post(url, {**line, "member": own.pk}).status_code == 302
    response = client.post(url, {**line, "member": lead_member.pk})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    added = ExpenseLine.objects.filter(dossier=dossier, label="Tutorat")
    assert [(line.member_id, line.amount) for line in added] == [(own.pk, Decimal("1234.50"))]


def test_portal_concurrent_project_edits_refuse_the_later_save(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    url = f"/dossiers/{dossier.pk}/etape/projet/"
    opened_at = dossier.version
    first = {"version": opened_at, "title": "Version de Alice", "scope": "national",
             "duration_months": 36}
    assert client.post(url, first).status_code == 302
    second = {**first, "title": "Version de Bob"}
    response = client.post(url, second)
    page = response.content.decode()
    assert "Quelqu&#x27;un a modifié ces informations" in page
    assert 'value="Version de Alice"' in page
    assert f'name="version" value="{opened_at + 1}"' in page
    assert Dossier.objects.get(pk=dossier.pk).title == "Version de Alice"


def test_portal_script_in_text_field_is_shown_inert(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    script = "<script>alert('x')</script>"
    client.post(f"/dossiers/{dossier.pk}/etape/projet/",
                {"version": dossier.version, "title": script, "scope": "national"})
    page = client.get(f"/dossiers/{dossier.pk}/etape/consortium/").content.decode()
    assert script not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("lettres.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "n&#x27;est pas un PDF"),
    ("lettres.pdf", blank_pdf()[:150], "illisible ou endommagé"),
    ("lettres.pdf", b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024), "dépasse 20"),
])
def test_portal_bad_upload_refused_and_nothing_stored(client, dossier, people, name, content,
                                                      reason):
    lead, _member = people
    client.force_login(lead)
    before = Document.objects.count()
    response = client.post(f"/dossiers/{dossier.pk}/etape/documents/", {
        "kind": "presentation", "file": SimpleUploadedFile(name, content)})
    assert reason in response.content.decode()
    assert Document.objects.count() == before


def test_portal_pdf_upload_is_stored_with_its_hash(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    content = blank_pdf(2)
    client.post(f"/dossiers/{dossier.pk}/etape/documents/", {
        "kind": "presentation", "file": SimpleUploadedFile("pres.pdf", content)})
    document = Document.objects.get(dossier=dossier, kind="presentation")
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.file.read() == content


def _annex_with_formula(client, dossier) -> bytes:
    template = client.get(f"/dossiers/{dossier.pk}/annexe.xlsx").content
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    workbook["Dépenses"]["E2"] = "=1+1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_portal_annex_with_formula_refused_and_nothing_changes(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    lines_before = list(ExpenseLine.objects.filter(dossier=dossier).values_list("pk", "amount"))
    response = client.post(f"/dossiers/{dossier.pk}/annexe/", {
        "file": SimpleUploadedFile("annexe.xlsx",
                                                      _annex_with_formula(client, dossier))})
    page = response.content.decode()
    assert "Feuille « Dépenses », ligne 2, colonne E" in page
    assert "formule" in page
    assert list(ExpenseLine.objects.filter(dossier=dossier).values_list(
        "pk", "amount")) == lines_before


def test_portal_annex_round_trip_keeps_the_budget(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    before = sorted(ExpenseLine.objects.filter(dossier=dossier).values_list("label", "amount"))
    template = client.get(f"/dossiers/{dossier.pk}/annexe.xlsx").content
    response = client.post(f"/dossiers/{dossier.pk}/annexe/", {
        "file": SimpleUploadedFile("annexe.xlsx", template)})
    assert response.status_code == 302
    assert sorted(ExpenseLine.objects.filter(dossier=dossier).values_list(
        "label", "amount")) == before


def test_portal_submit_issues_receipt_and_mails_every_member(
        client, dossier, people, mailoutbox, django_capture_on_commit_callbacks):
    lead, member = people
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dossiers/{dossier.pk}/etape/depot/", {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"/dossiers/{dossier.pk}/accuse/"
    submission = Submission.objects.get(dossier=dossier)
    receipt_page = client.get(response["Location"]).content.decode()
    assert submission.sha256 in receipt_page
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted([lead.email, member.email])
    assert submission.sha256 in mailoutbox[0].body
    assert mailoutbox[0].attachments[0][2] == "application/pdf"
    edit = client.post(f"/dossiers/{dossier.pk}/etape/projet/",
                       {"version": 1, "title": "Après dépôt"})
    assert edit.status_code == 200
    assert Dossier.objects.get(pk=dossier.pk).title != "Après dépôt"


def test_portal_dossier_page_shows_time_left_in_wave(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    page = client.get(f"/dossiers/{dossier.pk}/etape/projet/").content.decode()
    assert "il reste" in page
    assert "avant la clôture" in page


def test_remind_drafts_once_per_wave(dossier, people, mailoutbox, open_call,
                                     django_capture_on_commit_callbacks):
    wave = open_call.waves.get(code="w2")
    closes = wave.closes_at
    with django_capture_on_commit_callbacks(execute=True):  # the mails leave after commit
        call_command("remind_drafts", days=(closes - dt.datetime.now(dt.UTC)).days + 1)
        call_command("remind_drafts", days=(closes - dt.datetime.now(dt.UTC)).days + 1)
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted(user.email for user in people)
    assert "Rappel" in mailoutbox[0].subject


def test_remind_drafts_not_before_the_window(dossier, people, mailoutbox):
    call_command("remind_drafts", days=1)
    assert mailoutbox == []


def test_portal_dossier_page_queries_bounded_with_big_consortium(
        client, open_call, example_document, django_assert_max_num_queries):
    document = dict(example_document)
    sirets = [fresh_siret() for _ in range(10)]
    document["members"] = [{"siret": s, "name": f"Membre {i}", "kind": "edtech",
                            "lead": i == 0} for i, s in enumerate(sirets)]
    document["expenses"] = [{"member": sirets[i % 10], "category": "staff", "label": f"L{i}",
                             "amount": "1000.00", "eligible": True} for i in range(300)]
    document["financing"] = [{"source": "aid", "amount": "210000.00"},
                             {"source": "own_cash", "member": sirets[0], "amount": "90000.00"}]
    big = make_dossier(document)
    lead, _member = lead_and_member(big)
    client.force_login(lead)
    for step in ("projet", "budget", "depot"):
        with django_assert_max_num_queries(25):
            response = client.get(f"/dossiers/{big.pk}/etape/{step}/")
        assert response.status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(f"/dossiers/{big.pk}/verdict/").status_code == 200


def test_deposit_step_of_a_draft_reads_no_correction_nor_decision(client, open_call,
                                                                   example_document):
    """A dossier never submitted has neither: the step a deadline's surge loads before each
    submission does not ask for them; once submitted, it does."""
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    tables = ("dossiers_correctionrequest", "grants_decision")
    with CaptureQueriesContext(connection) as draft_queries:
        assert client.get(f"/dossiers/{dossier.pk}/etape/depot/").status_code == 200
    submit(dossier, by=lead)
    with CaptureQueriesContext(connection) as submitted_queries:
        assert client.get(f"/dossiers/{dossier.pk}/etape/depot/").status_code == 200
    assert not [q for q in draft_queries.captured_queries if any(t in q["sql"] for t in tables)]
    for table in tables:
        assert any(table in q["sql"] for q in submitted_queries.captured_queries), table


def test_submit_accepts_dossier_once_its_required_documents_are_attached(
        open_call, example_document):
    """Submission's completeness check reads the documents the call requires: none refused,
    all of them accepted."""
    dossier = make_dossier(example_document, with_documents=False)
    with pytest.raises(SubmissionRefused) as refused:
        submit(dossier)
    assert refused.value.details == ["documents.commitment_letters", "documents.financial_annex",
                                     "documents.lead_statutes"]
    attach_required_documents(dossier)
    submission = submit(Dossier.objects.get(pk=dossier.pk))
    assert submission.dossier_id == dossier.pk
    assert Dossier.objects.get(pk=dossier.pk).receipt_number


def test_start_dossier_and_invite_through_dashboard(client, open_call, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    user = make_user("cheffe@example.fr")
    client.force_login(user)
    siret = fresh_siret()
    client.post("/espace/organismes/", {"siret": siret[:7] + " " + siret[7:],
                             "name": "Réseau Sud"})
    organisation = user.affiliations.get().organisation
    assert organisation.siret == siret
    response = client.post("/espace/dossiers/", {"organisation": organisation.pk,
                                        "kind": "training_network", "title": "Projet Sud"})
    dossier = Dossier.objects.get(title="Projet Sud")
    assert response["Location"] == f"/dossiers/{dossier.pk}/etape/projet/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/dossiers/{dossier.pk}/etape/consortium/", {"email": "Membre@Example.fr"})
    assert mailoutbox[0].to == ["membre@example.fr"]
    assert "/invitations/" in mailoutbox[0].body


def test_dashboard_invalid_siret_refused_with_reason(client, open_call):
    user = make_user("x@example.fr")
    client.force_login(user)
    page = client.post("/espace/organismes/", {"siret": "12345678901234",
                                    "name": "Faux"}).content.decode()
    assert "n&#x27;est pas valide" in page
    assert not user.affiliations.exists()


def test_portal_delete_line_with_stale_version_refused(client, dossier, people):
    lead, _member = people
    client.force_login(lead)
    line = ExpenseLine.objects.filter(dossier=dossier).first()
    url = f"/dossiers/{dossier.pk}/depenses/suppression/"
    ExpenseLine.objects.filter(pk=line.pk).update(version=line.version + 1)  # someone edited it
    page = client.post(url, {"line": f"{line.pk}:{line.version}"},
                       follow=True).content.decode()
    assert "Quelqu&#x27;un a modifié ces informations" in page
    assert ExpenseLine.objects.filter(pk=line.pk).exists()
    client.post(url, {"line": f"{line.pk}:{line.version + 1}"})
    assert not ExpenseLine.objects.filter(pk=line.pk).exists()
