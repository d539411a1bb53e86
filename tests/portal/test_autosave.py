"""Saving as one types never loses anything: when a field is invalid, the valid ones are saved,
the invalid one keeps what was typed and says why, next to it."""

import datetime as dt

import pytest

from guichet.calls.services import load_call
from guichet.dossiers.models import Dossier, DossierAnswers
from tests.conftest import DEFFINUM_TOML
from tests.factories import lead_and_member, make_dossier
from tests.html import one

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TOO_LONG = "Assurez-vous que cette valeur est inférieure ou égale à 120."


@pytest.fixture
def dossier(example_document):
    load_call(DEFFINUM_TOML, demo_today=dt.date.today())
    return make_dossier(example_document)


@pytest.fixture
def lead(client, dossier):
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    return lead


@pytest.fixture
def indicator_ids(dossier) -> tuple[str, str]:
    indicators = [indicator.id for indicator in dossier.call.rules().indicators]
    return indicators[0], indicators[1]


def _project(dossier, **changes) -> dict:
    fields = {"title": dossier.title, "summary": dossier.summary, "scope": dossier.scope,
              "pooling_commitment": "on", "start_date": dossier.start_date.isoformat(),
              "duration_months": dossier.duration_months, "version": dossier.version}
    return {**fields, **changes}


def _error_next_to(page: str, field_id: str) -> str:
    return one(page, f'[data-error-for="{field_id}"]').get("data-message")


def test_autosave_saves_valid_fields_when_another_is_invalid(client, dossier, lead):
    url = f"/dossiers/{dossier.pk}/etape/projet/"
    duration = dossier.duration_months
    response = client.post(url, _project(dossier, title="Campus hybride (v2)",
                                         duration_months="500"), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    saved = Dossier.objects.get(pk=dossier.pk)
    assert (saved.title, saved.duration_months) == ("Campus hybride (v2)", duration)
    assert saved.version == dossier.version + 1
    assert _error_next_to(page, "id_duration_months") == TOO_LONG
    assert 'name="duration_months" value="500"' in page  # what was typed stays
    assert f'name="version" value="{saved.version}"' in page  # the next save goes on from here
    assert "Enregistré, sauf les champs signalés" in page


def test_autosave_after_a_partial_save_goes_on_without_conflict(client, dossier, lead):
    url = f"/dossiers/{dossier.pk}/etape/projet/"
    client.post(url, _project(dossier, duration_months="500"), **HTMX)
    dossier.refresh_from_db()
    response = client.post(url, _project(dossier, duration_months="24"), **HTMX)
    assert "data-error-for" not in response.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).duration_months == 24


def test_save_button_also_keeps_the_valid_fields(client, dossier, lead):
    url = f"/dossiers/{dossier.pk}/etape/projet/"
    response = client.post(url, _project(dossier, title="Titre gardé", start_date="31/02/2027"))
    page = response.content.decode()
    assert response.status_code == 200  # shown again with its error, not redirected
    assert Dossier.objects.get(pk=dossier.pk).title == "Titre gardé"
    assert _error_next_to(page, "id_start_date") == "Saisissez une date valide."
    assert 'id="id_start_date-desc-error"' in page  # django-dsfr's error, in the field group


def test_autosave_hybrid_keeps_a_stored_target_typed_wrong(client, dossier, lead, indicator_ids):
    url = f"/dossiers/{dossier.pk}/etape/hybridation/"
    first, second = indicator_ids
    answers = DossierAnswers.objects.get(dossier=dossier)
    DossierAnswers.objects.filter(pk=answers.pk).update(
        values={"indicator_targets": {first: 100, second: 5}})
    response = client.post(url, {"version": answers.version, "synchronous_share": "30",
                                 "asynchronous_share": "70",
                                 f"indicator_targets__{first}": "-3",
                                 f"indicator_targets__{second}": "8"}, **HTMX)
    answers.refresh_from_db()
    assert answers.values == {"synchronous_share": 30, "asynchronous_share": 70,
                              "indicator_targets": {first: 100, second: 8}}
    page = response.content.decode()
    assert _error_next_to(page, f"id_indicator_targets__{first}") == (
        "Assurez-vous que cette valeur est supérieure ou égale à 0.")
