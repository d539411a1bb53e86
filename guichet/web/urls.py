from django.urls import path

from guichet.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("appels/<slug:code>/", views.call_page, name="call"),
    path("appels/<slug:code>/donnees-personnelles/", views.privacy, name="privacy"),
    path("appels/<slug:code>/modele-lettre-engagement.pdf", views.commitment_letter,
         name="commitment-letter"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/lues/", views.read_notifications, name="read-notifications"),
    path("notifications/preference/", views.mail_preference, name="mail-preference"),
    path("compte/", views.account, name="account"),
    path("compte/langue/", views.account_language, name="account-language"),
    path("compte/jetons/", views.create_api_token, name="create-api-token"),
    path("compte/jetons/revoquer/", views.revoke_api_token, name="revoke-api-token"),
    path("compte/mes-donnees.json", views.personal_data, name="personal-data"),
    path("schemas/guichet.dossier-1.json", views.dossier_schema, name="dossier-schema"),
]
