"""The operator gives and takes back staff roles; each change is in the audit log."""

import io

import pytest
from django.core.management import CommandError, call_command

from guichet.accounts.models import User
from guichet.audit.models import AuditEvent
from guichet.review.models import CallRole, Role
from guichet.review.staff import RoleRefused, grant_role, revoke_role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_grant_role_to_a_new_address_makes_a_confirmed_account_without_password(deffinum):
    granted = grant_role(deffinum, " Admin@Funder.example.org ", Role.ADMINISTRATOR)
    user = User.objects.get(email="admin@funder.example.org")
    assert granted.new_account
    assert not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    assert user.has_perm("review.publish_decisions", deffinum)
    assert AuditEvent.objects.filter(action="call.role_granted").count() == 1


def test_grant_role_held_already_changes_nothing(deffinum):
    person = make_user("instructeur@example.fr")
    grant_role(deffinum, person.email, Role.INSTRUCTOR)
    again = grant_role(deffinum, person.email, Role.INSTRUCTOR)
    assert not again.new_account
    assert CallRole.objects.filter(user=person).count() == 1
    assert AuditEvent.objects.filter(action="call.role_granted").count() == 1


@pytest.mark.parametrize(("email", "role", "field"), [
    ("x@example.fr", Role.EXPERT, "role"),
    ("x@example.fr", "superuser", "role"),
    ("x@example.fr\r\nBcc: y@example.fr", Role.INSTRUCTOR, "email"),
    ("pas une adresse", Role.INSTRUCTOR, "email"),
])
def test_grant_role_refuses_by_field_and_writes_nothing(deffinum, email, role, field):
    with pytest.raises(RoleRefused) as refused:
        grant_role(deffinum, email, role)
    assert refused.value.field == field
    assert not User.objects.exists()
    assert not CallRole.objects.exists()


def test_revoke_role_takes_the_role_back_and_refuses_a_role_not_held(deffinum):
    person = make_user("comite@example.fr")
    grant_role(deffinum, person.email, Role.COMMITTEE)
    revoke_role(deffinum, person.email, Role.COMMITTEE)
    assert not person.has_perm("review.select", deffinum)
    with pytest.raises(RoleRefused):
        revoke_role(deffinum, person.email, Role.COMMITTEE)
    assert AuditEvent.objects.filter(action="call.role_revoked").count() == 1


def test_staff_role_command_grants_and_names_a_refusal(deffinum):
    out = io.StringIO()
    call_command("staff_role", "deffinum", "admin@funder.example.org", "administrator",
                 stdout=out)
    assert "administrator of deffinum" in out.getvalue()
    assert "/comptes/password/reset/" in out.getvalue()
    with pytest.raises(CommandError, match="no call"):
        call_command("staff_role", "inconnu", "admin@funder.example.org", "administrator")
    with pytest.raises(CommandError, match="Adresse électronique invalide"):
        call_command("staff_role", "deffinum", "x", "instructor")
