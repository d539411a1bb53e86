from django.urls import path

from guichet.portal import grant_views, views

app_name = "portal"
urlpatterns = [
    path("espace/", views.dashboard, name="dashboard"),
    path("espace/organismes/", views.register_organisation, name="register-organisation"),
    path("espace/dossiers/", views.start_dossier, name="start-dossier"),
    path("invitations/<slug:token>/", views.invitation, name="invitation"),  # token_urlsafe
    path("invitations/<slug:token>/organisme/", views.invitation_organisation,
         name="invitation-organisation"),
    path("dossiers/<int:pk>/", views.step, {"step": "projet"}, name="dossier"),
    path("dossiers/<int:pk>/etape/<slug:step>/", views.step, name="step"),
    path("dossiers/<int:pk>/invitations/retrait/", views.revoke_invitation,
         name="revoke-invitation"),
    path("dossiers/<int:pk>/jalons/suppression/", views.delete_line, {"step": "calendrier"},
         name="delete-milestone"),
    path("dossiers/<int:pk>/depenses/suppression/", views.delete_line, {"step": "budget"},
         name="delete-expense"),
    path("dossiers/<int:pk>/financement/suppression/", views.delete_line,
         {"step": "financement"}, name="delete-financing"),
    path("dossiers/<int:pk>/annexe/", views.annex_import, name="import-annex"),
    path("dossiers/<int:pk>/pieces/retrait/", views.document_removal, name="remove-document"),
    path("dossiers/<int:pk>/verdict/", views.verdict_panel, name="verdict"),
    path("dossiers/<int:pk>/messages/", views.dossier_messages, name="messages"),
    path("dossiers/<int:pk>/decision.pdf", views.decision_letter, name="decision-letter"),
    path("dossiers/<int:pk>/subvention/", grant_views.grant_page, name="grant"),
    path("dossiers/<int:pk>/subvention/signature/", grant_views.sign, name="sign-agreement"),
    path("dossiers/<int:pk>/subvention/rapport/", grant_views.hand_in_report,
         name="hand-in-report"),
    path("dossiers/<int:pk>/subvention/<slug:kind>.pdf", grant_views.grant_document,
         name="grant-document"),
    path("dossiers/<int:pk>/accuse/", views.receipt, name="receipt"),
    path("dossiers/<int:pk>/accuse.pdf", views.receipt_pdf, name="receipt-pdf"),
    path("dossiers/<int:pk>/annexe.xlsx", views.annex_template, name="annex-template"),
    path("dossiers/<int:pk>/budget.<str:extension>", views.budget_export, name="budget-export"),
    path("dossiers/<int:pk>/pieces/<int:document_pk>/", views.document_file, name="document"),
    path("dossiers/<int:pk>/pieces/<int:document_pk>/apercu/", views.document_preview,
         name="document-preview"),
    path("dossiers/<int:pk>/recapitulatif/", views.recap, name="recap"),
]
