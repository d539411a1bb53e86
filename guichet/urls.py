from django.urls import include, path, re_path

from guichet.api.docs import documentation
from guichet.api.main import api
from guichet.api.problems import unknown_path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("comptes/", include("allauth.urls")),
    path("api/v1/docs", documentation, name="api-docs"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", unknown_path),
    path("instruction/", include("guichet.backoffice.urls")),
    path("", include("guichet.portal.urls")),
    path("", include("guichet.web.urls")),
]
