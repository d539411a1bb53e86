"""Every mail and PDF writes instants in Paris time, with the offset, through one function;
links in mails follow SITE_URL, which `make run PORT=…` sets (issue 8, item 15)."""

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from guichet.core.clock import format_paris_instant
from guichet.dossiers.membership import invite_member
from guichet.dossiers.reminders import remind_drafts
from guichet.grants.agreement import sign_agreement
from guichet.grants.decisions import publish_decisions
from guichet.grants.documents import agreement_pdf
from guichet.grants.models import Grant
from guichet.mails.catalogue import send_notification
from guichet.notifications.kinds import Kind
from guichet.review.experts import invite_expert
from guichet.review.instruction import request_correction
from guichet.review.models import Role
from tests.factories import lead_and_member, make_dossier, make_user, staff
from tests.grants import test_grants as grants_helpers
from tests.grants.test_grants import SIGNED_AT, pdf_text
from tests.review.test_services import AFTER_WAVE_1, POINTS, submitted_dossier_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SITE = "http://127.0.0.1:8301"
# 24 September 2021, 09:00 UTC: 11:00 in Paris (summer time).
DEADLINE = dt.datetime(2021, 9, 24, 9, 0, tzinfo=dt.UTC)


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_format_paris_instant_names_paris_and_the_offset():
    assert format_paris_instant(DEADLINE) == "24/09/2021 à 11:00:00 (heure de Paris, UTC+02:00)"
    winter = dt.datetime(2021, 12, 30, 11, 0, tzinfo=dt.UTC)
    assert format_paris_instant(winter) == "30/12/2021 à 12:00:00 (heure de Paris, UTC+01:00)"


@override_settings(SITE_URL=SITE)
def test_correction_mail_gives_deadline_in_paris_time_and_site_link(
        deffinum, example_document, django_capture_on_commit_callbacks, mailoutbox):
    dossier = submitted_dossier_in(example_document)
    lead_and_member(dossier)
    instructor = staff(deffinum, "instructeur@example.fr", Role.INSTRUCTOR)
    with django_capture_on_commit_callbacks(execute=True):
        request_correction(dossier, instructor, POINTS, DEADLINE, now=AFTER_WAVE_1)
    [message] = mailoutbox
    assert "avant le 24/09/2021 à 11:00:00 (heure de Paris, UTC+02:00)" in message.body
    assert "UTC :" not in message.body
    assert "09:00" not in message.body
    assert links(message.body) == [f"{SITE}/dossiers/{dossier.pk}/etape/depot/"]


@override_settings(SITE_URL=SITE)
def test_receipt_mail_gives_receipt_instant_in_paris_time(deffinum, example_document,
                                                          mailoutbox):
    dossier = submitted_dossier_in(example_document)  # 31 August 2021, 11:00 in Paris
    lead_and_member(dossier)
    mailoutbox.clear()
    send_notification(Kind.RECEIPT, {"dossier": dossier.pk, "version": 1})
    [message] = mailoutbox
    assert "déposé le 31/08/2021 à 11:00:00 (heure de Paris, UTC+02:00)" in message.body


@override_settings(SITE_URL=SITE)
def test_draft_reminder_gives_closing_in_paris_time_and_site_link(
        deffinum, example_document, mailoutbox, django_capture_on_commit_callbacks):
    dossier = make_dossier(example_document)
    lead_and_member(dossier)
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves after commit
        remind_drafts(dt.datetime(2021, 8, 30, 12, 0, tzinfo=dt.UTC), days=3)
    [message] = mailoutbox
    closing = "31/08/2021 à 12:00:00 (heure de Paris, UTC+02:00)"
    assert closing in message.subject
    assert closing in message.body
    assert links(message.body) == [f"{SITE}/dossiers/{dossier.pk}/etape/depot/"]


@override_settings(SITE_URL=SITE)
def test_invitation_and_expert_mails_link_to_site_url(deffinum, example_document, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    dossier = make_dossier(example_document)
    lead, _member = lead_and_member(dossier)
    admin = staff(deffinum, "admin@example.fr", Role.ADMINISTRATOR)
    with django_capture_on_commit_callbacks(execute=True):  # the mails leave after commit
        invite_member(dossier, "nouveau@example.fr", lead)
        invite_expert(deffinum, "expert@example.fr", admin, sectors=["btp"])
    by_recipient = {message.to[0]: message for message in mailoutbox}
    invitation, expert = by_recipient["nouveau@example.fr"], by_recipient["expert@example.fr"]
    assert links(invitation.body)[0].startswith(f"{SITE}/invitations/")
    assert links(expert.body) == [f"{SITE}/comptes/password/reset/"]


@override_settings(SITE_URL=SITE)
def test_password_reset_mail_links_to_site_url_not_request_host(client, db, mailoutbox):
    make_user("oubli@example.fr")
    client.post("/comptes/password/reset/", {"email": "oubli@example.fr"})  # served as testserver
    [message] = mailoutbox
    assert links(message.body)
    assert all(link.startswith(f"{SITE}/comptes/") for link in links(message.body))


@override_settings(SITE_URL=SITE)
def test_signup_confirmation_mail_links_to_site_url(client, db, mailoutbox):
    client.post("/comptes/signup/", {"email": "nouvelle@example.fr",
                                     "password1": "Formation-Hybride-2021!",
                                     "password2": "Formation-Hybride-2021!"})
    [message] = mailoutbox
    assert [link for link in links(message.body) if "/comptes/confirm-email/" in link]
    assert all(link.startswith(SITE) for link in links(message.body))


def test_agreement_pdf_gives_signature_in_paris_time_whatever_the_active_zone(
        team, example_document):
    dossier = grants_helpers.instructed_dossier(example_document, team["instructor"])
    lead, _member = lead_and_member(dossier)
    grants_helpers.select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    grant = sign_agreement(Grant.objects.get(dossier=dossier), lead,
                           grants_helpers.pdf_upload(), now=SIGNED_AT)
    with timezone.override("UTC"):
        text = pdf_text(agreement_pdf(grant))
    assert f"Signée par le bénéficiaire le {format_paris_instant(SIGNED_AT)}." in text
    assert "10/01/2022 à 15:30:00 (heure de Paris, UTC+01:00)" in text


def test_make_run_port_sets_server_port_and_site_url():
    commands = subprocess.run(["make", "-n", "run", "PORT=8301"], cwd=ROOT, capture_output=True,
                              text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert "SITE_URL=http://127.0.0.1:8301 .venv/bin/guichet runserver 127.0.0.1:8301" in commands
    given = subprocess.run(["make", "-n", "run", "PORT=8301"], cwd=ROOT, capture_output=True,
                           text=True, check=True,
                           env={"PATH": "/usr/bin:/bin",
                                "SITE_URL": "https://guichet.example.fr"}).stdout
    assert "SITE_URL=https://guichet.example.fr .venv/bin/guichet runserver 127.0.0.1:8301" \
        in given
