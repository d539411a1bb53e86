"""Schemathesis against the OpenAPI document, on a live server over the demo data (`make
run`'s), signed in with tokens of an applicant, an instructor, an administrator and an
expert: whatever it generates, the API answers no 5xx and nothing its schema does not
describe (status, content type, body, headers)."""

import io
import json

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guichet.accounts.models import TokenScope, User
from guichet.accounts.tokens import create_token
from guichet.api.main import api
from guichet.calls.models import Call
from guichet.demo.dossiers import DEMO_LEAD_EMAIL
from guichet.demo.grants import STAFF
from guichet.dossiers.models import Dossier, DossierStatus
from guichet.review.models import Role
from tests.factories import assign, make_expert

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture
def demo_tokens(deffinum_demo) -> dict[str, dict]:
    """A read and write token of each role of the demo."""
    people = {"applicant": DEMO_LEAD_EMAIL, "instructor": STAFF[Role.INSTRUCTOR],
              "administrator": STAFF[Role.ADMINISTRATOR]}
    # The demo has no expert: one is assigned a submitted dossier of the demo.
    expert = make_expert(Call.objects.get(code="deffinum"), "expert@example.fr")
    assign(Dossier.objects.exclude(status=DossierStatus.DRAFT).order_by("pk").first(), expert)
    people["expert"] = expert.user.email
    return {role: {"Authorization": "Bearer " + create_token(
        User.objects.get(email=email), "schemathesis", TokenScope.WRITE).secret}
        for role, email in people.items()}


@pytest.fixture
def deffinum_demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.API_THROTTLE_RATE = "100000/m"
    call_command("loadcall", "calls/deffinum.toml", "--demo", stdout=io.StringIO())
    call_command("seeddemo", stdout=io.StringIO())


# The document the server publishes at /api/v1/openapi.json (a test below holds that).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_answers_within_its_schema_for_every_role(case, live_server, demo_tokens):
    for headers in demo_tokens.values():
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)


def test_api_openapi_document_served_is_the_one_tested(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(api.get_openapi_schema()))
    assert answer.json()["openapi"].startswith("3.1")
