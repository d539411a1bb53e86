"""The kinds of mail a service may ask for (`notify`); guichet.mails.catalogue says, for each,
who receives it and what it says."""

import enum


class Kind(enum.StrEnum):
    INVITATION = "invitation"
    RECEIPT = "receipt"
    DRAFT_REMINDER = "draft_reminder"
    CORRECTION_REQUESTED = "correction_requested"
    MESSAGE_POSTED = "message_posted"
    EXPERT_INVITED = "expert_invited"
    CALL_CLOSED = "call_closed"
    DECISION_PUBLISHED = "decision_published"
    REPORT_REMINDER = "report_reminder"
    EXPERT_ASSIGNED = "expert_assigned"
    REVIEW_DUE = "review_due"
    REVIEW_OVERDUE = "review_overdue"
    REPORT_REQUESTED = "report_requested"
    REPORT_CHANGES_REQUESTED = "report_changes_requested"
    REPORT_APPROVED = "report_approved"
    PAYMENT_MADE = "payment_made"
    INSTRUCTION_DONE = "instruction_done"
    WAVE_ARCHIVE_READY = "wave_archive_ready"
    DAILY_DIGEST = "daily_digest"
