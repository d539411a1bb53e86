"""ProConnect's SIRET: the person acts for that organisation without an invitation."""

import json

import pytest

from guichet.audit.models import AuditEvent
from guichet.dossiers.membership import MembershipRefused, affiliate_proven
from guichet.dossiers.models import Affiliation, Organisation
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.django_db
NOTHING_LISTENS = "http://127.0.0.1:9"  # the discard port: the company search fails at once


def test_affiliate_proven_joins_an_organisation_others_already_represent(settings):
    settings.COMPANY_SEARCH_URL = NOTHING_LISTENS
    organisation = OrganisationFactory()
    make_user("premier@example.fr", [organisation])
    agent = make_user("agent@example.gouv.fr")
    assert affiliate_proven(agent, organisation.siret) == organisation
    assert Affiliation.objects.filter(organisation=organisation).count() == 2
    event = AuditEvent.objects.get(action="organisation.affiliated")
    assert json.loads(event.details) == {"proof": "proconnect"}


def test_affiliate_proven_creates_an_unknown_organisation_named_by_its_siret(settings):
    settings.COMPANY_SEARCH_URL = NOTHING_LISTENS
    agent = make_user("agent@example.gouv.fr")
    organisation = affiliate_proven(agent, "732 829 320 00074")
    assert organisation.siret == "73282932000074"
    assert organisation.name == "73282932000074"
    assert agent.affiliations.get().organisation == organisation


def test_affiliate_proven_twice_records_once(settings):
    settings.COMPANY_SEARCH_URL = NOTHING_LISTENS
    agent = make_user("agent@example.gouv.fr")
    affiliate_proven(agent, "73282932000074")
    affiliate_proven(agent, "73282932000074")
    assert Affiliation.objects.count() == 1
    assert AuditEvent.objects.filter(action="organisation.affiliated").count() == 1


@pytest.mark.parametrize("siret", ["12345678901234", "7328293200007", "<script>", ""])
def test_affiliate_proven_refuses_an_invalid_siret_and_writes_nothing(siret):
    with pytest.raises(MembershipRefused) as refused:
        affiliate_proven(make_user("agent@example.gouv.fr"), siret)
    assert refused.value.field == "siret"
    assert not Organisation.objects.exists()
    assert not Affiliation.objects.exists()
