from django.urls import path

from guichet.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("schemas/guichet.dossier-1.json", views.dossier_schema, name="dossier-schema"),
]
