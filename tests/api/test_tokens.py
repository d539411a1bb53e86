"""Personal API tokens: made, shown once, stored as a digest, revoked."""

import hashlib

import pytest

from guichet.accounts.models import ApiToken, TokenScope
from guichet.accounts.tokens import (
    MAX_ACTIVE_TOKENS,
    TokenRefused,
    create_token,
    revoke_token,
    token_for_secret,
)
from guichet.core.errors import ServiceError
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_create_token_stores_only_a_digest_of_its_secret():
    owner = make_user("owner@example.fr")
    new = create_token(owner, "Logiciel financier", TokenScope.READ)
    stored = ApiToken.objects.get(pk=new.token.pk)
    assert new.secret.startswith("gch_")
    assert len(new.secret) > 40
    assert stored.digest == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in {stored.name, stored.prefix, stored.digest}
    assert stored.prefix == new.secret[:12]
    assert token_for_secret(new.secret) == stored


@pytest.mark.parametrize(("name", "field_message"), [
    ("", "Donnez un nom"),
    ("Nom\r\nBcc: x@example.fr", "sur une ligne"),
    ("Nom\x00", "sur une ligne"),
    ("x" * 81, "80 caractères"),
])
def test_create_token_refuses_a_bad_name_and_writes_nothing(name, field_message):
    owner = make_user("owner@example.fr")
    with pytest.raises(ServiceError) as refused:
        create_token(owner, name, TokenScope.READ)
    assert refused.value.field == "name"
    assert field_message in refused.value.message
    assert not ApiToken.objects.exists()


def test_create_token_refuses_an_unknown_scope():
    with pytest.raises(TokenRefused) as refused:
        create_token(make_user("owner@example.fr"), "Jeton", "admin")
    assert refused.value.field == "scope"
    assert not ApiToken.objects.exists()


def test_create_token_refuses_beyond_the_active_limit():
    owner = make_user("owner@example.fr")
    for number in range(MAX_ACTIVE_TOKENS):
        create_token(owner, f"Jeton {number}", TokenScope.READ)
    with pytest.raises(TokenRefused):
        create_token(owner, "Un de trop", TokenScope.READ)
    revoke_token(owner, owner.api_tokens.first().pk)
    assert create_token(owner, "Après révocation", TokenScope.WRITE).token.pk


def test_revoked_token_opens_nothing_and_is_kept():
    owner = make_user("owner@example.fr")
    new = create_token(owner, "Jeton", TokenScope.WRITE)
    revoke_token(owner, new.token.pk)
    assert token_for_secret(new.secret) is None
    assert ApiToken.objects.get(pk=new.token.pk).revoked_at is not None


def test_revoke_token_of_someone_else_is_refused():
    new = create_token(make_user("owner@example.fr"), "Jeton", TokenScope.WRITE)
    with pytest.raises(TokenRefused):
        revoke_token(make_user("thief@example.fr"), new.token.pk)
    assert token_for_secret(new.secret) is not None


def test_token_of_a_deactivated_account_opens_nothing():
    owner = make_user("owner@example.fr")
    new = create_token(owner, "Jeton", TokenScope.READ)
    owner.is_active = False
    owner.save()
    assert token_for_secret(new.secret) is None


@pytest.mark.parametrize("secret", ["", "gch_", "gch_" + "a" * 200, "Bearer x", "gch_\x00"])
def test_token_for_secret_finds_nothing_for_a_forged_secret(secret):
    create_token(make_user("owner@example.fr"), "Jeton", TokenScope.READ)
    assert token_for_secret(secret) is None
