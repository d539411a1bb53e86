"""Every action the code writes to the audit log, in one place.

A test reads the source for the calls that append events and checks that the actions they
write are exactly these, so a new action cannot appear unnoticed. The applicant timeline shows
only an explicit allow-list of them (`guichet.portal.selectors.APPLICANT_EVENTS`): a new
action stays internal until someone decides that applicants should see it.
"""

CALL = ("call.closed", "call.expert_invited", "call.loaded")
ORGANISATION = ("organisation.affiliated",)
CONSORTIUM = ("consortium.invited", "consortium.invitation_revoked", "consortium.joined",
              "consortium.lead_designated")
DOSSIER = (
    "dossier.imported", "dossier.started", "dossier.project_updated",
    "dossier.hybrid_profile_updated", "dossier.expense_added", "dossier.expense_updated",
    "dossier.financing_added", "dossier.financing_updated", "dossier.milestone_added",
    "dossier.line_deleted", "dossier.annex_imported", "dossier.document_added",
    "dossier.document_removed", "dossier.reminded", "dossier.submitted",
    "dossier.instructed", "dossier.correction_requested", "dossier.message_posted",
    "dossier.note_written",
)
REVIEW = ("review.expert_added", "review.expert_removed", "review.experts_assigned",
          "review.conflict_declared", "review.scores_submitted")
DECISION = ("decision.prepared", "decision.published", "decision.reverted")
GRANT = ("grant.committed", "grant.released", "grant.signed", "grant.tranche_paid",
         "grant.payment_reversed", "grant.report_submitted", "grant.report_reviewed",
         "grant.report_reminded", "grant.balance_computed", "grant.amended")
OUTBOX = ("outbox.retried",)

ACTIONS = frozenset(CALL + ORGANISATION + CONSORTIUM + DOSSIER + REVIEW + DECISION + GRANT
                    + OUTBOX)
