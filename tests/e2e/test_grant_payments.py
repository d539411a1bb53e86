"""A grant in a real browser, from the signature of the agreement to the balance: the lead
signs and reports, the instructor pays each tranche as it falls due and approves the reports;
the final report's lower expenses cut the balance; the money dashboard and the open data
follow. The same journey runs on Deffinum and on the regional example call, whose amounts
follow from its own definition (50 % aid cap, tranches of 40 / 30 / balance)."""

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pypdf
import pytest
from playwright.sync_api import expect

from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import ConsortiumMember, DossierStatus
from guichet.dossiers.services import submit
from guichet.grants.decisions import prepare_decision, publish_decisions
from guichet.grants.models import (
    Grant,
    GrantStatus,
    Outcome,
    Payment,
    RecoveryOrder,
    ReportKind,
    ReportStatus,
    TrancheStatus,
)
from guichet.review.instruction import record_instruction
from guichet.review.models import Role
from guichet.rules.money import format_eur_fr
from tests.e2e.conftest import click_through, log_in, paris_today, visit
from tests.factories import give_roles, lead_and_member, make_dossier, make_user

pytestmark = pytest.mark.e2e

PASSWORD = "Formation-Hybride-2021!"  # make_user's default
BASE = Decimal("800000.00")
# Actual eligible expenses (lead's staff, member's subcontracting): the intermediate statement,
# then the final one, 700 000 € against the 800 000 € budget.
INTERMEDIATE = (Decimal("150000.00"), Decimal("100000.00"))
FINAL = (Decimal("400000.00"), Decimal("300000.00"))


@dataclass(frozen=True)
class Money:
    """One call's figures for the 800 000 € budget: the award at the aid cap, its tranches,
    and the balance that the final report's 700 000 € leave."""

    call: str  # the fixture of the open call
    document: str  # the fixture of an eligible dossier of that call
    award: Decimal
    rate: str  # as the agreement writes it
    tranches: tuple[Decimal, Decimal, Decimal]

    @property
    def balance(self) -> Decimal:
        return min(self.award, self.award * sum(FINAL) / BASE) - sum(self.tranches[:2])


DEFFINUM = Money("deffinum_open", "example_document", Decimal("560000.00"), "70,00 %",
                 (Decimal("280000.00"), Decimal("168000.00"), Decimal("112000.00")))
REGIONAL = Money("regional_open", "regional_document", Decimal("400000.00"), "50,00 %",
                 (Decimal("160000.00"), Decimal("120000.00"), Decimal("120000.00")))
NARRATIVE = {ReportKind.INTERMEDIATE: "Trois parcours hybridés, 1 200 apprenants touchés.",
             ReportKind.FINAL: "Dix parcours hybridés, 4 000 apprenants ; simulateurs partagés."}
INDICATORS = {ReportKind.INTERMEDIATE: {"Apprenants touchés": 1200, "Parcours hybridés": 3},
              ReportKind.FINAL: {"Apprenants touchés": 4000, "Parcours hybridés": 10,
                                 "Ressources mutualisées": 25, "Partenaires impliqués": 6}}
INDICATOR_IDS = {"Apprenants touchés": "learners_reached",
                 "Parcours hybridés": "courses_hybridised",
                 "Ressources mutualisées": "resources_pooled",
                 "Partenaires impliqués": "partners_involved"}


def eur(amount: Decimal) -> str:
    return format_eur_fr(Decimal(amount))


def plain(text: str) -> str:
    """Spaces of any width as plain spaces (PDF text extraction loses the narrow ones)."""
    return re.sub(r"[\u202f\xa0 ]+", " ", text)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF"), content[:40]
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(
        io.BytesIO(content)).pages)


def watch_server_errors(page, errors: list) -> None:
    """Record every answer of the server with a 5xx status (a traceback on the server side)."""
    page.on("response", lambda r: errors.append(f"{r.request.method} {r.url} {r.status}")
            if r.status >= 500 else None)


def money_row(page, label: str):
    """The cells (envelope, committed, paid, remaining) of one line of the money table."""
    table = page.get_by_test_id("money")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label,
                                                                exact=True))
    expect(row).to_have_count(1)
    return row.get_by_role("cell")


def check_dashboard(page, base: str, call_name: str, committed: Decimal, paid: Decimal,
                    name: str) -> None:
    page.goto(f"{base}/instruction/tableau-de-bord/")
    cells = money_row(page, call_name)
    expect(cells).to_have_count(4)
    expect(cells.nth(1)).to_have_text(eur(committed))
    expect(cells.nth(2)).to_have_text(eur(paid))
    # to_have_text folds every kind of space: the exact French typography, checked here.
    assert cells.nth(1).text_content().strip() == eur(committed)
    assert cells.nth(2).text_content().strip() == eur(paid)
    visit(page, name)


def funnel_value(page, label: str) -> str:
    funnel = page.locator("figure").filter(has_text="Entonnoir des dossiers")
    return funnel.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=label, exact=True)).get_by_role(
        "cell").text_content().strip()


def pay_tranche(page, base: str, grant: Grant, number: int, reference: str, name: str) -> None:
    """The instructor records the transfer of a due tranche on the grant page."""
    row = page.locator(f'[data-testid=tranches] tr[data-tranche="{number}"]')
    expect(row).to_have_attribute("data-status", "due")
    row.get_by_label("Date du virement").fill(paris_today().isoformat())
    row.get_by_label("Référence du virement").fill(reference)
    click_through(row.get_by_role("button",
                                  name=f"Enregistrer le versement de la tranche {number}"))
    assert page.url == f"{base}/instruction/subventions/{grant.pk}/"
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    expect(row).to_have_attribute("data-status", "paid")
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text(paris_today().strftime("%d/%m/%Y"))
    # No second payment is offered for a paid tranche: the row shows the transfer instead (and
    # the form that reverses a mistaken one).
    expect(row.locator('form[action$="/versement/"]')).to_have_count(0)
    expect(row.locator('form[action$="/annulation/"]')).to_have_count(1)
    expect(page.get_by_role("button", name=f"Enregistrer le versement de la tranche {number}")
           ).to_have_count(0)
    visit(page, name)
    payment = Payment.objects.get(tranche__grant=grant, tranche__number=number)
    assert (payment.reference, payment.paid_on) == (reference, paris_today())
    assert payment.tranche.status == TrancheStatus.PAID


def hand_in_report(page, base: str, dossier, members, kind: str, amounts, name: str) -> None:
    """The lead fills in and hands in the open report on the grant page."""
    page.goto(f"{base}/dossiers/{dossier.pk}/subvention/")
    form = page.get_by_test_id("report-form")
    heading = "Rapport intermédiaire" if kind == ReportKind.INTERMEDIATE else "Rapport final"
    expect(form.get_by_role("heading", name=heading)).to_be_visible()
    visit(page, f"{name}-form")
    form.get_by_label("Résultats obtenus").fill(NARRATIVE[kind])
    for label, value in INDICATORS[kind].items():
        # The label may carry the target: "(cible …)"; DSFR indents the label text.
        form.get_by_label(re.compile(rf"^\s*{re.escape(label)}")).fill(str(value))
    lead, other = members
    for member, category, amount in ((lead, "Frais de personnel", amounts[0]),
                                     (other, "Prestations externes et sous-traitance",
                                      amounts[1])):
        # The label names the member, the category and its budget: "… (budget 450 000,00 €)".
        form.get_by_label(re.compile(rf"^\s*{re.escape(member.name)} — {category} \(budget ")
                          ).fill(f"{amount:.2f}".replace(".", ","))
    click_through(form.get_by_role("button", name="Remettre le rapport"))
    assert page.url == f"{base}/dossiers/{dossier.pk}/subvention/"
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=re.compile(
        rf"^{heading} — échéance .* — remis$"))).to_have_count(1)
    visit(page, name)
    report = dossier.grant.reports.get(kind=kind)
    assert report.status == ReportStatus.SUBMITTED
    assert report.narrative == NARRATIVE[kind]
    assert report.indicators == {INDICATOR_IDS[label]: value
                                 for label, value in INDICATORS[kind].items()}
    assert sorted(report.expenses.values_list("member", "category", "amount", "eligible")) == \
        sorted([(lead.pk, "staff", amounts[0], True),
                (other.pk, "subcontracting", amounts[1], True)])


def approve_report(page, base: str, grant: Grant, kind: str, amounts, name: str) -> None:
    page.goto(f"{base}/instruction/subventions/{grant.pk}/")
    section = page.locator(f'section[data-report="{kind}"]')
    expect(section).to_have_attribute("data-status", "submitted")
    expect(section).to_contain_text(NARRATIVE[kind])
    for amount in amounts:
        expect(section).to_contain_text(eur(amount))
    visit(page, f"{name}-submitted")
    section.get_by_label("Décision").select_option(label="Approuver")
    click_through(section.get_by_role("button", name="Valider l'examen"))
    assert page.url == f"{base}/instruction/subventions/{grant.pk}/"
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    expect(section).to_have_attribute("data-status", "approved")
    expect(section.locator("form")).to_have_count(0)
    visit(page, name)
    assert grant.reports.get(kind=kind).status == ReportStatus.APPROVED


@pytest.mark.e2e
@pytest.mark.parametrize("figures", [DEFFINUM, REGIONAL], ids=["deffinum", "regional"])
def test_grant_from_signature_to_balance(request, new_page, live_server, figures, tmp_path):
    base = live_server.url
    call = request.getfixturevalue(figures.call)
    document = request.getfixturevalue(figures.document)
    award, (t1, t2, t3), balance = figures.award, figures.tranches, figures.balance

    # Set-up through the services: one complete eligible dossier, submitted in today's open
    # wave, instructed, selected for its full aid and published (the grant is committed).
    staff = {}
    for role in (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR):
        staff[role] = make_user(f"{role.value}@deffinum.example.fr")
        give_roles(staff[role], call, role)
    dossier = make_dossier(document)
    submit(dossier)
    record_instruction(dossier, staff[Role.INSTRUCTOR], admissible=True, eligible=True)
    dossier.refresh_from_db()
    assert dossier.requested_aid == award
    lead_user, _member_user = lead_and_member(dossier)
    prepare_decision(dossier, staff[Role.COMMITTEE], Outcome.SELECTED, awarded_aid=award)
    publish_decisions(dossier.wave, staff[Role.ADMINISTRATOR])
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SELECTED
    grant = Grant.objects.get(dossier=dossier)
    assert (grant.award, grant.eligible_base, grant.status) == (award, BASE, GrantStatus.COMMITTED)
    assert [(t.scheduled_amount, t.status) for t in grant.tranches.order_by("number")] == [
        (t1, TrancheStatus.SCHEDULED), (t2, TrancheStatus.SCHEDULED),
        (t3, TrancheStatus.SCHEDULED)]
    members = (ConsortiumMember.objects.get(consortium=dossier.consortium, is_lead=True),
               ConsortiumMember.objects.get(consortium=dossier.consortium, is_lead=False))
    errors: list[str] = []
    grant_url = f"{base}/instruction/subventions/{grant.pk}/"
    portal_url = f"{base}/dossiers/{dossier.pk}/subvention/"

    # 1. The instructor's dashboard: the call's line shows the commitment, nothing paid yet.
    instructor = new_page()
    watch_server_errors(instructor, errors)
    log_in(instructor, base, staff[Role.INSTRUCTOR].email, PASSWORD)
    visit(instructor, "instructor-home")
    check_dashboard(instructor, base, call.name, award, Decimal("0.00"), "dashboard-committed")
    assert funnel_value(instructor, "Retenus") == "1"
    assert funnel_value(instructor, "Conventions signées") == "0"

    # 2. The lead downloads the agreement, then uploads it signed: tranche 1 falls due.
    lead = new_page()
    watch_server_errors(lead, errors)
    log_in(lead, base, lead_user.email, PASSWORD)
    visit(lead, "lead-home")
    lead.goto(portal_url)
    expect(lead.get_by_role("heading", level=1)).to_have_text("Votre subvention")
    expect(lead.get_by_test_id("sign-form")).to_be_visible()
    expect(lead.get_by_test_id("paid")).to_have_text(eur(Decimal("0.00")))
    visit(lead, "lead-grant-committed")
    with lead.expect_download() as download:
        lead.get_by_role("link", name="Convention à signer (PDF)").click()
    text = plain(pdf_text(download.value.path().read_bytes()))
    assert plain(eur(award))[:-2] in text, text
    assert "800 000,00" in text, text
    assert figures.rate in text, text
    assert dossier.receipt_number in text

    signed = tmp_path / "convention-signee.pdf"
    signed.write_bytes(blank_pdf())
    sign_form = lead.get_by_test_id("sign-form")
    sign_form.get_by_label("Convention signée (PDF, 20 Mo au plus)").set_input_files(signed)
    click_through(sign_form.get_by_role("button", name="Déposer la convention signée"))
    assert lead.url == portal_url
    expect(lead.get_by_text("Enregistré.")).to_be_visible()
    expect(lead.get_by_test_id("sign-form")).to_have_count(0)
    expect(lead.get_by_text("convention signée", exact=True)).to_be_visible()
    tranches = lead.get_by_test_id("tranches").locator("tbody tr")
    expect(tranches.nth(0)).to_have_attribute("data-status", "due")
    expect(tranches.nth(0)).to_contain_text(eur(t1))
    expect(tranches.nth(1)).to_have_attribute("data-status", "scheduled")
    visit(lead, "lead-grant-signed")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.SIGNED
    assert grant.signed_at is not None
    assert grant.tranches.get(number=1).status == TrancheStatus.DUE
    assert grant.tranches.get(number=1).amount == t1

    # 3. The instructor pays tranche 1 once; the dashboard follows.
    instructor.goto(grant_url)
    expect(instructor.get_by_test_id("award")).to_have_text(eur(award))
    expect(instructor.locator('[data-tranche="1"]')).to_have_attribute("data-status", "due")
    expect(instructor.locator('[data-tranche="2"] form')).to_have_count(0)
    visit(instructor, "instructor-grant-signed")
    stale = instructor.context.new_page()  # the same page left open in another tab
    watch_server_errors(stale, errors)
    stale.goto(grant_url)
    visit(stale, "instructor-grant-signed-second-tab")
    pay_tranche(instructor, base, grant, 1, "VIR-DEFFINUM-0001", "instructor-tranche-1-paid")
    expect(instructor.get_by_test_id("paid")).to_have_text(eur(t1))
    # The form still shown in the other tab, sent again with the same transfer: the recorded
    # payment stands, nothing is paid twice.
    stale_row = stale.locator('[data-tranche="1"]')
    stale_row.get_by_label("Date du virement").fill(paris_today().isoformat())
    stale_row.get_by_label("Référence du virement").fill("VIR-DEFFINUM-0001")
    click_through(stale_row.get_by_role("button", name="Enregistrer le versement de la tranche 1"))
    expect(stale_row).to_have_attribute("data-status", "paid")
    expect(stale_row.locator('form[action$="/versement/"]')).to_have_count(0)
    expect(stale.get_by_test_id("paid")).to_have_text(eur(t1))
    visit(stale, "instructor-tranche-1-sent-twice")
    stale.close()
    assert Payment.objects.filter(tranche__grant=grant).count() == 1
    check_dashboard(instructor, base, call.name, award, t1, "dashboard-tranche-1")
    assert funnel_value(instructor, "Conventions signées") == "1"
    assert funnel_value(instructor, "Au moins un versement") == "1"

    # 4. The intermediate report, approved: tranche 2 falls due and is paid.
    hand_in_report(lead, base, dossier, members, ReportKind.INTERMEDIATE, INTERMEDIATE,
                   "lead-intermediate-report")
    approve_report(instructor, base, grant, ReportKind.INTERMEDIATE, INTERMEDIATE,
                   "instructor-intermediate-approved")
    row = instructor.locator('[data-tranche="2"]')
    expect(row).to_have_attribute("data-status", "due")
    expect(row.get_by_role("cell").nth(3)).to_have_text(eur(t2))
    assert grant.tranches.get(number=2).amount == t2
    pay_tranche(instructor, base, grant, 2, "VIR-DEFFINUM-0002", "instructor-tranche-2-paid")
    expect(instructor.get_by_test_id("paid")).to_have_text(eur(t1 + t2))
    check_dashboard(instructor, base, call.name, award, t1 + t2, "dashboard-tranche-2")

    # 5. The final report declares 700 000 € of the 800 000 € budget: the balance is
    #    min(award, rate × 700 000) − the first two tranches, not the scheduled third one:
    #    Deffinum min(560 000, 490 000) − 448 000 = 42 000 €; the regional example
    #    min(400 000, 350 000) − 280 000 = 70 000 €.
    assert (figures.call, balance) in {("deffinum_open", Decimal("42000.00")),
                                       ("regional_open", Decimal("70000.00"))}
    hand_in_report(lead, base, dossier, members, ReportKind.FINAL, FINAL, "lead-final-report")
    expect(lead.get_by_test_id("report-form")).to_have_count(0)  # nothing left to hand in
    approve_report(instructor, base, grant, ReportKind.FINAL, FINAL,
                   "instructor-final-approved")
    row = instructor.locator('[data-tranche="3"]')
    expect(row).to_have_attribute("data-status", "due")
    expect(row.get_by_role("cell").nth(2)).to_have_text(eur(t3))  # scheduled
    expect(row.get_by_role("cell").nth(3)).to_have_text(eur(balance))  # due
    assert row.get_by_role("cell").nth(3).text_content().strip() == eur(balance)
    expect(instructor.get_by_test_id("recovery")).to_have_count(0)
    third = grant.tranches.get(number=3)
    assert (third.scheduled_amount, third.amount, third.status) == (
        t3, balance, TrancheStatus.DUE)
    assert not RecoveryOrder.objects.filter(grant=grant).exists()
    pay_tranche(instructor, base, grant, 3, "VIR-DEFFINUM-0003", "instructor-tranche-3-paid")
    expect(instructor.get_by_test_id("paid")).to_have_text(eur(t1 + t2 + balance))
    expect(instructor.get_by_text("soldée", exact=True)).to_be_visible()
    grant.refresh_from_db()
    assert grant.status == GrantStatus.CLOSED
    assert sorted(Payment.objects.filter(tranche__grant=grant).values_list(
        "tranche__number", "amount")) == [(1, t1), (2, t2), (3, balance)]
    check_dashboard(instructor, base, call.name, award, t1 + t2 + balance, "dashboard-closed")

    lead.goto(portal_url)
    expect(lead.get_by_text("soldée", exact=True)).to_be_visible()
    expect(lead.get_by_test_id("paid")).to_have_text(eur(t1 + t2 + balance))
    expect(lead.get_by_test_id("tranches").locator("tbody tr[data-status=paid]")).to_have_count(3)
    expect(lead.get_by_test_id("tranches").locator("tbody tr").nth(2)).to_contain_text(
        eur(balance))
    visit(lead, "lead-grant-closed")

    # 6. The open data (SCDL): one row per member of the consortium, each with the whole award
    # (the SCDL's montant) and the member's share of it.
    instructor.goto(f"{base}/instruction/appels/{call.code}/subventions/")
    expect(instructor.get_by_test_id("grants").locator("tbody tr")).to_have_count(1)
    expect(instructor.get_by_test_id("grants")).to_contain_text(dossier.receipt_number)
    visit(instructor, "instructor-grants")
    with instructor.expect_download() as download:
        instructor.get_by_role("link", name="Données ouvertes SCDL (CSV)").click()
    assert download.value.url == f"{base}/instruction/appels/{call.code}/subventions/?export=scdl"
    rows = list(csv.DictReader(io.StringIO(
        download.value.path().read_bytes().decode("utf-8"))))
    assert len(rows) == 2, rows
    assert {row["idBeneficiaire"] for row in rows} == {m.organisation.siret for m in members}
    assert all(Decimal(row["montant"]) == award for row in rows)
    assert sum(Decimal(row["pourcentageSubvention"]) for row in rows) == 1
    assert all(row["referenceDecision"] == dossier.receipt_number for row in rows)

    assert not errors, errors
