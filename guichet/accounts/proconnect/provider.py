from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.urls import reverse
from django.utils.http import urlencode

from guichet.accounts.proconnect.views import ProConnectAdapter

PROVIDER_ID = "proconnect"
SCOPES = ["openid", "email", "given_name", "usual_name", "siret"]


class ProConnectProvider(OpenIDConnectProvider):
    id = PROVIDER_ID
    name = "ProConnect"
    oauth2_adapter_class = ProConnectAdapter

    def get_login_url(self, request, **kwargs):
        url = reverse(f"{PROVIDER_ID}_login")
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self):
        return reverse(f"{PROVIDER_ID}_callback")

    def get_default_scope(self):
        return list(SCOPES)

    def get_oauth2_adapter(self, request):
        return ProConnectAdapter(request)

    def extract_common_fields(self, data):
        fields = super().extract_common_fields(data)
        claims = data.get("userinfo") or data.get("id_token") or data
        fields.update(first_name=claims.get("given_name") or "",
                      last_name=claims.get("usual_name") or "")
        return fields


provider_classes = [ProConnectProvider]
