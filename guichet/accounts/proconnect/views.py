from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.http import Http404
from django.urls import reverse

JWT = "application/jwt"


class ProConnectAdapter(OpenIDConnectOAuth2Adapter):
    def __init__(self, request, provider_id: str = "proconnect") -> None:
        super().__init__(request, provider_id)

    def get_callback_url(self, request, app):
        return build_absolute_uri(request, reverse("proconnect_callback"),
                                  self.redirect_uri_protocol)

    def _fetch_user_info(self, access_token: str) -> dict:
        """ProConnect answers userinfo as a JWT signed with its keys: its signature, issuer
        and audience are checked like the ID token's."""
        with get_adapter().get_requests_session() as http:
            response = http.get(self.profile_url,
                                headers={"Authorization": f"Bearer {access_token}"})
            response.raise_for_status()
        if not response.headers.get("Content-Type", "").startswith(JWT):
            return response.json()
        return jwtkit.verify_and_decode(
            credential=response.text.strip(), keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"], audience=self.get_provider().app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk, verify_signature=True)


def _configured_only(view):
    """Without PROCONNECT_URL the provider has no client: its addresses do not exist (404)."""

    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except SocialApp.DoesNotExist:
            raise Http404 from None

    return answer


oauth2_login = _configured_only(OAuth2LoginView.adapter_view(ProConnectAdapter))
oauth2_callback = _configured_only(OAuth2CallbackView.adapter_view(ProConnectAdapter))
