"""Loading call definitions into the database, the questions asked of a call, and its early
closure."""

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import msgspec
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.lifecycle import CallAction, apply_call_transition
from guichet.calls.models import Call, CallDefinitionVersion, Programme, Wave
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.notifications.kinds import Kind
from guichet.notifications.services import notify
from guichet.rules.definition import (
    CallDefinition,
    DefinitionError,
    definition_to_builtins,
    parse_definition,
)
from guichet.rules.eligibility import wave_at


class RulesVersionConflict(ServiceError):
    code = "rules_version_conflict"


class CallRefused(ServiceError):
    code = "call_refused"


@dataclass(frozen=True)
class LoadResult:
    call: Call
    created: bool
    new_version: bool


def load_call(path: str | Path, *, demo_today: dt.date | None = None, by=None) -> LoadResult:
    """Create or update the programme, call and waves of a definition file, idempotently.

    With `demo_today`, the waves are moved (keeping their lengths and gaps) so that the second
    wave is open on that day, the first already closed; the file keeps the real dates.
    """
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(str(path), "", f"cannot read the file ({exc})") from None
    definition = parse_definition(source, source=str(path))
    if demo_today is not None:
        definition = redated_for_demo(definition, demo_today)
    return _store(definition, source, by)


def redated_for_demo(definition: CallDefinition, today: dt.date) -> CallDefinition:
    anchor_wave = definition.waves[min(1, len(definition.waves) - 1)]
    anchor = anchor_wave.opens_at.astimezone(definition.zone).date() + dt.timedelta(days=30)
    shift = today - anchor
    waves = [msgspec.structs.replace(wave, opens_at=_shift(wave.opens_at, shift, definition),
                                     closes_at=_shift(wave.closes_at, shift, definition))
             for wave in definition.waves]
    return msgspec.structs.replace(definition, waves=waves)


def _shift(instant: dt.datetime, days: dt.timedelta, definition: CallDefinition) -> dt.datetime:
    """The same wall-clock time in the call's zone, `days` later (12:00 stays 12:00)."""
    local = instant.astimezone(definition.zone).replace(tzinfo=None) + days
    return local.replace(tzinfo=definition.zone)


@transaction.atomic
def _store(definition: CallDefinition, source: str, by, *, published_by=None,
           diff: list | None = None) -> LoadResult:
    """Programme, call, waves and the version's source, for a file (`load_call`) as for a
    draft published from the back office (`editor.publish_draft`, which gives who published
    it and the difference from the version before)."""
    source_sha = hashlib.sha256(source.encode()).hexdigest()
    stored = definition_to_builtins(definition)
    stored_sha = hashlib.sha256(msgspec.json.encode(stored, order="sorted")).hexdigest()
    previous_sha, previous = Call.objects.filter(code=definition.id).values_list(
        "definition_sha256", "definition").first() or ("", {})
    programme, _created = Programme.objects.update_or_create(
        code=definition.programme.id,
        defaults={"name": definition.programme.name, "name_en": definition.programme.name_en,
                  "envelope": definition.programme.envelope})
    call, created = Call.objects.update_or_create(
        code=definition.id,
        defaults={"programme": programme, "name": definition.name, "name_en": definition.name_en,
                  "rules_version": definition.rules_version, "definition": stored,
                  "definition_sha256": stored_sha})
    new_version = _record_version(call, definition.rules_version, source, source_sha,
                                  published_by=published_by, diff=diff or [],
                                  implicit_sections=_implicit_sections(previous, definition))
    for position, wave in enumerate(definition.waves):
        Wave.objects.update_or_create(
            call=call, code=wave.id,
            defaults={"position": position, "name": wave.name, "name_en": wave.name_en,
                      "opens_at": wave.opens_at, "closes_at": wave.closes_at,
                      "budget": wave.budget})
    if stored_sha != previous_sha:
        append_event(AuditAction.CALL_LOADED, call, by=by, hash_before=previous_sha or "",
                     hash_after=stored_sha,
                     details={"rules_version": definition.rules_version, "source": source_sha})
    return LoadResult(call, created, new_version)


def _implicit_sections(previous: dict, definition: CallDefinition) -> list:
    """The sections the stored definition of this same rules version declares: migration
    dossiers.0011 wrote there the section the code used to impose, which the version's source
    (loaded before sections were data) does not say."""
    if previous.get("rules_version") != definition.rules_version:
        return []
    return previous.get("sections") or []


def _record_version(call: Call, rules_version: str, source: str, source_sha: str, *,
                    published_by=None, diff: list, implicit_sections: list) -> bool:
    existing = CallDefinitionVersion.objects.filter(call=call, rules_version=rules_version).first()
    if existing is None:
        CallDefinitionVersion.objects.create(call=call, rules_version=rules_version,
                                             source=source, source_sha256=source_sha,
                                             loaded_at=server_now(), published_by=published_by,
                                             diff=diff)
        return True
    if existing.source_sha256 != source_sha and not _same_content(
            existing.source, source, implicit_sections):
        raise RulesVersionConflict(_(
            "La version de règles %(version)s a déjà été chargée avec un autre contenu : "
            "donnez une nouvelle valeur à rules_version pour des règles modifiées."
        ) % {"version": rules_version}, field="rules_version")
    return False


def _same_content(stored: str, source: str, implicit_sections: list) -> bool:
    """Two sources of one rules version that say the same (an exported file has no comments and
    writes instants with their offset; a source from before sections were data, with the
    sections its stored definition was given): the same version, not a conflict."""
    try:
        before = definition_to_builtins(parse_definition(stored))
        after = definition_to_builtins(parse_definition(source))
    except DefinitionError:
        return False
    if not before["sections"]:
        before["sections"] = implicit_sections
    return before == after


def open_wave(call: Call, at: dt.datetime) -> Wave | None:
    """The wave of `call` whose window holds `at` (opens_at <= at < closes_at); none once the
    call is closed (its cancelled waves keep their planned dates but never open)."""
    if call.is_closed and (call.closed_at is None or call.closed_at <= at):
        return None
    return wave_at(call.waves.all(), at)


# --- early closure ---------------------------------------------------------------------------

@transaction.atomic
def close_call(call: Call, by, message: str, now=None) -> None:
    """Close a call before its end (an administrator, or the envelope running out): the open
    wave closes now, the waves not yet open are cancelled (they keep their planned dates),
    submissions are refused with `message`, every account holder is told."""
    if by is not None:
        require_perm(by, "review.publish_decisions", call)
    if not message.strip():
        raise CallRefused(_("Expliquez la clôture."), field="message")
    now = now or server_now()
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.is_closed:
        return
    apply_call_transition(locked, CallAction.CLOSE, closed_message=message, closed_at=now)
    Wave.objects.filter(call=locked, opens_at__lte=now, closes_at__gt=now).update(closes_at=now)
    append_event(AuditAction.CALL_CLOSED, locked, by=by, at=now, details={"message": message})
    notify(Kind.CALL_CLOSED, call=locked.pk)
