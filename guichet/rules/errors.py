"""Turning validation errors into one clear line naming the field.

`decode_json` and `convert_builtins` are how the rules core reads a document with msgspec: every
failure (wrong type, missing or unknown field, malformed JSON, bytes that are not UTF-8) becomes
`error(field, reason)`, never a traceback.
"""

import re
from collections.abc import Callable
from typing import TypeVar

import msgspec

_AT_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_FIELD_IN_REASON = re.compile(
    r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`")

T = TypeVar("T")


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


def decode_json(decoder: msgspec.json.Decoder, document: bytes | str,
                error: Callable[[str, str], Exception]) -> object:
    """`decoder.decode(document)`, raising `error(field, reason)` when it cannot be read."""
    try:
        return decoder.decode(document)
    except msgspec.ValidationError as exc:
        raise error(*split_validation_message(exc)) from None
    except msgspec.DecodeError as exc:
        raise error("", f"not valid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise error("", utf8_error(document)) from None
    except RecursionError:
        raise error("", "not valid JSON (nested too deeply)") from None


def convert_builtins(data: object, kind: type[T], error: Callable[[str, str], Exception],
                     **options) -> T:
    """`msgspec.convert` for an already decoded mapping, raising `error(field, reason)`."""
    try:
        return msgspec.convert(data, kind, **options)
    except msgspec.ValidationError as exc:
        raise error(*split_validation_message(exc)) from None
    except RecursionError:
        raise error("", "nested too deeply") from None


def utf8_error(document: bytes | str) -> str:
    """Where the document stops being UTF-8 (msgspec counts from the string, not the file)."""
    raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    try:
        bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    return "not valid UTF-8"
