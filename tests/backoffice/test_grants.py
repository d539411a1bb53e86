"""Closing a call early asks for confirmation on a page that says exactly what will happen
(issue 11, item 6)."""

import pytest

from guichet.calls.models import CallStatus
from guichet.review.models import Role
from tests.backoffice.test_committee_page import text
from tests.factories import staff

pytestmark = pytest.mark.django_db


def test_close_call_page_lists_waves_and_recipients_before_closing(client, open_call):
    admin = staff(open_call, "admin@example.fr", Role.ADMINISTRATOR)
    client.force_login(admin)
    page = text(client.get("/instruction/appels/deffinum/cloture/"))
    waves = list(open_call.waves.order_by("position"))
    assert f"{waves[1].name} se ferme immédiatement" in page
    assert f"{waves[2].name} est annulée et n'ouvrira pas." in page
    assert f"{waves[0].name} se ferme" not in page
    assert "1 titulaire de compte reçoit le message par courriel : admin@example.fr" in page
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.OPEN
