"""The archive pages of the back office: a dossier's ZIP, a wave's ZIP asked for and served."""

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.http import FileResponse

from guichet.dossiers import archives
from guichet.dossiers.models import WaveArchive
from guichet.dossiers.services import submit
from guichet.review.models import Role
from tests.factories import make_dossier, staff

pytestmark = pytest.mark.django_db
IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
LIST = "/instruction/appels/deffinum/dossiers/"


@pytest.fixture
def submitted(deffinum, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_ONE)
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def instructor(deffinum):
    return staff(deffinum, "instructrice@example.fr", Role.INSTRUCTOR)


@pytest.fixture
def built(submitted, instructor):
    archive = archives.request_wave_archive(submitted.wave, instructor)
    archives.build_wave_archive(archive.pk)
    archive.refresh_from_db()
    return archive


def test_dossier_archive_streamed_to_the_call_staff(client, submitted, instructor):
    client.force_login(instructor)

    response = client.get(f"/instruction/dossiers/{submitted.pk}/archive.zip")

    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/zip"
    assert f'filename="{submitted.receipt_number}.zip"' in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.getvalue())).namelist()
    assert {"resume.pdf", "accuse-de-reception.pdf", "manifeste.json"} <= set(names)


def test_dossier_archive_refused_to_staff_of_another_call(client, submitted, other_call):
    client.force_login(staff(other_call, "ailleurs@example.fr", Role.INSTRUCTOR))

    assert client.get(f"/instruction/dossiers/{submitted.pk}/archive.zip").status_code == 404


def test_dossier_archive_refused_to_an_expert_of_the_call(client, submitted, deffinum):
    client.force_login(staff(deffinum, "expert@example.fr", Role.EXPERT))

    assert client.get(f"/instruction/dossiers/{submitted.pk}/archive.zip").status_code == 404


def test_dossier_page_links_to_its_archive(client, submitted, instructor):
    client.force_login(instructor)

    page = client.get(f"/instruction/dossiers/{submitted.pk}/").content.decode()

    assert f'href="/instruction/dossiers/{submitted.pk}/archive.zip"' in page


def test_wave_archive_asked_from_the_list_shows_who_asked_while_pending(
        client, submitted, instructor):
    client.force_login(instructor)

    response = client.post(f"/instruction/appels/deffinum/vagues/{submitted.wave.code}/archive/")

    assert response.status_code == 302
    archive = WaveArchive.objects.get()
    assert archive.requested_by == instructor
    page = client.get(LIST).content.decode()
    assert "demandée par instructrice@example.fr" in page
    assert "en préparation" in page


def test_wave_archive_ready_is_offered_and_served(client, built, instructor):
    client.force_login(instructor)

    page = client.get(LIST).content.decode()
    response = client.get(f"/instruction/appels/deffinum/archives/{built.pk}/")

    assert f'href="/instruction/appels/deffinum/archives/{built.pk}/"' in page
    assert isinstance(response, FileResponse)
    assert "no-store" in response["Cache-Control"]
    assert zipfile.ZipFile(io.BytesIO(response.getvalue())).read("manifeste.json")


def test_wave_archive_download_refused_to_staff_of_another_call(client, built, other_call):
    client.force_login(staff(other_call, "ailleurs@example.fr", Role.INSTRUCTOR))

    assert client.get(f"/instruction/appels/deffinum/archives/{built.pk}/").status_code == 404
    theirs = f"/instruction/appels/{other_call.code}/archives/{built.pk}/"
    assert client.get(theirs).status_code == 404


def test_wave_archive_download_refused_to_an_expert(client, built, deffinum):
    client.force_login(staff(deffinum, "expert@example.fr", Role.EXPERT))

    assert client.get(f"/instruction/appels/deffinum/archives/{built.pk}/").status_code == 403


def test_wave_archive_not_ready_is_not_served(client, submitted, instructor):
    client.force_login(instructor)
    pending = archives.request_wave_archive(submitted.wave, instructor)

    assert client.get(f"/instruction/appels/deffinum/archives/{pending.pk}/").status_code == 404


def test_wave_archive_request_refused_to_an_expert(client, submitted, deffinum):
    client.force_login(staff(deffinum, "expert@example.fr", Role.EXPERT))

    response = client.post(f"/instruction/appels/deffinum/vagues/{submitted.wave.code}/archive/")

    assert response.status_code == 403
    assert not WaveArchive.objects.exists()
