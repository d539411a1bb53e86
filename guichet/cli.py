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

from guichet.rules.definition import DefinitionError, load_definition, shipped_definition
from guichet.rules.dossier import DossierFormatError, check_date, parse_dossier
from guichet.rules.eligibility import checked_answers, evaluate

EXIT_ELIGIBLE, EXIT_NOT_ELIGIBLE, EXIT_UNREADABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DATABASE_FREE_COMMANDS:
        sys.exit(DATABASE_FREE_COMMANDS[argv[0]](argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    # Imported here: Django loads only for its own commands: `guichet check` runs without it.
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")
    execute_from_command_line(["guichet", *argv])


def check(argv: list[str]) -> int:
    """`guichet check FILE.json [--at INSTANT] [--call CALL_FILE]`: the verdict on stdout."""
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
        dossier = checked_answers(dossier, definition)
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
    check_date("--at", instant)
    return instant if instant.tzinfo else instant.replace(tzinfo=zone)


def assign(argv: list[str]) -> int:
    """`guichet assign INSTANCE.json`: the optimal expert assignment on stdout, as one JSON line.

    Exit 0 when solved, 1 when infeasible (the reason in the JSON and on stderr), 2 when the
    file cannot be read (one stderr line naming the field), 3 if the solver itself fails.
    """
    # Imported here: OR-Tools takes about a second to load: only `guichet assign` pays it.
    from guichet.rules.assignment import (  # noqa: PLC0415
        InstanceError,
        assignment_result_to_dict,
        parse_assignment_instance,
        solve_assignment,
    )

    parser = argparse.ArgumentParser(
        prog="guichet assign",
        description="Assign experts to dossiers, maximising the total affinity "
                    "(contracts/optimisation.md).")
    parser.add_argument("file", help="the instance JSON file, or - for standard input")
    options = parser.parse_args(argv)
    try:
        instance = parse_assignment_instance(_read_input(options.file))
    except (OSError, InstanceError) as exc:
        print(f"guichet assign: {options.file}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        result = solve_assignment(instance)
    except RuntimeError as exc:
        print(f"guichet assign: {options.file}: {exc}", file=sys.stderr)
        return 3
    _print(json.dumps(assignment_result_to_dict(result), ensure_ascii=False))
    if result.status == "infeasible":
        print(f"guichet assign: {options.file}: infeasible: {result.reason}", file=sys.stderr)
        return 1
    return 0


def select(argv: list[str]) -> int:
    """`guichet select INSTANCE.json [--gap G] [--time-limit S]`: the portfolio on stdout."""
    # Imported here: HiGHS takes a while to load: only `guichet select` pays it.
    from guichet.rules.selection import (  # noqa: PLC0415
        DEFAULT_GAP,
        DEFAULT_TIME_LIMIT,
        InstanceError,
        read_selection_instance,
        selection_result_to_dict,
        solve_selection,
    )

    def non_negative(text: str) -> float:
        value = float(text)
        if not (value >= 0 and value != float("inf")):
            raise ValueError(text)
        return value

    def positive(text: str) -> float:
        value = float(text)
        if not value > 0:
            raise ValueError(text)
        return value

    parser = argparse.ArgumentParser(
        prog="guichet select",
        description="Select the dossiers to fund within the budget, caps and floors, maximising "
                    "the objective (contracts/optimisation.md).")
    parser.add_argument("file", help="the instance JSON file, or - for standard input")
    parser.add_argument("--gap", type=non_negative, default=DEFAULT_GAP,
                        help=f"relative gap at which HiGHS may stop (default {DEFAULT_GAP:g}; "
                        "0 asks for a proof of optimality)")
    parser.add_argument("--time-limit", type=positive, default=DEFAULT_TIME_LIMIT,
                        metavar="SECONDS", help="stop the search after this many seconds and "
                        f"report the gap reached (default {DEFAULT_TIME_LIMIT:g})")
    options = parser.parse_args(argv)
    try:
        instance = read_selection_instance(_read_input(options.file))
    except (OSError, InstanceError) as exc:
        print(f"guichet select: {options.file}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    result = solve_selection(instance, gap=options.gap, time_limit=options.time_limit)
    _print(json.dumps(selection_result_to_dict(result, instance), ensure_ascii=False))
    if not result.solved:
        print(f"guichet select: {options.file}: {result.status}: {result.reason}",
              file=sys.stderr)
        return 1
    return 0


DATABASE_FREE_COMMANDS = {"check": check, "assign": assign, "select": select}
