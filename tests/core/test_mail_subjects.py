"""A line break in a project title broke every mail naming it (Django refuses a subject with a
newline): the invitation failed with a 500 and the receipt mail was silently dropped. Mail
subjects are made safe in one place, and single-line fields refuse control characters."""

import ast
from pathlib import Path

import pytest

from guichet.core.errors import ServiceError
from guichet.core.text import mail_subject
from guichet.dossiers import editing, membership
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from tests.factories import fresh_siret, lead_and_member, make_dossier, make_user

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2] / "guichet"
BROKEN_TITLE = "Campus hybride\r\ndes métiers\tdu bâtiment"
TITLE_ERROR = ("« Titre du projet » doit tenir sur une ligne : retirez les retours à la ligne, "
               "tabulations et autres caractères de contrôle.")


def test_title_with_crlf_invitation_and_receipt_mails_delivered_on_one_line(
        client, open_call, example_document, mailoutbox, django_capture_on_commit_callbacks):
    dossier = make_dossier(example_document)
    Dossier.objects.filter(pk=dossier.pk).update(title=BROKEN_TITLE)  # recorded before the fix
    dossier.refresh_from_db()
    lead, _member = lead_and_member(dossier)
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dossiers/{dossier.pk}/etape/consortium/",
                               {"email": "partenaire@example.fr"})
        submit(dossier, by=lead)
    assert response.status_code == 302
    invitation, receipt = mailoutbox
    assert invitation.to == ["partenaire@example.fr"]
    assert invitation.subject == ("Invitation à rejoindre le consortium « Campus hybride des "
                                  "métiers du bâtiment »")
    assert receipt.subject.startswith("Accusé de réception DEFFINUM-")
    assert receipt.subject.endswith(" — Campus hybride des métiers du bâtiment")
    for mail in mailoutbox:
        assert "\n" not in mail.subject
        assert "\r" not in mail.subject
        assert mail.message()["Subject"]  # builds: Django refuses a subject with a newline


def test_mail_subject_collapses_line_breaks_tabs_and_control_characters():
    assert mail_subject("  Titre\r\nsur\n\ndeux\tlignes\x00 et\u2028plus  ") \
        == "Titre sur deux lignes et plus"
    assert mail_subject("Accusé de réception — « Projet »") == "Accusé de réception — « Projet »"


def _subject_argument(call: ast.Call):
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "subject"), None)


def test_every_mail_subject_goes_through_mail_subject():
    unsafe = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name not in ("send_mail", "EmailMessage", "EmailMultiAlternatives"):
                continue
            subject = _subject_argument(call)
            if not (isinstance(subject, ast.Call)
                    and getattr(subject.func, "id", "") == "mail_subject"):
                unsafe.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
    assert unsafe == []


def test_title_with_line_break_refused_on_input_naming_the_field(client, open_call,
                                                                 example_document):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    with pytest.raises(ServiceError) as refused:
        editing.update_project(dossier, lead, dossier.version, {"title": BROKEN_TITLE})
    assert (refused.value.message, refused.value.field) == (TITLE_ERROR, "title")
    client.force_login(lead)
    page = client.post(f"/dossiers/{dossier.pk}/etape/projet/",
                       {"version": dossier.version, "title": BROKEN_TITLE}).content.decode()
    assert "« Titre du projet » doit tenir sur une ligne" in page
    dossier.refresh_from_db()
    assert dossier.title == example_document["title"]


def test_start_dossier_with_a_line_break_in_its_title_is_refused(client, open_call):
    user = make_user("cheffe@example.fr")
    organisation = membership.register_organisation(user, fresh_siret(), "Réseau Sud")
    with pytest.raises(ServiceError) as refused:
        membership.start_dossier(user, open_call, organisation, "training_network",
                                 "Projet\nSud")
    assert (refused.value.message, refused.value.field) == (TITLE_ERROR, "title")
    client.force_login(user)
    page = client.post("/espace/dossiers/", {"organisation": organisation.pk,
                                    "kind": "training_network",
                                    "title": "Projet\tSud"}).content.decode()
    assert "« Titre du projet » doit tenir sur une ligne" in page
    assert not Dossier.objects.exists()
