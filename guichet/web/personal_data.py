"""Everything the platform holds about one person, for them to download (RGPD articles 15
and 20): their account, then every record that points at them, found through the account's
reverse relations, so that a model added later is included without editing this file; the
invitations sent to their address; and the audit log's events they caused.

Secrets never leave: the password's hash, the two-factor keys and recovery codes, the session
keys. Values are written as people read them: labels for choices, instants in Paris time.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _

from guichet.accounts.models import User
from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.core.clock import PARIS
from guichet.dossiers.models import Invitation

# Fields that are secrets, by model label: listed as held, never given.
SECRET_FIELDS = {"accounts.user": {"password"}, "mfa.authenticator": {"data"},
                 "usersessions.usersession": {"session_key"}}
ACCOUNT_FIELDS = ("email", "first_name", "last_name", "language", "mail_digest", "date_joined",
                  "last_login", "is_active")


def personal_data(user: User) -> dict:
    """The person's data, as a JSON-ready dict of sections, each a list of rows."""
    sections = {_("compte"): [_row(user, ACCOUNT_FIELDS)]}
    for relation in _relations_to_people():
        rows = _pointing_at(user, relation)
        if rows:
            sections.setdefault(str(relation.related_model._meta.verbose_name_plural), []).extend(
                rows)
    invitations = Invitation.objects.filter(email__iexact=user.email).order_by("created_at")
    if invitations:
        sections[_("invitations reçues")] = [_row(invitation) for invitation in invitations]
    sections[_("journal d'audit (actions faites)")] = [
        {_("instant"): _value(event.at), _("action"): _action_label(event.action),
         _("objet"): f"{event.object_type} {event.object_id}"}
        for event in AuditEvent.objects.filter(actor_id=user.pk)]
    return sections


def personal_data_json(user: User) -> bytes:
    return json.dumps(personal_data(user), ensure_ascii=False, indent=2).encode()


def _relations_to_people():
    """Every foreign key to an account, those without a reverse accessor (related_name "+":
    who wrote a message, who recorded a payment…) included."""
    return [field for field in User._meta.get_fields(include_hidden=True)
            if field.auto_created and not field.concrete and not field.many_to_many]


def _pointing_at(user: User, relation) -> list[dict]:
    model, field = relation.related_model, relation.field.name
    linked = [other.name for other in model._meta.concrete_fields
              if other.is_relation and other.name != field]
    rows = model._default_manager.filter(**{field: user}).select_related(*linked).order_by("pk")
    return [_row(row, exclude={field}) for row in rows]


def _row(instance: models.Model, names=None, exclude=frozenset()) -> dict:
    """The instance's fields by their names in words; secrets named as withheld."""
    secrets = SECRET_FIELDS.get(instance._meta.label_lower, set())
    row = {}
    for field in instance._meta.concrete_fields:
        if (names and field.name not in names) or field.name in exclude or field.primary_key:
            continue
        label = str(field.verbose_name)
        if field.name in secrets:
            row[label] = _("(secret conservé, non communiqué)")
        elif field.is_relation:
            row[label] = str(getattr(instance, field.name)) if getattr(
                instance, field.attname) is not None else None
        else:
            value = getattr(instance, f"get_{field.name}_display")() if field.choices else (
                getattr(instance, field.attname))
            row[label] = _value(value)
    return row


def _value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(PARIS).isoformat()
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


def _action_label(action: str) -> str:
    return str(dict(AuditAction.choices).get(action, action))
