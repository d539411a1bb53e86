"""Turning validation errors into one clear line naming the field."""

import re

import msgspec

_AT_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_FIELD_IN_REASON = re.compile(
    r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`")


def split_validation_message(error: msgspec.ValidationError) -> tuple[str, str]:
    """Split msgspec's "Expected `int`, got `str` - at `$.a[0].b`" into ("a[0].b", reason).

    For a missing or unknown field the field itself is named, not the object holding it.
    """
    match = _AT_PATH.match(str(error))
    reason, path = match["reason"], (match["path"] or "").lstrip(".")
    field_match = _FIELD_IN_REASON.match(reason)
    if field_match:
        path = f"{path}.{field_match['name']}" if path else field_match["name"]
        reason = "missing required field" if "missing" in reason else "unknown field"
    return path, reason
