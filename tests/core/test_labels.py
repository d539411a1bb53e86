"""No internal code ever reaches a person (issue 8, item 17).

Every page of the portal and the back office is rendered with the test client for a call with
rich data (dossiers submitted, instructed, reviewed, simulated, decided, granted, paid,
reported on, amended, and drafts with gaps), and the text a person reads is checked against
every known code (`tests.codes`). The people-facing exports are checked the same way.
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guichet.calls.services import load_call
from guichet.core import labels
from guichet.core.clock import now
from guichet.demo.dossiers import blank_pdf, seed_demo
from guichet.dossiers.models import Dossier, Organisation
from guichet.dossiers.services import submit
from guichet.grants import decisions
from guichet.grants.agreement import sign_agreement
from guichet.grants.amendments import move_budget
from guichet.grants.models import Grant, Outcome, Report, ReportKind
from guichet.grants.payments import record_payment
from guichet.grants.reports import review_report, submit_report
from guichet.review import committee, experts, instruction, scoring
from guichet.review.models import Assignment, Role
from guichet.rules import dossier as fmt
from guichet.rules import vocabulary
from guichet.rules.definition import shipped_definition
from guichet.rules.eligibility import missing_fields
from guichet.web.steps import steps_of
from tests.codes import codes_in, known_codes
from tests.conftest import DEFFINUM_TOML
from tests.factories import give_roles, make_applicant, make_dossier, make_expert, make_user

DEFFINUM_STEPS = [step for step, _label in steps_of(shipped_definition("deffinum"))]

# --- the vocabularies ------------------------------------------------------------------------

@pytest.mark.parametrize(("codes", "names"), [
    (fmt.SCOPES, vocabulary.SCOPES), (fmt.MEMBER_KINDS, vocabulary.MEMBER_KINDS),
    (fmt.MILESTONE_KINDS, vocabulary.MILESTONE_KINDS),
    (fmt.FINANCING_SOURCES, vocabulary.FINANCING_SOURCES),
])
def test_vocabulary_names_every_code_of_the_format_in_both_languages(codes, names):
    assert tuple(names) == codes
    for french, english in names.values():
        assert french.strip()
        assert english.strip()


def test_vocabulary_names_every_section_a_dossier_may_lack():
    empty = fmt.dossier_from_builtins({"format": fmt.FORMAT_ID, "call": "deffinum"})
    assert set(missing_fields(empty)) == set(vocabulary.DOSSIER_FIELDS)


def test_codes_in_finds_whole_tokens_only():
    codes = {"w2", "financing.aid", "btp", "submitted"}
    text = ("Vague w2. Reste : financing.aid, BTP, DEFFINUM-W2-000012, btp-like, "
            "submitted@example.fr, d12 et e3 ; 2021 ; 11")
    assert codes_in(text, codes) == ["w2", "financing.aid", "d12", "e3"]


@pytest.mark.django_db
def test_known_codes_gather_every_vocabulary(deffinum):
    codes = known_codes()
    assert {"coverage", "score_weighted_aid", "submitted", "w2", "own_cash", "first_results",
            "financing.aid", "documents.financial_annex", "btp", "agreement_signed",
            "learners_reached", "interregional", "deffinum", "committee"} <= codes
    assert not {"national", "expert", "11"} & codes


# --- a call with everything to show ---------------------------------------------------------

def _lead(dossier: Dossier):
    return dossier.consortium.members.get(is_lead=True).organisation.affiliations.first().user


@pytest.fixture
def rich_call(db, settings, tmp_path):
    """Wave 1 reviewed, simulated, decided and published: one grant signed, paid, reported on
    and amended, one dossier rejected. Wave 2 (open today): one dossier reviewed and simulated
    with the committee's own decisions, one awaiting instruction, one draft with gaps."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call = load_call(DEFFINUM_TOML, demo_today=dt.date.today()).call
    seed_demo()
    staff = make_user("equipe@example.fr")
    give_roles(staff, call, Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)
    pool = [make_expert(call, f"relecteur{n}@example.fr", sectors=sectors,
                        keywords="hybridation", max_load=6)
            for n, sectors in enumerate((["btp", "sante"], ["industrie"], ["btp", "transverse"]))]
    w1, w2 = call.waves.order_by("position")[:2]
    first, second, third, fourth = Dossier.objects.filter(call=call).order_by("pk")
    Organisation.objects.filter(memberships__consortium=third.consortium, region="").update(
        region="93")
    for dossier in (first, second):
        instruction.record_instruction(dossier, staff, admissible=True, eligible=True)
        dossier.refresh_from_db()
    instruction.post_message(first, staff, "Merci pour ce dossier complet.")
    instruction.post_message(first, staff, "Note interne.", private=True)
    _review(w1, staff, pool, {first.pk: 4, second.pk: 3})
    committee.simulate(w1, staff, caps=[{"group": "region", "value": "11",
                                         "max_aid": "90000000.00"}],
                       floors=[{"group": "sector", "value": "btp", "min_count": 1}])
    decisions.prepare_decision(first, staff, Outcome.SELECTED, awarded_aid=first.requested_aid)
    decisions.prepare_decision(second, staff, Outcome.REJECTED,
                               motivation="Budget de la vague épuisé.")
    decisions.publish_decisions(w1, staff)
    _grant_round(Grant.objects.get(dossier=first), staff)
    # Wave 2: the third demo dossier submitted today, reviewed and simulated; the fourth only
    # submitted; a new draft with gaps.
    submit(third, by=_lead(third))
    submit(fourth, by=_lead(fourth))
    third.refresh_from_db()
    instruction.record_instruction(third, staff, admissible=True, eligible=True)
    instruction.request_correction(fourth, staff, "Préciser la portée.",
                                   now() + dt.timedelta(days=5))
    _review(w2, staff, pool, {third.pk: 4})
    committee.simulate(w2, staff, pinned_out=[third.pk], objective="score_sum")
    draft = make_dossier({"format": fmt.FORMAT_ID, "call": "deffinum", "title": "Brouillon",
                          "members": [{"siret": "73282932000074", "name": "Membre seul",
                                       "kind": "edtech", "lead": True}],
                          "milestones": [{"month": 6, "kind": "intermediate",
                                          "label": "Point d'étape"}]},
                         with_documents=False)
    draft_lead = make_applicant("brouillon@example.fr", draft.consortium.members.get())
    return {"call": call, "staff": staff, "pool": pool, "w1": w1, "w2": w2, "draft": draft,
            "draft_lead": draft_lead, "dossiers": [first, second, third, fourth]}


def _review(wave, staff, pool, values: dict[int, int]) -> None:
    experts.assign_experts(wave, staff)
    criteria = [c.id for c in wave.call.rules().selection.criteria]
    for assignment in Assignment.objects.filter(dossier__wave=wave, submitted_at__isnull=True):
        value = values[assignment.dossier_id]
        scoring.save_scores(assignment, assignment.expert.user,
                            {c: (value, "Bien argumenté.") for c in criteria}, submit=True)


def _grant_round(grant: Grant, staff) -> None:
    lead = _lead(grant.dossier)
    sign_agreement(grant, lead, SimpleUploadedFile("convention.pdf", blank_pdf()))
    record_payment(grant.tranches.get(number=1), staff, paid_on=dt.date.today(),
                            reference="VIR-0001")
    report = Report.objects.get(grant=grant, kind=ReportKind.INTERMEDIATE)
    lines = grant.dossier.expenses.filter(eligible=True)
    submit_report(report, lead, narrative="Premiers apprenants formés.",
                           indicators={"learners_reached": 120},
                           expenses=[(line.member_id, line.category, line.amount / 2)
                                     for line in lines])
    review_report(report, staff, approve=True)
    move_budget(grant, staff, from_line=0, to_line=1, amount=Decimal("1000.00"),
                         reason="Moins de personnel, plus de ressources.")


# --- what a person reads ----------------------------------------------------------------------

class _VisibleText(HTMLParser):
    """The text of a page as a person reads it: no script, style, attribute or hidden input."""

    SKIPPED = {"script", "style", "template"}

    def __init__(self):
        super().__init__()
        self.parts, self._skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self._skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def _pages(client, url: str, codes: set[str]) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return {url: found} if (found := codes_in(visible_text(response.content.decode()),
                                               codes)) else {}


def _export_text(response) -> str:
    content = (b"".join(response.streaming_content) if response.streaming
               else response.content)
    if content.startswith(b"PK"):  # XLSX (ODS is checked through the same rows as XLSX)
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        return " ".join(str(cell.value) for sheet in workbook for row in sheet.iter_rows()
                        for cell in row if cell.value is not None)
    return " ".join(" ".join(row) for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_pages_show_no_internal_code(client, rich_call):
    codes = known_codes()
    call, found = rich_call["call"], {}
    first, _second, _third, fourth = rich_call["dossiers"]
    grant = Grant.objects.get(dossier=first)

    client.force_login(_lead(first))
    steps = [f"/dossiers/{first.pk}/etape/{step}/" for step in DEFFINUM_STEPS]
    for url in ["/", "/espace/", *steps,
                f"/dossiers/{first.pk}/accuse/", f"/dossiers/{first.pk}/messages/",
                f"/dossiers/{first.pk}/subvention/"]:
        found |= _pages(client, url, codes)
    client.force_login(rich_call["draft_lead"])
    draft = rich_call["draft"]
    for step in DEFFINUM_STEPS:
        found |= _pages(client, f"/dossiers/{draft.pk}/etape/{step}/", codes)
    client.force_login(_lead(fourth))
    found |= _pages(client, f"/dossiers/{fourth.pk}/etape/depot/", codes)

    client.force_login(rich_call["staff"])
    base = f"/instruction/appels/{call.code}"
    for url in ["/instruction/", f"{base}/dossiers/", f"{base}/dossiers/?vague=w1&portee=national",
                f"{base}/experts/?vague=w2", f"{base}/comite/w1/", f"{base}/comite/w2/",
                f"{base}/subventions/", f"/instruction/subventions/{grant.pk}/",
                "/instruction/tableau-de-bord/", f"{base}/cloture/",
                *(f"/instruction/dossiers/{d.pk}/" for d in rich_call["dossiers"])]:
        found |= _pages(client, url, codes)
    reviewer = rich_call["pool"][0]
    client.force_login(reviewer.user)
    found |= _pages(client, "/instruction/", codes)
    for assignment in Assignment.objects.filter(expert=reviewer):
        found |= _pages(client, reverse("backoffice:review", args=[assignment.pk]), codes)
    assert found == {}


def test_exports_show_no_internal_code(client, rich_call):
    codes = known_codes()
    client.force_login(rich_call["staff"])
    base = f"/instruction/appels/{rich_call['call'].code}"
    found = {}
    for url in [f"{base}/dossiers/?export=csv", f"{base}/dossiers/?export=xlsx",
                f"{base}/subventions/?export=csv", f"{base}/subventions/?export=xlsx",
                f"{base}/subventions/?export=csv&table=payments",
                f"{base}/subventions/?export=xlsx&table=payments",
                *(f"/instruction/tableau-de-bord/?csv={table}"
                  for table in ("money", "funnel", "regions", "sectors", "late"))]:
        response = client.get(url)
        assert response.status_code == 200, url
        if shown := codes_in(_export_text(response), codes):
            found[url] = shown
    assert found == {}


def test_missing_items_are_named_in_french_on_the_verdict_panel(client, rich_call):
    client.force_login(rich_call["draft_lead"])
    page = client.get(f"/dossiers/{rich_call['draft'].pk}/etape/depot/").content.decode()
    assert re.search(r"Le dossier est incomplet ; à renseigner : résumé, portée, engagement de "
                     r"mutualisation, date de début, durée, dépenses, aide demandée au plan de "
                     r"financement, Lettres d&#x27;engagement signées de chaque membre du "
                     r"consortium, Annexe financière signée par le chef de file, Statuts et "
                     r"extrait Kbis \(ou équivalent\) du chef de file\.", page)
    assert "Reste à fournir :</strong> résumé, portée" in page
    assert labels.missing_items(["documents.lead_statutes"], rich_call["call"].rules()) == (
        "Statuts et extrait Kbis (ou équivalent) du chef de file")


def test_label_in_sentence_not_capitalised_acronyms_kept():
    assert labels.in_sentence("member_kind", "school") == "école"
    assert labels.label("member_kind", "school") == "École"
    assert labels.in_sentence("member_kind", "opco") == "OPCO"
    assert labels.in_sentence("scope", "regional") == "régionale"
    assert labels.in_sentence("scope", None) == ""
