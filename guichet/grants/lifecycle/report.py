"""The report's states: the only code that writes `Report.status` (guichet.core.lifecycle).

Reports (intermediate and final) are created as drafts with the grant
(guichet.grants.commitment.commit_grant). Transitions and their side effects (written by the
service, in the same transaction):
- draft|changes_requested --submit--> submitted (guichet.grants.reports.submit_report, the
  lead, once the agreement is signed): narrative, indicators and statement of expenses stored,
  audit `grant.report_submitted`.
- submitted --approve--> approved (review_report): audit `grant.report_reviewed`; the
  intermediate report makes tranche 2 due; the final one (after the intermediate) computes the
  balance, makes it due and issues a recovery order if negative (audit
  `grant.balance_computed`).
- submitted --request_changes--> changes_requested (review_report, with the changes asked):
  audit `grant.report_reviewed`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from guichet.core.lifecycle import Lifecycle, Transition
from guichet.grants.models import Report, ReportStatus


class ReportAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"


S, A = ReportStatus, ReportAction
REPORT = Lifecycle(Report, _("ce rapport"), ReportAction, (
    Transition(S.DRAFT, A.SUBMIT, S.SUBMITTED),
    Transition(S.CHANGES_REQUESTED, A.SUBMIT, S.SUBMITTED),
    Transition(S.SUBMITTED, A.APPROVE, S.APPROVED),
    Transition(S.SUBMITTED, A.REQUEST_CHANGES, S.CHANGES_REQUESTED),
))


def apply_report_transition(report: Report, action: ReportAction, **fields) -> str:
    return REPORT.apply(report, action, **fields)
