from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("comptes/", include("allauth.urls")),
    path("instruction/", include("guichet.backoffice.urls")),
    path("", include("guichet.portal.urls")),
    path("", include("guichet.web.urls")),
]
