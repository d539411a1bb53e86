"""Demo data for `make run`, continued: the first wave instructed, reviewed, decided, with
signed agreements and paid tranches, so that every page and export has something to show."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from guichet.core.clock import in_paris, now
from guichet.demo.dossiers import blank_pdf, demo_user, lead_user
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.grants import decisions
from guichet.grants.agreement import sign_agreement
from guichet.grants.models import Grant, Outcome, Report, ReportKind, TrancheStatus
from guichet.grants.payments import record_payment
from guichet.grants.reports import review_report, submit_report
from guichet.review.instruction import record_instruction
from guichet.review.models import CallRole, Role

STAFF = {Role.INSTRUCTOR: "instructeur@demo.guichet.test",
         Role.COMMITTEE: "comite@demo.guichet.test",
         Role.ADMINISTRATOR: "administrateur@demo.guichet.test"}


# The regional example call's own staff: they serve it alone and see nothing of Deffinum.
REGIONAL_STAFF = {Role.INSTRUCTOR: "instructeur.region@demo.guichet.test",
                  Role.COMMITTEE: "comite.region@demo.guichet.test",
                  Role.ADMINISTRATOR: "administrateur.region@demo.guichet.test"}


def staff_user(call, role: str, accounts: dict = STAFF):
    user = demo_user(accounts[role])
    CallRole.objects.get_or_create(user=user, call=call, role=role)
    return user


def seed_staff(call, accounts: dict) -> list:
    """The call's demo staff: one account per role of `accounts`."""
    return [staff_user(call, role, accounts) for role in accounts]


@transaction.atomic
def seed_decided_wave(call, today: dt.date | None = None) -> list[Grant]:
    """Instruct, select and publish the submitted demo dossiers, sign their agreements, pay
    their first tranche today (Paris), and take the first one through its intermediate report."""
    if Grant.objects.filter(dossier__call=call).exists():
        return []
    today = today or in_paris(now()).date()
    instructor, committee, admin = (staff_user(call, role) for role in STAFF)
    submitted = list(Dossier.objects.filter(call=call, status=DossierStatus.SUBMITTED)
                     .order_by("pk"))
    for dossier in submitted:
        record_instruction(dossier, instructor, admissible=True, eligible=True)
        dossier.refresh_from_db()
        decisions.prepare_decision(dossier, committee, Outcome.SELECTED,
                                   awarded_aid=dossier.requested_aid)
    if not submitted:
        return []
    decisions.publish_decisions(submitted[0].wave, admin)
    grants = list(Grant.objects.filter(dossier__in=submitted).order_by("pk"))
    for number, grant in enumerate(grants, start=1):
        sign_agreement(grant, lead_user(grant.dossier),
                                SimpleUploadedFile("convention.pdf", blank_pdf()))
        tranche = grant.tranches.get(number=1)
        record_payment(tranche, admin, paid_on=today,
                                reference=f"DEMO-VIR-{number:03d}-1")
    _intermediate_round(grants[0], instructor, admin, today)
    return grants


def _intermediate_round(grant: Grant, instructor, admin, today: dt.date) -> None:
    lead = lead_user(grant.dossier)
    report = Report.objects.get(grant=grant, kind=ReportKind.INTERMEDIATE)
    lines = grant.dossier.expenses.filter(eligible=True)
    submit_report(
        report, lead, narrative="Trois parcours hybridés, premiers apprenants formés.",
        indicators={"learners_reached": 420, "courses_hybridised": 3, "resources_pooled": 12,
                    "partners_involved": grant.dossier.consortium.members.count()},
        expenses=[(line.member_id, line.category, line.amount / 2) for line in lines])
    review_report(report, instructor, approve=True)
    tranche = grant.tranches.get(number=2)
    if tranche.status == TrancheStatus.DUE:
        record_payment(tranche, admin, paid_on=today, reference="DEMO-VIR-001-2")

