"""A GET never writes: reading every page of the applicant portal leaves the database as it was.

The workspace used to create the hybridisation profile of a dossier that had none, on every
page. A dossier made before profiles existed, or in bulk, has none."""

import pytest
from django.test import Client

from guichet.dossiers import membership
from guichet.dossiers.models import DossierAnswers
from tests.factories import (
    database_state,
    decided_dossier,
    lead_and_member,
    make_dossier,
    make_user,
    portal_addresses,
)

pytestmark = pytest.mark.django_db


def test_get_of_every_portal_page_leaves_the_database_unchanged(open_call, example_document):
    draft, decided = make_dossier(example_document), decided_dossier(open_call,
                                                                     example_document)
    people = [*lead_and_member(draft), *lead_and_member(decided)]
    invitation = membership.invite_member(draft, "invitee@example.fr", people[0])
    invitee = make_user("invitee@example.fr")
    DossierAnswers.objects.filter(dossier__in=[draft, decided]).delete()  # made without any
    browsers = {person: Client() for person in [*people, invitee]}
    for person, browser in browsers.items():
        browser.force_login(person)  # signing in writes (last login): done before
    before = database_state()
    for person, dossier in zip(people, [draft, draft, decided, decided], strict=True):
        for address in [*portal_addresses(dossier), "/espace/"]:
            assert browsers[person].get(address).status_code in (200, 404), address
    assert browsers[invitee].get(f"/invitations/{invitation.token}/").status_code == 200
    assert database_state() == before


def test_section_page_of_a_dossier_without_answers_saves_on_first_post(
        client, open_call, example_document):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    DossierAnswers.objects.filter(dossier=dossier).delete()
    client.force_login(lead)
    url = f"/dossiers/{dossier.pk}/etape/hybridation/"
    assert 'name="version" value="1"' in client.get(url).content.decode()
    assert not DossierAnswers.objects.filter(dossier=dossier).exists()
    client.post(url, {"version": 1, "synchronous_share": 40, "asynchronous_share": 60})
    answers = DossierAnswers.objects.get(dossier=dossier)
    assert answers.values == {"synchronous_share": 40, "asynchronous_share": 60}
    assert answers.version == 2
