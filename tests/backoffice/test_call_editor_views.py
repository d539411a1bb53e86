"""The call editor's pages: an administrator copies a call, edits it part by part (a refused
value is shown on its field and nothing is saved), previews and publishes it; the history and
the TOML download; nobody else reaches any of it."""

import re
import tomllib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guichet.calls.editor import open_copy
from guichet.calls.models import Call, CallDraft
from guichet.review.models import Role
from tests.factories import make_user, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(deffinum):
    return staff(deffinum, "admin@deffinum.example.fr", Role.ADMINISTRATOR)


@pytest.fixture
def draft(client, admin, deffinum):
    client.force_login(admin)
    response = client.post("/instruction/appels/deffinum/copie/", {
        "code": "deffinum-bis", "name": "Deffinum bis", "name_en": "Deffinum bis"})
    assert response.status_code == 302
    return CallDraft.objects.get()


def field_error(page: str, field_id: str) -> str:
    """The error shown under the field of id `field_id` ("" when there is none)."""
    found = re.search(rf'<div id="{re.escape(field_id)}-desc-error">(.*?)</div>', page, re.S)
    return " ".join(found.group(1).split()) if found else ""


def _eligibility(draft, **changes) -> dict:
    values = dict(draft.definition["eligibility"], **changes)
    data = {f"eligibilite-{key}": value for key, value in values.items()
            if key in ("min_members", "leads", "max_duration_months", "first_results_month",
                       "minimum_base", "aid_cap_rate", "in_kind_cap_rate")}
    data["eligibilite-allowed_scopes"] = values["allowed_scopes"]
    data["eligibilite-pooling_required"] = "on"
    data["eligibilite-version"] = draft.version
    return data


def test_editor_home_lists_the_calls_an_administrator_may_change(client, admin, other_call):
    client.force_login(admin)
    page = client.get("/instruction/editeur/").content.decode()
    assert "/instruction/appels/deffinum/copie/" in page
    assert other_call.code + "/copie/" not in page
    assert "/instruction/editeur/" in client.get("/instruction/").content.decode()


def test_editor_home_link_hidden_from_an_instructor(client, deffinum):
    client.force_login(staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR))
    assert "/instruction/editeur/" not in client.get("/instruction/").content.decode()
    assert client.get("/instruction/editeur/").status_code == 403


def test_copy_page_creates_a_draft_and_shows_it(client, draft):
    page = client.get(f"/instruction/brouillons/{draft.pk}/").content.decode()
    assert "Copie de « Deffinum" in page
    assert not Call.objects.filter(code="deffinum-bis").exists()


def test_copy_page_with_a_taken_code_says_so_on_the_field(client, admin, deffinum):
    client.force_login(admin)
    response = client.post("/instruction/appels/deffinum/copie/", {
        "code": "deffinum", "name": "Copie", "name_en": "Copy"})
    assert "est déjà celui d&#x27;un appel" in response.content.decode()
    assert not CallDraft.objects.exists()


def test_edit_eligibility_valid_rate_saved(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/eligibilite/",
                           _eligibility(draft, aid_cap_rate="0,60"))
    assert response.status_code == 302
    assert CallDraft.objects.get().definition["eligibility"]["aid_cap_rate"] == "0.60"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("aid_cap_rate", "1,5", "Éligibilité › taux d&#x27;aide maximal : doit être un taux"),
    ("aid_cap_rate", "=cmd|calc", "Saisissez un nombre décimal"),
    ("aid_cap_rate", "1e400", "Saisissez un nombre décimal"),
    ("in_kind_cap_rate", "0\x00", "Saisissez un nombre décimal"),
    ("min_members", "99999999999999999999999", "inférieure ou égale à 10000"),
    ("first_results_month", "40", "ne doit pas dépasser la durée maximale"),
    ("minimum_base", "NaN", "Saisissez un montant positif"),
])
def test_edit_eligibility_hostile_value_refused_on_its_field(client, draft, field, value,
                                                              message):
    response = client.post(f"/instruction/brouillons/{draft.pk}/eligibilite/",
                           _eligibility(draft, **{field: value}))
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), f"id_eligibilite-{field}")
    again = CallDraft.objects.get()
    assert (again.version, again.definition) == (draft.version, draft.definition)


def test_edit_general_name_with_a_nul_refused(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/general/", {
        "general-name": "Deffinum\x00", "general-name_en": "x", "general-funder": "x",
        "general-operator": "x", "general-version": draft.version})
    assert response.status_code == 200
    assert CallDraft.objects.get().definition["name"] == "Deffinum bis"


def test_edit_on_a_stale_version_says_so(client, draft):
    client.post(f"/instruction/brouillons/{draft.pk}/eligibilite/",
                _eligibility(draft, aid_cap_rate="0,60"))
    response = client.post(f"/instruction/brouillons/{draft.pk}/eligibilite/",
                           _eligibility(draft, aid_cap_rate="0,50"))
    assert "modifié entre-temps" in response.content.decode()
    assert CallDraft.objects.get().definition["eligibility"]["aid_cap_rate"] == "0.60"


def test_add_question_then_preview_shows_it_with_its_choices(client, draft):
    response = client.post(
        f"/instruction/brouillons/{draft.pk}/question-ajout/hybridation/", {
            "question-ajout-hybridation-version": draft.version,
            "question-ajout-hybridation-id": "format",
            "question-ajout-hybridation-label": "Format des sessions",
            "question-ajout-hybridation-label_en": "Session format",
            "question-ajout-hybridation-type": "choice",
            "question-ajout-hybridation-required": "on",
            "question-ajout-hybridation-choices": "court ; Court ; Short\nlong ; Long ; Long"})
    assert response.status_code == 302
    page = client.get(f"/instruction/brouillons/{draft.pk}/apercu/").content.decode()
    assert "Format des sessions" in page
    assert "<li>Court</li>" in page


def test_add_choice_question_without_choices_refused_on_choices(client, draft):
    response = client.post(
        f"/instruction/brouillons/{draft.pk}/question-ajout/hybridation/", {
            "question-ajout-hybridation-version": draft.version,
            "question-ajout-hybridation-id": "format",
            "question-ajout-hybridation-label": "Format",
            "question-ajout-hybridation-label_en": "Format",
            "question-ajout-hybridation-type": "choice"})
    assert "une question à choix, et elle seule, liste ses choix" in field_error(
        response.content.decode(), "id_question-ajout-hybridation-choices")
    assert CallDraft.objects.get().version == draft.version


def test_remove_published_wave_of_a_revision_refused_in_an_alert(client, admin, deffinum):
    client.force_login(admin)
    client.post("/instruction/appels/deffinum/nouvelle-version/")
    revision = CallDraft.objects.get()
    response = client.post(f"/instruction/brouillons/{revision.pk}/vague-retrait/w1/",
                           {"vague-retrait-version": revision.version})
    page = response.content.decode()
    assert 'data-testid="change-refused"' in page
    assert "La vague « w1 » est publiée" in page
    assert len(CallDraft.objects.get().definition["waves"]) == 3


def test_publish_page_shows_the_diff_then_publishes(client, draft):
    client.post(f"/instruction/brouillons/{draft.pk}/eligibilite/",
                _eligibility(draft, aid_cap_rate="0,60"))
    page = client.get(f"/instruction/brouillons/{draft.pk}/publication/").content.decode()
    assert "eligibility.aid_cap_rate" in page
    response = client.post(f"/instruction/brouillons/{draft.pk}/publication/", {
        "version": draft.version + 1, "rules_version": "bis-2026.1"})
    assert response.status_code == 302
    assert response["Location"] == "/instruction/appels/deffinum-bis/versions/"
    history = client.get(response["Location"]).content.decode()
    assert "bis-2026.1" in history
    assert "eligibility.aid_cap_rate" in history
    assert "Modifications par rapport à l'appel copié, « Deffinum" in history


def test_export_downloads_toml_that_reads_back(client, admin, deffinum):
    client.force_login(admin)
    response = client.get("/instruction/appels/deffinum/definition.toml")
    assert response["Content-Type"] == "application/toml; charset=utf-8"
    assert tomllib.loads(response.content.decode())["id"] == "deffinum"


EDITOR_URLS = ["/instruction/appels/deffinum/copie/", "/instruction/appels/deffinum/versions/",
               "/instruction/appels/deffinum/definition.toml"]


@pytest.mark.parametrize("url", EDITOR_URLS)
def test_editor_pages_of_a_call_other_funder_404(client, deffinum, other_call, url):
    client.force_login(staff(other_call, "admin@region.example.fr", Role.ADMINISTRATOR))
    assert client.get(url).status_code == 404


def test_draft_pages_other_funder_404_and_nothing_written(client, draft, other_call):
    client.force_login(staff(other_call, "admin@region.example.fr", Role.ADMINISTRATOR))
    for url in (f"/instruction/brouillons/{draft.pk}/",
                f"/instruction/brouillons/{draft.pk}/apercu/",
                f"/instruction/brouillons/{draft.pk}/publication/"):
        assert client.get(url).status_code == 404
    response = client.post(f"/instruction/brouillons/{draft.pk}/publication/", {
        "version": draft.version, "rules_version": "vol"})
    assert response.status_code == 404
    assert not Call.objects.filter(code="deffinum-bis").exists()


def test_superuser_may_open_the_editor_of_any_call(client, deffinum):
    root = make_user("root@example.fr")
    root.is_superuser = True
    root.save()
    client.force_login(root)
    assert client.get("/instruction/appels/deffinum/copie/").status_code == 200


def test_edit_of_a_wave_gone_meanwhile_says_so_at_the_top(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/vague/w9/", {
        "vague-w9-version": draft.version, "vague-w9-name": "x", "vague-w9-name_en": "x",
        "vague-w9-opens_at": "2030-01-01T00:00", "vague-w9-closes_at": "2030-02-01T00:00"})
    page = response.content.decode()
    assert 'data-testid="change-refused"' in page
    assert "Cet élément n&#x27;existe plus dans le brouillon" in page


@pytest.mark.parametrize("url", ["inconnu/", "question-ajout/", "question-retrait/hybridation/",
                                 "vague-retrait/w9/", "section-retrait/nulle/"])
def test_edit_with_a_url_naming_nothing_is_never_a_500(client, draft, url):
    response = client.post(f"/instruction/brouillons/{draft.pk}/{url}",
                           {"version": draft.version})
    assert response.status_code in (200, 404)
    assert CallDraft.objects.get().version == draft.version


def test_discard_button_deletes_the_draft(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/abandon/",
                           {"abandon-version": draft.version})
    assert response["Location"] == "/instruction/editeur/"
    assert not CallDraft.objects.exists()


def _new_section(draft, section_id: str, question_id: str) -> dict:
    fields = {"version": draft.version, "section_id": section_id, "section_label": "Impact",
              "section_label_en": "Impact", "id": question_id, "label": "Effets attendus",
              "label_en": "Expected effects", "type": "text"}
    return {f"section-ajout-{key}": value for key, value in fields.items()}


def test_add_section_with_its_first_question(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/section-ajout/",
                           _new_section(draft, "impact", "effets"))
    assert response.status_code == 302
    sections = CallDraft.objects.get().definition["sections"]
    assert [s["id"] for s in sections] == ["hybridation", "impact"]
    assert sections[1]["questions"][0]["label"] == "Effets attendus"


@pytest.mark.parametrize(("section_id", "question_id", "field", "message"), [
    ("hybridation", "effets", "section_id", "déjà utilisé ici"),
    ("budget", "effets", "section_id", "étape commune à tous les dossiers"),
    ("impact", "synchronous_share", "id", "en double"),
])
def test_add_section_refused_on_the_field_it_concerns(client, draft, section_id, question_id,
                                                      field, message):
    response = client.post(f"/instruction/brouillons/{draft.pk}/section-ajout/",
                           _new_section(draft, section_id, question_id))
    assert message in field_error(response.content.decode(), f"id_section-ajout-{field}")
    assert CallDraft.objects.get().version == draft.version


def test_export_file_name_keeps_only_safe_letters_of_the_rules_version(client, admin,
                                                                       deffinum):
    deffinum.rules_version = 'v"2 é\\x'
    deffinum.save(update_fields=["rules_version"])
    client.force_login(admin)
    response = client.get("/instruction/appels/deffinum/definition.toml")
    assert response["Content-Disposition"] == 'attachment; filename="deffinum-v_2_x.toml"'


def test_edit_programme_envelope_too_large_refused_on_its_field(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/programme/", {
        "programme-version": draft.version, "programme-id": "deffinum-bis",
        "programme-name": "P", "programme-name_en": "P",
        "programme-envelope": "1 000 000 000 000 000"})
    assert "Saisissez un montant positif" in field_error(response.content.decode(),
                                                         "id_programme-envelope")
    assert CallDraft.objects.get().version == draft.version


def test_edit_wave_date_out_of_range_refused_on_its_field(client, draft):
    response = client.post(f"/instruction/brouillons/{draft.pk}/vague/w1/", {
        "vague-w1-version": draft.version, "vague-w1-name": "Vague 1",
        "vague-w1-name_en": "Wave 1", "vague-w1-opens_at": "2021-06-01T00:00",
        "vague-w1-closes_at": "9999-12-31T23:59"})
    assert "Saisissez une date entre" in field_error(response.content.decode(),
                                                     "id_vague-w1-closes_at")
    assert CallDraft.objects.get().version == draft.version


def test_editor_home_queries_do_not_grow_with_drafts(client, admin, deffinum):
    client.force_login(admin)
    open_copy(deffinum, admin, code="copie-1", name="Copie 1", name_en="Copy 1")
    client.get("/instruction/editeur/")
    with CaptureQueriesContext(connection) as one:
        client.get("/instruction/editeur/")
    for n in range(2, 6):
        open_copy(deffinum, admin, code=f"copie-{n}", name=f"Copie {n}", name_en="Copy")
    with CaptureQueriesContext(connection) as five:
        page = client.get("/instruction/editeur/").content.decode()
    assert page.count("/instruction/brouillons/") == 5
    assert len(five.captured_queries) == len(one.captured_queries)
