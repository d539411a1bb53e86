"""A call's own texts for its mails: what may be written, who may write it, and that the mails
of the call then leave with it, in its language only."""

import json

import pytest

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.calls.models import CallMailText
from guichet.core.permissions import PermissionRefused
from guichet.core.text import TextRefused
from guichet.mails import custom
from guichet.mails.catalogue import send_notification
from guichet.notifications.kinds import Kind
from tests.factories import lead_and_member
from tests.review.test_services import submitted_dossier_in

CORRECTION = Kind.CORRECTION_REQUESTED
OWN_BODY = ("Bonjour,\n\nLe dossier {{ number }} doit être corrigé avant le {{ deadline }}.\n"
            "{{ points }}\n\nVotre chargée de mission Deffinum : {{ link }}")
CORRECTION_CONTEXT = {"deadline": "2021-09-20T12:00:00+02:00", "points": "- Annexe budgétaire"}


def test_mail_text_problem_none_for_variables_and_if_else():
    source = "{{ title }} {% if member %}pour {{ member }}{% else %}nouveau{% endif %}"
    assert custom.problem(source, custom.variables(Kind.INVITATION)) is None


@pytest.mark.parametrize(("source", "named"), [
    ("{{ budget }}", "« {{ budget }} » n'est pas une variable de ce courriel"),
    ("{{ title|upper }}", "« {{ title|upper }} »"),
    ("{{ title.__class__ }}", "« {{ title.__class__ }} »"),
    ("{% debug %}", "« {% debug %} » n'est pas permis"),
    ('{% include "/etc/passwd" %}', "« {% include \"/etc/passwd\" %} »"),
    ("{% load static %}", "« {% load static %} »"),
    ("{% if budget %}x{% endif %}", "« {% if budget %} »"),
    ("{% if title %}pas fermé", "Chaque « if » doit être fermé par un « endif »"),
])
def test_mail_text_problem_names_what_is_refused(source, named):
    assert named in custom.problem(source, custom.variables(Kind.INVITATION))


def test_variables_of_every_editable_mail_have_a_meaning_and_an_example():
    for kind in custom.EDITABLE:
        assert custom.variables(kind), kind
        assert set(custom.variables(kind)) <= set(custom.VARIABLES), kind


def test_variables_of_a_mail_are_those_of_the_platform_texts():
    assert custom.variables(CORRECTION) == ("deadline", "link", "number", "points")


def test_preview_fills_variables_with_examples():
    written = custom.Text("Dossier {{ number }}", "Avant le {{ deadline }}")
    shown = custom.preview(CORRECTION, written)
    assert shown == custom.Text("Dossier DEF-2026-000123", "Avant le 15/09/2026 à 12:00:00")


@pytest.mark.django_db
def test_save_text_records_the_text_and_an_audit_event(deffinum, team):
    custom.save_text(deffinum, CORRECTION, "fr", "Corrections : {{ number }}", OWN_BODY,
                     team["admin"])
    row = CallMailText.objects.get()
    assert (row.call, row.kind, row.language, row.updated_by) == (
        deffinum, "correction_requested", "fr", team["admin"])
    event = AuditEvent.objects.get(action=AuditAction.CALL_MAIL_TEXT_SAVED)
    assert json.loads(event.details) == {"kind": "correction_requested", "language": "fr"}


@pytest.mark.django_db
@pytest.mark.parametrize(("subject", "body", "field"), [
    ("Corrections\r\nBcc: tous@example.fr", OWN_BODY, "subject"),
    ("Corrections", "Bonjour\x00", "body"),
    ("Corrections", "{% debug %}", "body"),
    ("{{ budget }}", OWN_BODY, "subject"),
    ("", OWN_BODY, "subject"),
    ("Corrections", "x" * 10_001, "body"),
])
def test_save_text_refuses_hostile_text_and_writes_nothing(deffinum, team, subject, body, field):
    with pytest.raises((custom.MailTextRefused, TextRefused)) as refused:
        custom.save_text(deffinum, CORRECTION, "fr", subject, body, team["admin"])
    assert refused.value.field == field
    assert not CallMailText.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CALL_MAIL_TEXT_SAVED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["instructor", "committee"])
def test_save_text_refused_to_staff_who_do_not_administer_the_call(deffinum, team, role):
    with pytest.raises(PermissionRefused):
        custom.save_text(deffinum, CORRECTION, "fr", "Objet", OWN_BODY, team[role])
    assert not CallMailText.objects.exists()


@pytest.mark.django_db
def test_save_text_refuses_the_daily_digest_which_belongs_to_no_call(deffinum, team):
    with pytest.raises(custom.MailTextRefused):
        custom.save_text(deffinum, Kind.DAILY_DIGEST, "fr", "Objet", "{{ day }}", team["admin"])


@pytest.mark.django_db
def test_mail_of_the_call_leaves_with_its_text_in_its_language_only(
        deffinum, team, example_document, mailoutbox):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    User.objects.filter(pk=lead.pk).update(language="en")
    custom.save_text(deffinum, CORRECTION, "fr", "À corriger : {{ number }}", OWN_BODY,
                     team["admin"])
    mailoutbox.clear()
    send_notification(CORRECTION, {"dossier": dossier.pk, **CORRECTION_CONTEXT})
    french = next(mail for mail in mailoutbox if mail.to == [member.email])
    english = next(mail for mail in mailoutbox if mail.to == [lead.email])
    assert french.subject == f"À corriger : {dossier.receipt_number}"
    assert french.body.startswith(f"Bonjour,\n\nLe dossier {dossier.receipt_number} doit être "
                                  "corrigé avant le 20/09/2021 à 12:00:00")
    assert "- Annexe budgétaire" in french.body
    assert "Votre chargée de mission Deffinum : http" in french.body
    assert english.subject == f"Corrections requested on your application {dossier.receipt_number}"


@pytest.mark.django_db
def test_mail_of_another_call_keeps_the_platform_text(deffinum, other_call, team,
                                                      example_document, mailoutbox):
    custom.save_text(deffinum, CORRECTION, "fr", "À corriger : {{ number }}", OWN_BODY,
                     team["admin"])
    CallMailText.objects.update(call=other_call)
    dossier = submitted_dossier_in(example_document)
    lead_and_member(dossier)
    mailoutbox.clear()
    send_notification(CORRECTION, {"dossier": dossier.pk, **CORRECTION_CONTEXT})
    [mail] = mailoutbox
    assert mail.subject == f"Corrections demandées sur votre dossier {dossier.receipt_number}"


@pytest.mark.django_db
def test_reset_text_brings_back_the_platform_text(deffinum, team):
    custom.save_text(deffinum, CORRECTION, "fr", "À corriger", OWN_BODY, team["admin"])
    assert custom.reset_text(deffinum, CORRECTION, "fr", team["admin"]) is True
    assert custom.current_text(deffinum.pk, CORRECTION, "fr") == custom.default_text(
        CORRECTION, "fr")
    assert AuditEvent.objects.filter(action=AuditAction.CALL_MAIL_TEXT_RESET).count() == 1
    assert custom.reset_text(deffinum, CORRECTION, "fr", team["admin"]) is False
