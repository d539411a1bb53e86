"""A stranger who knows SIRETs tries to take consortia's dossiers over.

SIRETs are public (the SCDL open-data file publishes every beneficiary's). The stranger signs
up, declares every member organisation of every existing dossier (lead and partners, imported
dossiers too), then tries every dossier address of the portal, GET and POST, and every service
that writes. Each must be a 404 or a refusal, the database must not change, and no mail about
those dossiers may reach the stranger afterwards.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.accounts.models import User
from guichet.calls.services import close_call
from guichet.core.errors import ServiceError
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers import budget, editing, membership
from guichet.dossiers.documents import remove_document, upload_document
from guichet.dossiers.models import Dossier, Organisation
from guichet.dossiers.reminders import remind_drafts
from guichet.dossiers.services import submit
from guichet.grants.agreement import sign_agreement
from guichet.grants.models import Decision, Grant
from guichet.grants.reports import submit_report
from guichet.mails.catalogue import send_notification
from guichet.notifications.kinds import Kind
from guichet.review.instruction import post_message
from guichet.review.models import Role
from tests.factories import (
    database_state,
    decided_dossier,
    fresh_siret,
    make_applicant,
    make_dossier,
    make_user,
    portal_action_addresses,
    portal_addresses,
)
from tests.factories import staff as make_staff

pytestmark = pytest.mark.django_db

STRANGER = "curieux@example.fr"
DRAFT_LEAD, WINNER = "cheffe.brouillon@example.fr", "cheffe.laureate@example.fr"


@pytest.fixture
def victims(open_call, example_document):
    """Four consortia: one started and joined through the portal (every organisation has its
    representative), one imported that nobody leads yet, one imported whose lead has an
    account, and one decided in the first wave, with its grant."""
    dossiers = {"started": _started_through_portal(open_call),
                "orphan": make_dossier(example_document),
                "draft": make_dossier(example_document),
                "decided": decided_dossier(open_call, example_document)}
    make_applicant(DRAFT_LEAD, _lead(dossiers["draft"]))
    make_applicant(WINNER, _lead(dossiers["decided"]))
    staff = {role: make_staff(open_call, f"{role}@example.fr", role) for role in Role}
    return {"call": open_call, "staff": staff,
            "dossiers": [Dossier.objects.get(pk=d.pk) for d in dossiers.values()],
            **{name: Dossier.objects.get(pk=d.pk) for name, d in dossiers.items()}}


def _started_through_portal(call) -> Dossier:
    """A dossier created by its lead, joined by an invited partner, with a line of each kind
    and a document."""
    lead = make_user("cheffe.portail@example.fr")
    organisation = membership.register_organisation(lead, fresh_siret(), "Réseau Portail")
    dossier = membership.start_dossier(lead, call, organisation, "training_network",
                                       "Projet du portail")
    invitation = membership.invite_member(dossier, "partenaire@example.fr", lead)
    partner = make_user("partenaire@example.fr")
    partner_organisation = membership.register_organisation(partner, fresh_siret(),
                                                            "EdTech Partenaire")
    membership.accept_invitation(invitation.token, partner, partner_organisation, "edtech")
    member = _lead(dossier)
    editing.add_expense(dossier, lead, editing.ExpenseInput(
        member=member, category="staff", label="Ingénierie", amount=1000, eligible=True))
    editing.add_financing(dossier, lead, editing.FinancingInput(
        source="own_cash", member=member, amount=300))
    editing.add_milestone(dossier, lead, 12, "first_results", "Premiers résultats")
    upload_document(dossier, lead, "lead_statutes", _pdf())
    return dossier


def _lead(dossier):
    return dossier.consortium.members.get(is_lead=True)


def _pdf():
    return SimpleUploadedFile("piece.pdf", blank_pdf(), content_type="application/pdf")


def _declare_every_member(client, dossiers) -> None:
    """What the attacker does first: declare each member's SIRET from the dashboard."""
    for dossier in dossiers:
        for member in dossier.consortium.members.select_related("organisation"):
            client.post("/espace/organismes/", {
                "siret": member.organisation.siret, "name": member.name})


@pytest.fixture
def stranger(client, victims):
    """Signed up, signed in, and acting for every member organisation nobody acted for."""
    user = make_user(STRANGER)
    client.force_login(user)
    _declare_every_member(client, victims["dossiers"])
    claimed = Organisation.objects.filter(affiliations__user=user)
    assert claimed.filter(memberships__consortium=victims["orphan"].consortium,
                          memberships__is_lead=True).exists()  # even the lead of one of them
    return user


def _hostile_forms(dossier) -> list[dict]:
    """POST bodies that every page's handlers would act on (each reads what it needs)."""
    line = dossier.expenses.first()
    common = {"title": "Détourné", "version": dossier.version, "summary": "pris",
              "email": STRANGER, "confirm": "on", "body": "Je prends ce dossier.",
              "member": _lead(dossier).pk, "category": "staff", "label": "Détournement",
              "amount": "1", "eligible": "on", "source": "own_cash", "month": 1,
              "kind": "lead_statutes", "narrative": "Rapport", "line": f"{line.pk}:{line.version}",
              "document": dossier.documents.first().pk}
    return [{**common, "file": _pdf()}, {**common, "invitation": "1"}]


def test_stranger_declaring_every_member_siret_opens_no_dossier_page(client, victims,
                                                                     stranger):
    assert client.get("/espace/").context["dossiers"].count() == 0
    before = database_state()
    for dossier in victims["dossiers"]:
        for address in portal_addresses(dossier):
            assert client.get(address).status_code == 404, address
            for form in _hostile_forms(dossier):
                assert client.post(address, form).status_code in (404, 405), address
        for address in portal_action_addresses(dossier):
            for form in _hostile_forms(dossier):
                assert client.post(address, form).status_code == 404, address
    assert database_state() == before


def test_stranger_declaring_every_member_siret_is_refused_by_every_service(victims, stranger):
    grant = Grant.objects.get(dossier=victims["decided"])
    before = database_state()
    attempts = [attempt for dossier in victims["dossiers"]
                for attempt in _service_attempts(dossier, stranger)] + [
        (lambda: sign_agreement(grant, stranger, _pdf()),
         "Seul le chef de file signe la convention."),
        (lambda: submit_report(grant.reports.first(), stranger,
                               narrative="Fait", indicators={}, expenses=[]),
         "Seul le chef de file remet les rapports.")]
    for attempt, expected in attempts:
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert refused.value.message.startswith(expected)
    assert database_state() == before


def _service_attempts(dossier, stranger):
    """(action, start of its refusal) for every service that writes on a dossier."""
    member = _lead(dossier)
    line = dossier.expenses.first()
    financing = dossier.financing.filter(member__isnull=False).first()
    milestone = dossier.milestones.first()
    document = dossier.documents.first()
    cannot = "Vous ne pouvez pas faire cette modification sur ce dossier."
    expense = editing.ExpenseInput(member=member, category="staff", label="Pris",
                                   amount=1, eligible=True)
    contribution = editing.FinancingInput(source="own_cash", member=member, amount=1)
    return [
        (lambda: editing.update_project(dossier, stranger, dossier.version,
                                        {"title": "Détourné"}), cannot),
        (lambda: editing.update_answers(dossier, stranger, 1, "hybridation",
                                        {"immersive_tools": "x"}), cannot),
        (lambda: editing.add_expense(dossier, stranger, expense), cannot),
        (lambda: editing.update_expense(line, stranger, line.version, expense), cannot),
        (lambda: editing.add_financing(dossier, stranger, contribution), cannot),
        (lambda: editing.update_financing(financing, stranger, financing.version,
                                          contribution), cannot),
        (lambda: editing.add_milestone(dossier, stranger, 1, "other", "Pris"), cannot),
        (lambda: editing.delete_line(line, stranger, line.version), cannot),
        (lambda: editing.delete_line(milestone, stranger, milestone.version), cannot),
        (lambda: budget.import_annex(dossier, stranger, b"never read"), cannot),
        (lambda: upload_document(dossier, stranger, document.kind, _pdf()), cannot),
        (lambda: remove_document(document, stranger), cannot),
        (lambda: submit(dossier, by=stranger), "Seul le chef de file dépose le dossier."),
        (lambda: membership.invite_member(dossier, "complice@example.fr", stranger),
         "Seul le chef de file invite"),
        (lambda: post_message(dossier, stranger, "Je prends ce dossier."),
         "Vous n'avez pas accès à ce dossier."),
    ]


def test_stranger_declaring_every_member_siret_gets_no_mail_about_those_dossiers(
        victims, stranger, mailoutbox, django_capture_on_commit_callbacks):
    staff, admin = victims["staff"], victims["staff"][Role.ADMINISTRATOR]
    decision = Decision.objects.get(dossier=victims["decided"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(victims["draft"], by=User.objects.get(email=DRAFT_LEAD))  # the receipt
        post_message(victims["decided"], staff[Role.INSTRUCTOR], "Pièce à compléter.")
        remind_drafts(dt.datetime.now(dt.UTC), days=10_000)
        close_call(victims["call"], admin, "Clôture anticipée.")
    # What publication sends, with today's participants.
    send_notification(Kind.DECISION_PUBLISHED, {"decision": decision.pk})
    recipients = {address for mail in mailoutbox for address in mail.to}
    assert STRANGER not in recipients
    assert {DRAFT_LEAD, WINNER} <= recipients
    subjects = {mail.subject.split(" ")[0] for mail in mailoutbox}
    assert subjects >= {"Accusé", "Nouveau", "Rappel", "Clôture", "Décision"}
