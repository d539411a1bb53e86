"""The registry of audit actions (guichet.audit.actions.AuditAction) is exactly what the code
writes, and the code writes members of it, never strings.

The source is read for every call that appends an event; its action must be a member of the
enum named in the call (or a choice between two), so that the applicant timeline's allow-list
is judged against every action that exists.
"""

import ast
from pathlib import Path

import pytest
from django.utils import translation

from guichet.audit.actions import AuditAction
from guichet.audit.models import AuditEvent
from guichet.audit.services import append_event
from tests.factories import make_user

PACKAGE = Path(__file__).resolve().parents[2] / "guichet"
# Functions that append an event for the action in their first argument. Only these may pass
# it on as a variable; every other call names its action as a member of AuditAction.
APPENDERS = {"append_event", "_recorded"}


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _members(node) -> set[str] | None:
    """The AuditAction members an action argument can be, or None if it does not name them
    (a string literal, a variable, anything else)."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "AuditAction"):
        return {node.attr}
    if isinstance(node, ast.IfExp):
        body, orelse = _members(node.body), _members(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def written_actions() -> tuple[set[str], list[str]]:
    """(members written by the code, places whose action is not a named member)."""
    found, unreadable = set(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                if _called_name(call) not in APPENDERS or function.name == "append_event":
                    continue
                members = _members(call.args[0]) if call.args else None
                if members is not None:
                    found |= members
                elif function.name not in APPENDERS:
                    unreadable.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
    return found, unreadable


def test_audit_action_registry_is_exactly_what_the_code_writes():
    found, unreadable = written_actions()
    assert unreadable == [], "name the action as a member of AuditAction"
    registered = {member.name for member in AuditAction}
    assert found - registered == set(), "add these actions to guichet/audit/actions.py"
    assert registered - found == set(), "these registered actions are written nowhere"


def test_audit_action_scan_reads_members_and_refuses_strings():
    source = ('def f(private):\n    append_event(AuditAction.A_ONE, x)\n'
              '    _recorded(AuditAction.A_TWO if private else AuditAction.A_THREE, x)\n')
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert set().union(*(_members(call.args[0]) for call in calls)) == {
        "A_ONE", "A_TWO", "A_THREE"}
    for written in ('append_event("dossier.submitted", x)', "append_event(action, x)",
                    'append_event(AuditAction.A if p else "b.c", x)',
                    "append_event(Other.A_ONE, x)"):
        assert _members(ast.parse(written).body[0].value.args[0]) is None, written


def test_audit_action_values_are_the_stored_codes():
    assert AuditAction.DOSSIER_SUBMITTED == "dossier.submitted"
    assert all(member.value.split(".")[0] in {
        "call", "organisation", "consortium", "dossier", "review", "decision", "grant",
        "outbox"}
        and member.name == member.value.replace(".", "_").upper() for member in AuditAction)


def test_every_audit_action_has_a_french_label_and_an_english_one():
    for member in AuditAction:
        with translation.override("fr"):
            french = str(member.label)
        with translation.override("en"):
            english = str(member.label)
        assert member.value not in french
        assert english != french, member


@pytest.mark.django_db
def test_append_event_with_an_unregistered_action_is_refused_and_writes_nothing():
    user = make_user("a@example.fr")
    with pytest.raises(ValueError, match=r"dossier\.invented"):
        append_event("dossier.invented", user)
    assert not AuditEvent.objects.exists()
    event = append_event(AuditAction.CALL_LOADED, user)
    assert AuditEvent.objects.get(pk=event.pk).action == "call.loaded"
