"""The registry of audit actions (guichet.audit.actions) is exactly what the code writes.

The source is read for every call that appends an event; its action must be a string written
in the call (or a choice between two), so that the applicant timeline's allow-list is judged
against every action that exists.
"""

import ast
from pathlib import Path

from guichet.audit.actions import ACTIONS

PACKAGE = Path(__file__).resolve().parent.parent / "guichet"
# Functions that append an event for the action in their first argument. Only these may pass
# it on as a variable; every other call names its action literally.
APPENDERS = {"append_event", "_recorded"}


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _literals(node) -> set[str] | None:
    """The strings an action argument can be, or None if it is not written in the call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def written_actions() -> tuple[set[str], list[str]]:
    """(actions written by the code, places whose action cannot be read)."""
    found, unreadable = set(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                if _called_name(call) not in APPENDERS or function.name == "append_event":
                    continue
                literals = _literals(call.args[0]) if call.args else None
                if literals is not None:
                    found |= literals
                elif function.name not in APPENDERS:
                    unreadable.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
    return found, unreadable


def test_audit_action_registry_is_exactly_what_the_code_writes():
    found, unreadable = written_actions()
    assert unreadable == []
    assert found - ACTIONS == set(), "add these actions to guichet/audit/actions.py"
    assert ACTIONS - found == set(), "these registered actions are written nowhere"


def test_audit_action_scan_reads_literal_and_conditional_actions():
    source = ('def f(private):\n    append_event("a.one", x)\n'
              '    _recorded("a.two" if private else "a.three", x)\n')
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert set().union(*(_literals(call.args[0]) for call in calls)) == {
        "a.one", "a.two", "a.three"}
    assert _literals(ast.parse("append_event(action, x)").body[0].value.args[0]) is None
