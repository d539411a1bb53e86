"""Every action the code writes to the audit log: one enum, each with its French label (the
English one in the catalogue).

Call sites name a member (`append_event(AuditAction.DOSSIER_SUBMITTED, ...)`), never a string;
`append_event` refuses a value that is not a member. A test reads the source for the calls that
append events and checks that the actions they write are exactly these members, so a new action
cannot appear unnoticed. The applicant timeline shows only an explicit allow-list of them
(`guichet.portal.selectors.APPLICANT_EVENTS`), under these labels: a new action stays internal
until someone decides that applicants should see it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CALL_CLOSED = "call.closed", _("Appel clos")
    CALL_EXPERT_INVITED = "call.expert_invited", _("Expert invité sur l'appel")
    CALL_LOADED = "call.loaded", _("Définition de l'appel chargée")
    CALL_DRAFT_OPENED = "call.draft_opened", _("Brouillon de définition d'appel ouvert")
    CALL_DRAFT_EDITED = "call.draft_edited", _("Brouillon de définition d'appel modifié")
    CALL_DRAFT_PUBLISHED = "call.draft_published", _("Nouvelle version de l'appel publiée")
    CALL_DRAFT_DISCARDED = "call.draft_discarded", _("Brouillon de définition d'appel abandonné")
    CALL_LABEL_CREATED = "call.label_created", _("Étiquette créée")
    CALL_MAIL_TEXT_SAVED = "call.mail_text_saved", _("Texte d'un courriel de l'appel modifié")
    CALL_MAIL_TEXT_RESET = "call.mail_text_reset", _("Texte d'un courriel de l'appel rétabli")
    CALL_WEBHOOK_ADDED = "call.webhook_added", _("Webhook ajouté")
    CALL_WEBHOOK_REMOVED = "call.webhook_removed", _("Webhook désactivé")
    CALL_WEBHOOK_TESTED = "call.webhook_tested", _("Événement de test envoyé à un webhook")
    CALL_ROLE_GRANTED = "call.role_granted", _("Rôle donné sur l'appel")
    CALL_ROLE_REVOKED = "call.role_revoked", _("Rôle retiré sur l'appel")

    ORGANISATION_AFFILIATED = "organisation.affiliated", _("Rattachement à une organisation")

    CONSORTIUM_INVITED = "consortium.invited", _("Membre invité")
    CONSORTIUM_INVITATION_REVOKED = "consortium.invitation_revoked", _("Invitation retirée")
    CONSORTIUM_JOINED = "consortium.joined", _("Membre confirmé")
    CONSORTIUM_LEAD_DESIGNATED = "consortium.lead_designated", _("Chef de file désigné")

    DOSSIER_IMPORTED = "dossier.imported", _("Dossier importé")
    DOSSIER_STARTED = "dossier.started", _("Dossier créé")
    DOSSIER_PROJECT_UPDATED = "dossier.project_updated", _("Projet modifié")
    # The answers to the call's own questions; the stored code (in hashed events) predates
    # them: the hybridation profile was the first such section.
    DOSSIER_HYBRID_PROFILE_UPDATED = ("dossier.hybrid_profile_updated",
                                      _("Réponses aux questions de l'appel modifiées"))
    DOSSIER_EXPENSE_ADDED = "dossier.expense_added", _("Dépense ajoutée")
    DOSSIER_EXPENSE_UPDATED = "dossier.expense_updated", _("Dépense modifiée")
    DOSSIER_FINANCING_ADDED = "dossier.financing_added", _("Financement ajouté")
    DOSSIER_FINANCING_UPDATED = "dossier.financing_updated", _("Financement modifié")
    DOSSIER_MILESTONE_ADDED = "dossier.milestone_added", _("Jalon ajouté")
    DOSSIER_LINE_DELETED = "dossier.line_deleted", _("Ligne supprimée")
    DOSSIER_ANNEX_IMPORTED = "dossier.annex_imported", _("Annexe financière importée")
    DOSSIER_DOCUMENT_ADDED = "dossier.document_added", _("Pièce ajoutée")
    DOSSIER_DOCUMENT_REMOVED = "dossier.document_removed", _("Pièce retirée")
    CALL_WAVE_ARCHIVE_REQUESTED = "call.wave_archive_requested", _("Archive de la vague demandée")
    DOSSIER_REMINDED = "dossier.reminded", _("Rappel d'échéance envoyé")
    DOSSIER_SUBMITTED = ("dossier.submitted",
                         _("Dossier déposé, accusé de réception délivré"))
    DOSSIER_INSTRUCTED = "dossier.instructed", _("Instruction du dossier terminée")
    DOSSIER_CORRECTION_REQUESTED = "dossier.correction_requested", _("Corrections demandées")
    DOSSIER_MESSAGE_POSTED = ("dossier.message_posted",
                              _("Message échangé avec l'équipe d'instruction"))
    DOSSIER_NOTE_WRITTEN = "dossier.note_written", _("Note interne écrite")
    DOSSIER_ANNOTATED = "dossier.annotated", _("Annotation interne écrite")
    DOSSIER_LABELS_CHANGED = "dossier.labels_changed", _("Étiquettes du dossier modifiées")
    DOSSIER_INSTRUCTOR_ASSIGNED = "dossier.instructor_assigned", _("Instructeur désigné")
    DOSSIER_FOLLOWED = "dossier.followed", _("Dossier suivi")
    DOSSIER_UNFOLLOWED = "dossier.unfollowed", _("Dossier plus suivi")

    REVIEW_EXPERT_ADDED = "review.expert_added", _("Expert ajouté")
    REVIEW_EXPERT_REMOVED = "review.expert_removed", _("Expert retiré")
    REVIEW_EXPERTS_ASSIGNED = "review.experts_assigned", _("Experts affectés")
    REVIEW_CONFLICT_DECLARED = "review.conflict_declared", _("Conflit d'intérêts déclaré")
    REVIEW_SCORES_SUBMITTED = "review.scores_submitted", _("Notes d'expertise remises")
    REVIEW_SELECTION_ADOPTED = ("review.selection_adopted",
                                _("Simulation adoptée comme décisions préparées"))

    DECISION_PREPARED = "decision.prepared", _("Décision préparée")
    DECISION_PUBLISHED = "decision.published", _("Décision publiée")
    DECISION_REVERTED = "decision.reverted", _("Décision annulée")

    GRANT_COMMITTED = "grant.committed", _("Subvention engagée")
    GRANT_RELEASED = "grant.released", _("Engagement annulé")
    GRANT_SIGNED = "grant.signed", _("Convention signée")
    GRANT_TRANCHE_PAID = "grant.tranche_paid", _("Tranche versée")
    GRANT_PAYMENT_REVERSED = "grant.payment_reversed", _("Versement annulé")
    GRANT_REPORT_SUBMITTED = "grant.report_submitted", _("Rapport remis")
    GRANT_REPORT_REVIEWED = "grant.report_reviewed", _("Rapport examiné")
    GRANT_REPORT_REMINDED = "grant.report_reminded", _("Rappel de rapport envoyé")
    GRANT_BALANCE_COMPUTED = "grant.balance_computed", _("Solde calculé")
    GRANT_AMENDED = "grant.amended", _("Avenant à la convention")

    OUTBOX_RETRIED = "outbox.retried", _("Envoi relancé")
