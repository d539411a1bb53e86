import pytest

from guichet.accounts.models import TokenScope
from guichet.accounts.tokens import create_token

# The permission matrix's people and dossiers (two funders), for the API's contract tests.
from tests.backoffice.test_permissions import world  # noqa: F401


@pytest.fixture
def bearer():
    """The headers of an API request by `user` with a new token of `scope`."""

    def headers(user, scope: str = TokenScope.WRITE) -> dict:
        secret = create_token(user, f"test {scope}", scope).secret
        return {"Authorization": f"Bearer {secret}"}

    return headers
