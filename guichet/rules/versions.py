"""What changed between two versions of a dossier (after a correction round), field by field
and line by line, from the two frozen documents alone."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from guichet.rules.dossier import Dossier

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
PROJECT_FIELDS = ("title", "summary", "scope", "pooling_commitment", "start_date",
                  "duration_months")
# How a line is recognised from one version to the next: what it is, not where it stands. A
# line whose identity changed reads as one line removed and one added.
LINE_KEYS: dict[str, Callable[[dict], tuple]] = {
    "members": lambda row: (row["siret"],),
    "milestones": lambda row: (row["kind"], row["label"]),
    "expenses": lambda row: (row["member"], row["category"], row["label"]),
    "financing": lambda row: (row["source"], row.get("member")),
}


@dataclass(frozen=True, slots=True)
class Change:
    section: str  # "project", "members", "milestones", "expenses", "financing" or the caller's
    kind: str  # ADDED, REMOVED or CHANGED
    field: str | None  # the field that changed (CHANGED), None for a whole line
    before: object = None  # the field's old value (CHANGED)
    after: object = None  # the field's new value (CHANGED)
    line: dict | None = None  # the line concerned (as it is now, or as it was if removed)


def diff_dossiers(old: Dossier, new: Dossier) -> list[Change]:
    """Every difference between `old` and `new`: project fields first, then the consortium,
    the milestones, the expenses and the financing plan, line by line."""
    before, after = msgspec.to_builtins(old), msgspec.to_builtins(new)
    changes = diff_fields("project", {name: before.get(name) for name in PROJECT_FIELDS},
                          {name: after.get(name) for name in PROJECT_FIELDS})
    for section, key in LINE_KEYS.items():
        changes += diff_lines(section, before.get(section, []), after.get(section, []), key)
    return changes


def diff_fields(section: str, old: dict, new: dict) -> list[Change]:
    """The fields whose value differs, in the order of `new` (then those only in `old`)."""
    return [Change(section, CHANGED, name, old.get(name), new.get(name))
            for name in _changed_fields(old, new)]


def diff_lines(section: str, old: Iterable[dict], new: Iterable[dict],
               key: Callable[[dict], tuple]) -> list[Change]:
    """Lines removed, changed (field by field) and added, matched by `key`; lines sharing a key
    are matched in order."""
    old_lines, new_lines = _keyed(old, key), _keyed(new, key)
    changes = [Change(section, REMOVED, None, line=line)
               for identity, line in old_lines.items() if identity not in new_lines]
    for identity, line in new_lines.items():
        if identity not in old_lines:
            changes.append(Change(section, ADDED, None, line=line))
            continue
        was = old_lines[identity]
        changes += [Change(section, CHANGED, field, was.get(field), line.get(field), line)
                    for field in _changed_fields(was, line)]
    return changes


def _keyed(lines: Iterable[dict], key: Callable[[dict], tuple]) -> dict[tuple, dict]:
    """The lines by identity; the n-th line of a repeated key gets n in its identity."""
    seen: dict[tuple, int] = {}
    keyed = {}
    for line in lines:
        identity = key(line)
        seen[identity] = seen.get(identity, 0) + 1
        keyed[(*identity, seen[identity])] = line
    return keyed


def _changed_fields(old: dict, new: dict) -> list[str]:
    return [name for name in list(new) + [n for n in old if n not in new]
            if old.get(name) != new.get(name)]
