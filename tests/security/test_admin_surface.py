"""Guessing Django's admin: there is none. Every change goes through a service that checks
permissions and writes the audit log, which the admin's forms would bypass."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/admin/accounts/user/"])
def test_admin_login_page_probe_finds_nothing(client, url):
    assert client.get(url).status_code == 404


def test_admin_login_page_probe_staff_account_finds_nothing(admin_client):
    assert admin_client.get("/admin/").status_code == 404
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
