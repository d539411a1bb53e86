from django.urls import path

from guichet.backoffice import grant_views, views

app_name = "backoffice"
urlpatterns = [
    path("", views.home, name="home"),
    path("appels/<slug:code>/dossiers/", views.dossier_list, name="dossiers"),
    path("appels/<slug:code>/experts/", views.expert_pool, name="experts"),
    path("appels/<slug:code>/comite/<slug:wave_code>/", views.committee_page, name="committee"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier"),
    path("dossiers/<int:pk>/pieces/<int:document_pk>/", views.staff_document, name="document"),
    path("expertises/<int:assignment_pk>/", views.review_dossier, name="review"),
    path("appels/<slug:code>/subventions/", grant_views.grant_list, name="grants"),
    path("appels/<slug:code>/cloture/", grant_views.close_call_early, name="close-call"),
    path("subventions/<int:pk>/", grant_views.grant_detail, name="grant"),
    path("subventions/<int:pk>/<slug:kind>.pdf", grant_views.grant_document,
         name="grant-document"),
    path("tableau-de-bord/", grant_views.money_dashboard, name="dashboard"),
]
