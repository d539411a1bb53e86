"""Mail through a real SMTP server (aiosmtpd, started by the test on a local port)."""

import datetime as dt
import email
import os
import secrets
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from guichet.dossiers.selectors import participants
from guichet.dossiers.services import submit
from tests.factories import lead_and_member, make_dossier

IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
SMTP_USER, SMTP_PASSWORD = "guichet", "mot-de-passe-smtp"
SENDER = "guichet@financeur.example"

# aiosmtpd warns that a login over plain text is unsafe: here it crosses the loopback only.
# integration: a real SMTP server (aiosmtpd) receives the mails, even where no database is used.
pytestmark = [pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
              pytest.mark.integration]


@dataclass
class Delivered:
    """What the SMTP server received: envelopes and the logins it accepted."""

    envelopes: list = field(default_factory=list)
    logins: list = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
        self.envelopes.append(envelope)
        self.arrived.set()
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        accepted = (auth_data.login.decode(), auth_data.password.decode()) == (SMTP_USER,
                                                                               SMTP_PASSWORD)
        if accepted:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=accepted)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A local SMTP server that requires a login (over plain text: it is the loopback)."""
    delivered = Delivered()
    controller = Controller(delivered, hostname="127.0.0.1", port=_free_port(),
                            authenticator=delivered.authenticate, auth_require_tls=False,
                            auth_required=True)
    controller.start()
    delivered.port = controller.port
    yield delivered
    controller.stop()


def test_smtp_receipt_mail_arrives_with_sender_and_recipients(
        deffinum, example_document, smtp_server, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = SMTP_USER, SMTP_PASSWORD
    settings.DEFAULT_FROM_EMAIL = SENDER
    dossier = make_dossier(example_document)
    lead_and_member(dossier)
    recipients = participants(dossier)
    assert len(recipients) == 2

    with django_capture_on_commit_callbacks(execute=True):  # the receipt leaves after commit
        submit(dossier, now=IN_WAVE_ONE)

    assert smtp_server.logins == [SMTP_USER]
    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == SENDER
    assert sorted(envelope.rcpt_tos) == recipients
    message = email.message_from_bytes(envelope.original_content)
    assert message["From"] == SENDER
    assert "Accusé de réception" in str(email.header.make_header(
        email.header.decode_header(message["Subject"])))


def test_smtp_settings_from_environment_deliver_a_mail(smtp_server, tmp_path):
    """The production settings read the SMTP server from the environment alone."""
    guichet = Path(sys.executable).with_name("guichet")
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GUICHET_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "guichet.example",
        "GUICHET_DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port), "EMAIL_HOST_USER": SMTP_USER,
        "EMAIL_HOST_PASSWORD": SMTP_PASSWORD, "EMAIL_TIMEOUT": "10",
        "DEFAULT_FROM_EMAIL": SENDER}
    done = subprocess.run([str(guichet), "sendtestemail", "instructrice@financeur.example"],
                          env=environment, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert smtp_server.arrived.wait(10)
    assert smtp_server.logins == [SMTP_USER]
    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["instructrice@financeur.example"])
