from django.urls import path

from guichet.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("", views.home, name="home"),
    path("appels/<slug:code>/dossiers/", views.dossier_list, name="dossiers"),
    path("appels/<slug:code>/experts/", views.expert_pool, name="experts"),
    path("appels/<slug:code>/comite/<slug:wave_code>/", views.committee_page, name="committee"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier"),
    path("dossiers/<int:pk>/pieces/<int:document_pk>/", views.staff_document, name="document"),
    path("expertises/<int:assignment_pk>/", views.review_dossier, name="review"),
]
