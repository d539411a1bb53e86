"""One owner per state change: only guichet.core.lifecycle writes a `status`.

The dossier, decision, grant, tranche, report and call each have a lifecycle module (a table of
allowed transitions) whose `apply` is the one place their status is written; every service goes
through it. This test reads the source of guichet/ (migrations excluded) and fails on any other
write of a status: an assignment to `.status` (alone, in a tuple, or through setattr), a
`status=` passed to `.update(`, `.create(`, `.get_or_create(`, `.update_or_create(` (or in their
`defaults`), or `"status"` in a `.save(update_fields=...)`.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "guichet"
OWNER = PACKAGE / "core" / "lifecycle.py"
# An outbox row's status (pending, sent, failed) is the delivery state of a mail or a PDF, not a
# business state: guichet.notifications.outbox alone writes it, under the row's lock.
OUTBOX_OWNER = PACKAGE / "notifications" / "outbox.py"
WRITING_METHODS = {"update", "create", "get_or_create", "update_or_create"}


def _assigned_attributes(target) -> list[ast.Attribute]:
    if isinstance(target, ast.Attribute):
        return [target]
    if isinstance(target, ast.Tuple | ast.List):
        return [a for element in target.elts for a in _assigned_attributes(element)]
    if isinstance(target, ast.Starred):
        return _assigned_attributes(target.value)
    return []


def _is_status_string(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _writes_status(node) -> bool:
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(a.attr == "status" for t in targets for a in _assigned_attributes(t))
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    if isinstance(function, ast.Name) and function.id == "setattr":
        return len(node.args) >= 2 and _is_status_string(node.args[1])
    if not isinstance(function, ast.Attribute):
        return False
    if function.attr in WRITING_METHODS:
        for keyword in node.keywords:
            if keyword.arg == "status":
                return True
            if keyword.arg in ("defaults", "create_defaults") and isinstance(
                    keyword.value, ast.Dict) and any(
                    _is_status_string(key) for key in keyword.value.keys):
                return True
    if function.attr == "save":
        return any(keyword.arg == "update_fields" and isinstance(
            keyword.value, ast.List | ast.Tuple | ast.Set) and any(
            _is_status_string(e) for e in keyword.value.elts) for keyword in node.keywords)
    return False


def status_writes(source: str) -> list[int]:
    """The lines of `source` that write a status."""
    return sorted({node.lineno for node in ast.walk(ast.parse(source)) if _writes_status(node)})


def test_only_the_lifecycle_writes_a_status():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or "fixtures" in path.parts or path in (OWNER,
                                                                                 OUTBOX_OWNER):
            continue
        offenders += [f"{path.relative_to(PACKAGE)}:{line}"
                      for line in status_writes(path.read_text(encoding="utf-8"))]
    assert offenders == [], "write statuses through the object's lifecycle (apply_*_transition)"


def test_the_lifecycle_is_where_the_status_is_written():
    assert status_writes(OWNER.read_text(encoding="utf-8")) != []


def test_status_write_scan_finds_every_form_of_write():
    source = """
dossier.status = DossierStatus.SUBMITTED
locked.signed_at, locked.status = now, GrantStatus.SIGNED
tranche.status += ""
setattr(report, "status", "approved")
Dossier.objects.filter(pk=1).update(status=DossierStatus.SUBMITTED, wave=wave)
Decision.objects.create(dossier=dossier, status="published")
Grant.objects.update_or_create(pk=1, defaults={"status": "closed"})
decision.save(update_fields=["status", "published_at"])
"""
    assert status_writes(source) == list(range(2, 10))


def test_status_write_scan_leaves_reads_and_other_fields_alone():
    source = """
if dossier.status == DossierStatus.DRAFT:
    Dossier.objects.filter(status=DossierStatus.DRAFT).update(wave=wave)
Report.objects.filter(pk=1).update(reminded_at=now)
result = SelectionResult(status="optimal")
grant.save(update_fields=["version", "duration_months"])
statuses = {"status": 1}
"""
    assert status_writes(source) == []
