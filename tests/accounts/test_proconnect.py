"""ProConnect's provider: its userinfo, a signed JWT, is checked (signature, issuer, audience)
against the provider's published keys (a local HTTP server plays the provider); without a
configured client its addresses do not exist."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import RequestFactory

from guichet.accounts.proconnect.views import ProConnectAdapter

pytestmark = pytest.mark.django_db
CLIENT_ID = "guichet"
CLAIMS = {"sub": "ada", "email": "ada@example.gouv.fr", "siret": "73282932000074"}


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(settings):
    """A provider publishing one key; `answer["userinfo"]` is what its userinfo returns."""
    published = _key()
    answer = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            issuer = f"http://127.0.0.1:{self.server.server_port}"
            routes = {
                "/.well-known/openid-configuration": ("application/json", json.dumps({
                    "issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
                    "token_endpoint": f"{issuer}/token", "userinfo_endpoint": f"{issuer}/me",
                    "jwks_uri": f"{issuer}/jwks"})),
                "/jwks": ("application/json", json.dumps({"keys": [
                    {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
                        published.public_key())), "kid": "k1", "use": "sig"}]})),
                "/me": ("application/jwt", answer["userinfo"](issuer)),
            }
            content_type, body = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SOCIALACCOUNT_PROVIDERS = {"proconnect": {"APPS": [{
        "client_id": CLIENT_ID, "secret": "s",
        "settings": {"server_url": f"http://127.0.0.1:{server.server_port}"}}]}}
    yield published, answer
    server.shutdown()


def _signed(key, issuer: str, audience: str = CLIENT_ID) -> str:
    return jwt.encode({**CLAIMS, "iss": issuer, "aud": audience}, key, algorithm="RS256",
                      headers={"kid": "k1"})


def _userinfo() -> dict:
    return ProConnectAdapter(RequestFactory().get("/"))._fetch_user_info("access-token")


def test_proconnect_userinfo_signed_by_the_provider_gives_its_claims(provider):
    published, answer = provider
    answer["userinfo"] = lambda issuer: _signed(published, issuer)
    claims = _userinfo()
    assert (claims["sub"], claims["siret"]) == ("ada", "73282932000074")


@pytest.mark.parametrize("forgery", ["another key", "another audience", "another issuer"])
def test_proconnect_userinfo_forged_is_refused(provider, forgery):
    published, answer = provider
    answer["userinfo"] = {
        "another key": lambda issuer: _signed(_key(), issuer),
        "another audience": lambda issuer: _signed(published, issuer, audience="someone"),
        "another issuer": lambda issuer: _signed(published, "http://evil.example"),
    }[forgery]
    with pytest.raises(OAuth2Error):
        _userinfo()


@pytest.mark.parametrize("path", ["/comptes/proconnect/login/",
                                  "/comptes/proconnect/login/callback/"])
def test_proconnect_addresses_without_configuration_are_404(client, settings, path):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
