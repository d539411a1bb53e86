"""A funder's administrator copies Deffinum in the call editor, lowers the aid cap from 70 % to
60 %, adds a text question to the hybridation section, previews the applicant's form and
publishes the copy; the definition downloaded from the editor, given to `guichet check --call`,
gives a dossier asking 65 % aid the platform's own verdict (not eligible: aid_cap fails). On a
desktop and on a 390 px phone; every page passes axe.

Then the applicant's side: a consortium's lead opens its dossier of the new call, finds the
added question on the hybridation step, answers it, and the page's verdict refuses the 65 %
aid under the new cap, as `guichet check` did.
"""

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from guichet.calls.models import Call, CallDefinitionVersion
from guichet.dossiers.models import DossierAnswers
from guichet.review.models import Role
from guichet.rules.dossier import parse_dossier
from guichet.rules.eligibility import evaluate
from tests.e2e.conftest import click_through, log_in, visit
from tests.e2e.test_mobile import on_phone
from tests.factories import give_roles, lead_and_member, make_dossier, make_user

pytestmark = pytest.mark.e2e
PASSWORD = "Formation-Hybride-2021!"
GUICHET = str(Path(sys.executable).parent / "guichet")
CODE = "deffinum-2027"
RULES_VERSION = "deffinum-2027.1"
QUESTION_LABEL = "Question ajoutée"


@dataclass
class PublishedCopy:
    """What the editor's journey leaves: the new call, the page of its administrator, the
    TOML downloaded from the editor, and how `check` shows pages (desktop or phone)."""

    call: Call
    page: object
    toml: Path
    check: object


def _fill_question(form) -> None:
    form.get_by_label("Identifiant de la question").fill("question_ajoutee")
    form.get_by_label("Libellé de la question").fill(QUESTION_LABEL)
    form.locator("input[name$='-label_en']").fill("Added question")
    form.locator("select[name$='-type']").select_option(label="Texte")


def copy_edit_and_publish(page, base: str, check, download_dir: Path) -> Path:
    """The administrator's journey in the editor, from the back office's home to the versions
    page of the published copy; returns the TOML downloaded there."""
    page.goto(f"{base}/instruction/")
    click_through(page.get_by_role("link", name="Éditeur d'appels"))
    check(page, "call editor")
    click_through(page.get_by_role("link", name="Copier Deffinum"))
    form = page.get_by_test_id("copy-form")
    form.get_by_label("Identifiant du nouvel appel").fill(CODE)
    form.locator("#id_name").fill("Deffinum 2027")
    form.get_by_label("Nom en anglais").fill("Deffinum 2027")
    click_through(form.get_by_role("button", name="Créer la copie"))
    expect(page.get_by_text("Copie créée : c'est un brouillon.")).to_be_visible()
    check(page, "draft")

    eligibility = page.get_by_test_id("form-eligibility")
    eligibility.get_by_label("Taux d'aide maximal").fill("1,5")
    click_through(eligibility.get_by_role("button", name="Enregistrer l'éligibilité"))
    expect(page.get_by_test_id("form-eligibility")).to_contain_text(
        "taux d'aide maximal : doit être un taux supérieur à 0 et au plus 1")
    check(page, "draft refused rate")
    eligibility = page.get_by_test_id("form-eligibility")
    eligibility.get_by_label("Taux d'aide maximal").fill("0,60")
    click_through(eligibility.get_by_role("button", name="Enregistrer l'éligibilité"))
    expect(page.get_by_text("Brouillon enregistré.")).to_be_visible()

    question = page.get_by_test_id("form-new-question-hybridation")
    _fill_question(question)
    click_through(question.get_by_role("button", name="Ajouter la question"))
    expect(page.get_by_test_id("section-hybridation")).to_contain_text(QUESTION_LABEL)

    click_through(page.get_by_role("link", name="Prévisualiser le formulaire"))
    expect(page.get_by_test_id("preview-question-question_ajoutee")).to_contain_text(
        f"{QUESTION_LABEL} — Texte")
    check(page, "preview")
    click_through(page.get_by_role("link", name="Retour au brouillon"))

    click_through(page.get_by_role("link", name="Publier", exact=True))
    changes = page.get_by_test_id("publish-changes")
    expect(changes).to_contain_text("eligibility.aid_cap_rate")
    expect(changes).to_contain_text("sections[hybridation].questions[question_ajoutee]")
    check(page, "publish")
    form = page.get_by_test_id("publish-form")
    form.get_by_label("Nouvelle version des règles").fill(RULES_VERSION)
    click_through(form.get_by_role("button", name="Publier cette version"))
    expect(page.get_by_text(f"Version {RULES_VERSION} publiée.")).to_be_visible()
    expect(page.get_by_test_id(f"version-{RULES_VERSION}")).to_contain_text("en vigueur")
    check(page, "versions")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la définition en vigueur (TOML)").click()
    path = download_dir / download.value.suggested_filename
    download.value.save_as(path)
    return path


@pytest.fixture(params=[False, True], ids=["desktop", "phone"])
def published_copy(request, new_page, live_server, deffinum_open, tmp_path):
    """Deffinum (its second wave open today) copied, edited and published from the editor by
    its administrator, on a desktop or a phone."""
    mobile = request.param
    admin = make_user("administratrice@deffinum.example.fr")
    give_roles(admin, deffinum_open, Role.ADMINISTRATOR)
    page = new_page(mobile=mobile)
    check = on_phone if mobile else visit
    log_in(page, live_server.url, admin.email, PASSWORD)
    toml = copy_edit_and_publish(page, live_server.url, check, tmp_path)
    return PublishedCopy(Call.objects.get(code=CODE), page, toml, check)


def _asking_65_percent(example_document: dict) -> dict:
    """The contract's example (800 000 € of eligible expenses) for the copy, asking 520 000 €
    of aid (65 %), the rest own cash and in kind."""
    document = copy.deepcopy(example_document)
    members = [member["siret"] for member in document["members"]]
    document["call"] = CODE
    document["financing"] = [
        {"source": "aid", "amount": "520000.00"},
        {"source": "own_cash", "member": members[0], "amount": "210000.00"},
        {"source": "own_in_kind", "member": members[1], "amount": "70000.00"}]
    return document


def test_administrator_copies_edits_previews_and_publishes_a_call(
        published_copy, deffinum_open, example_document, tmp_path, new_page, live_server):
    call = published_copy.call
    rules = call.rules()
    assert call.rules_version == RULES_VERSION
    assert str(rules.eligibility.aid_cap_rate) == "0.60"
    added = next(q for q in rules.sections[0].questions if q.id == "question_ajoutee")
    assert (added.type, added.label, added.label_en) == ("text", QUESTION_LABEL,
                                                         "Added question")
    assert str(deffinum_open.rules().eligibility.aid_cap_rate) == "0.70"
    stored = CallDefinitionVersion.objects.get(call=call)
    assert stored.published_by.email == "administratrice@deffinum.example.fr"
    assert stored.source == published_copy.toml.read_text(encoding="utf-8")

    document = _asking_65_percent(example_document)
    dossier_file = tmp_path / "dossier.json"
    dossier_file.write_text(json.dumps(document), encoding="utf-8")
    done = subprocess.run([GUICHET, "check", str(dossier_file), "--call",
                           str(published_copy.toml)], capture_output=True, text=True,
                          timeout=120, check=False)
    platform = evaluate(parse_dossier(json.dumps(document).encode()), call.rules())
    assert json.loads(done.stdout) == platform.to_dict()
    assert done.returncode == 1
    # 65 % is above the new 60 % cap; the co-financing (35 %) is also below its floor, the
    # complement of the cap (40 %).
    assert platform.failed == ["aid_cap", "cofinancing"]
    under_the_source = evaluate(parse_dossier(json.dumps(dict(
        document, call="deffinum")).encode()), deffinum_open.rules())
    assert under_the_source.eligible

    # The applicant of a dossier of the new call sees the added question and the new cap.
    dossier = make_dossier(document)
    lead, _member = lead_and_member(dossier)
    applicant = new_page(mobile=published_copy.check is on_phone)
    log_in(applicant, live_server.url, lead.email, PASSWORD)
    applicant.goto(f"{live_server.url}/dossiers/{dossier.pk}/etape/hybridation/")
    answer = applicant.get_by_test_id("section-form").get_by_label(QUESTION_LABEL)
    expect(answer).to_be_visible()
    answer.fill("Une réponse à la question ajoutée")
    click_through(applicant.get_by_test_id("section-form").get_by_role(
        "button", name="Enregistrer"))
    assert DossierAnswers.objects.get(dossier=dossier).values == {
        "question_ajoutee": "Une réponse à la question ajoutée"}
    expect(applicant.locator('aside#verdict li[data-rule="aid_cap"][data-ok=false]')) \
        .to_be_visible()
    expect(applicant.locator('aside#verdict li[data-rule="cofinancing"][data-ok=false]')) \
        .to_be_visible()
    published_copy.check(applicant, "applicant-added-question")
