from django.urls import path

from guichet.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("compte/", views.account, name="account"),
    path("compte/langue/", views.account_language, name="account-language"),
    path("schemas/guichet.dossier-1.json", views.dossier_schema, name="dossier-schema"),
]
