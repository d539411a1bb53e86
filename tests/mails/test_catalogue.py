"""Each mail is written in its recipient's language (French for an address with no account)."""

import pytest

from guichet.accounts.models import User
from guichet.mails.catalogue import send_notification
from guichet.notifications.kinds import Kind
from tests.factories import lead_and_member
from tests.review.test_services import submitted_dossier_in

pytestmark = pytest.mark.django_db


def test_receipt_mail_english_for_an_english_speaker_french_for_a_french_one(
        deffinum, example_document, mailoutbox):
    dossier = submitted_dossier_in(example_document)  # 31 August 2021, 11:00 in Paris
    lead, member = lead_and_member(dossier)
    User.objects.filter(pk=lead.pk).update(language="en")
    mailoutbox.clear()
    assert send_notification(Kind.RECEIPT, {"dossier": dossier.pk, "version": 1}) == 2
    english, french = (next(m for m in mailoutbox if m.to == [user.email])
                       for user in (lead, member))
    number = dossier.receipt_number
    assert english.subject == f"Acknowledgement of receipt {number} — {dossier.title}"
    assert (f"was submitted on 31/08/2021 at 11:00:00 (Paris time, UTC+02:00) under number "
            f"{number}") in english.body
    assert "déposé" not in english.body
    assert french.subject == f"Accusé de réception {number} — {dossier.title}"
    assert "déposé le 31/08/2021 à 11:00:00 (heure de Paris, UTC+02:00)" in french.body
    assert [name for name, _data, _type in english.attachments] == [
        name for name, _data, _type in french.attachments]


def test_receipt_mail_one_message_when_everyone_reads_french(deffinum, example_document,
                                                            mailoutbox):
    dossier = submitted_dossier_in(example_document)
    lead, member = lead_and_member(dossier)
    mailoutbox.clear()
    send_notification(Kind.RECEIPT, {"dossier": dossier.pk, "version": 1})
    [message] = mailoutbox
    assert sorted(message.to) == sorted([lead.email, member.email])
    assert message.subject.startswith("Accusé de réception")
