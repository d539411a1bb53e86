"""What changed between two versions of a call definition, value by value.

Both versions are the JSON-ready form of a definition (`definition_to_builtins`). Nested tables
are walked key by key ("eligibility.aid_cap_rate"); a list of items that carry an `id` (waves,
criteria, documents, sections, questions…) is matched by that id, so that inserting a wave does
not read as every later wave changed ("waves[w2].budget", "sections[hybridation].questions[x]");
an item added or removed is one change holding the whole item. Other lists (scopes, choices of
a total) are compared as one value, in order.
"""

from typing import Any

Change = tuple[str, Any, Any]  # (path, before, after); None for a side where it is absent


def diff_definitions(old: dict, new: dict) -> list[Change]:
    """Every value that differs between `old` and `new`, in the order of the new version (what
    was removed follows what it stood beside)."""
    changes: list[Change] = []
    _diff("", old, new, changes)
    return changes


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff(path: str, old: Any, new: Any, changes: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(key for key in old if key not in new)]:
            if key not in old:
                changes.append((_join(path, key), None, new[key]))
            elif key not in new:
                changes.append((_join(path, key), old[key], None))
            else:
                _diff(_join(path, key), old[key], new[key], changes)
    elif _by_id(old) is not None and _by_id(new) is not None:
        before, after = _by_id(old), _by_id(new)
        for item_id in [*after, *(item_id for item_id in before if item_id not in after)]:
            where = f"{path}[{item_id}]"
            if item_id not in before:
                changes.append((where, None, after[item_id]))
            elif item_id not in after:
                changes.append((where, before[item_id], None))
            else:
                _diff(where, before[item_id], after[item_id], changes)
    elif old != new or type(old) is not type(new):
        changes.append((path, old, new))


def _by_id(value: Any) -> dict | None:
    """A list of items with distinct ids as {id: item}; None for any other value."""
    if not isinstance(value, list) or not all(isinstance(item, dict) and isinstance(
            item.get("id"), str) for item in value):
        return None
    items = {item["id"]: item for item in value}
    return items if len(items) == len(value) else None
