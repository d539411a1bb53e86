"""A shared cache (proxy, CDN) or the browser's disk keeping what one signed-in person saw:
every page and file served to a signed-in person says `Cache-Control: private, no-store`."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils.cache import get_max_age

from guichet.dossiers.services import submit
from guichet.review.models import Role
from tests.factories import lead_and_member, make_dossier, staff

pytestmark = pytest.mark.django_db
IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.fixture
def submitted(deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)
    return dossier


def _applicant_urls(dossier) -> list[str]:
    document = dossier.documents.order_by("pk").first()
    return ["/espace/", f"/dossiers/{dossier.pk}/", f"/dossiers/{dossier.pk}/etape/depot/",
            f"/dossiers/{dossier.pk}/accuse/", f"/dossiers/{dossier.pk}/accuse.pdf",
            f"/dossiers/{dossier.pk}/budget.xlsx", f"/dossiers/{dossier.pk}/budget.ods",
            f"/dossiers/{dossier.pk}/pieces/{document.pk}/"]


def test_private_pages_cached_by_shared_cache_applicant_pages_and_files(client, submitted):
    lead, _member = lead_and_member(submitted)
    client.force_login(lead)
    for url in _applicant_urls(submitted):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= _cache_control(response), url
        assert "public" not in _cache_control(response), url


def test_private_pages_cached_by_shared_cache_staff_pages_and_exports(client, deffinum,
                                                                      submitted):
    client.force_login(staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR))
    document = submitted.documents.order_by("pk").first()
    for url in ["/instruction/", "/instruction/appels/deffinum/dossiers/",
                "/instruction/appels/deffinum/dossiers/?export=csv",
                "/instruction/appels/deffinum/dossiers/?export=xlsx",
                "/instruction/appels/deffinum/dossiers/export/?format=ods",
                f"/instruction/dossiers/{submitted.pk}/",
                f"/instruction/dossiers/{submitted.pk}/pieces/{document.pk}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= _cache_control(response), url


def test_private_pages_cached_by_shared_cache_public_page_stays_cacheable(client, deffinum):
    """Anonymous public pages are not marked: the header is about a person, not every page."""
    response = client.get("/")
    assert response.status_code == 200
    assert "no-store" not in _cache_control(response)
    assert get_max_age(response) is None
