"""The `guichet` console command.

`guichet check` (and the other file-based tools) run without Django or a database, right after
`pip install`; every other sub-command is a Django management command (`guichet migrate`,
`guichet runserver`, `guichet loadcall`…), hyphens and underscores alike.
"""

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

EXIT_ELIGIBLE, EXIT_NOT_ELIGIBLE, EXIT_UNREADABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DATABASE_FREE_COMMANDS:
        sys.exit(DATABASE_FREE_COMMANDS[argv[0]](argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    from django.core.management import execute_from_command_line

    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")
    execute_from_command_line(["guichet", *argv])


def check(argv: list[str]) -> int:
    """`guichet check FILE.json [--at INSTANT] [--call CALL_FILE]`: the verdict on stdout."""
    from guichet.rules.definition import DefinitionError, load_definition, shipped_definition
    from guichet.rules.dossier import DossierFormatError, parse_dossier
    from guichet.rules.eligibility import evaluate

    parser = argparse.ArgumentParser(
        prog="guichet check", description="Check a dossier (guichet.dossier/1) against its call.")
    parser.add_argument("file", help="the dossier JSON file, or - for standard input")
    parser.add_argument("--at", help="receipt instant (ISO 8601) when the dossier has none; "
                        "without an offset it is read in the call's time zone")
    parser.add_argument("--call", help="a call definition file instead of the shipped one")
    options = parser.parse_args(argv)
    try:
        document = _read_input(options.file)
        dossier = parse_dossier(document)
        definition = (load_definition(options.call) if options.call
                      else shipped_definition(dossier.call))
        if dossier.call != definition.id:
            raise DossierFormatError("call", f"the dossier is for call {dossier.call!r}, "
                                     f"the definition is for {definition.id!r}")
        at = _instant(options.at, definition.zone) if options.at else None
    except (OSError, DossierFormatError, DefinitionError, ValueError) as exc:
        print(f"guichet check: {options.file}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    verdict = evaluate(dossier, definition, at=at)
    _print(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_ELIGIBLE if verdict.eligible else EXIT_NOT_ELIGIBLE


def _print(text: str) -> None:
    """Print to stdout; a reader that stopped early (`| head`) is not an error."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read the file ({exc.strerror})") from None


def _instant(text: str, zone: ZoneInfo) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--at: not an ISO 8601 instant: {text!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=zone)


DATABASE_FREE_COMMANDS = {"check": check}
