from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from guichet.accounts.proconnect.provider import ProConnectProvider

urlpatterns = default_urlpatterns(ProConnectProvider)
