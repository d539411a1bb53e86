"""Amendments (avenants): a longer duration or budget moved between lines, re-checked by the
rules; every version of the grant's dossier is kept."""

from decimal import Decimal

import msgspec
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.core.clock import now as server_now
from guichet.core.permissions import require_perm
from guichet.grants.errors import GrantRefused
from guichet.grants.models import Amendment, Grant, Report, ReportKind
from guichet.grants.selectors import current_document
from guichet.rules import dossier as fmt
from guichet.rules.eligibility import evaluate
from guichet.rules.grants import final_report_due
from guichet.rules.money import format_eur_fr


@transaction.atomic
def amend_grant(grant: Grant, by, *, reason: str, duration_months: int | None = None,
                expenses: list[fmt.Expense] | None = None, now=None) -> Amendment:
    """An avenant: a longer duration (never beyond the call's maximum) and/or budget moved
    between lines and members. The rules core re-checks the amended dossier; the eligible base
    and the award do not change; every version is kept."""
    require_perm(by, "review.instruct", grant.dossier)
    if not reason.strip():
        raise GrantRefused(_("Motivez l'avenant."), field="reason")
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    current = current_document(locked)
    amended = msgspec.structs.replace(
        current, duration_months=duration_months or current.duration_months,
        expenses=expenses if expenses is not None else current.expenses)
    amended = fmt.dossier_from_builtins(fmt.dossier_to_builtins(amended))
    rules = grant.dossier.call.rules()
    verdict = evaluate(msgspec.structs.replace(amended, submitted_at=None,
                                               first_submitted_at=None), rules)
    failed = [r for r in verdict.results if not r.ok]
    if failed:
        raise GrantRefused(_("L'avenant ne respecte pas les règles de l'appel : %(rules)s")
                           % {"rules": " ".join(r.message for r in failed)})
    if verdict.figures.eligible_base != locked.eligible_base:
        raise GrantRefused(_("Un avenant déplace le budget sans changer l'assiette éligible "
                             "(%(base)s).") % {"base": format_eur_fr(locked.eligible_base)},
                           field="expenses")
    locked.version += 1
    locked.duration_months = amended.duration_months
    locked.save(update_fields=["version", "duration_months"])
    amendment = Amendment.objects.create(
        grant=locked, version=locked.version, reason=reason.strip(),
        document=fmt.dossier_to_builtins(amended), created_by=by, created_at=now or server_now())
    Report.objects.filter(grant=locked, kind=ReportKind.FINAL).update(due_on=final_report_due(
        locked.start_date, locked.duration_months, rules.reporting.final_report_delay_months))
    append_event(AuditAction.GRANT_AMENDED, grant.dossier, by=by,
                 details={"version": locked.version, "duration": locked.duration_months})
    return amendment


def move_budget(grant: Grant, by, *, from_line: int, to_line: int, amount: Decimal,
                reason: str) -> Amendment:
    """An avenant moving `amount` from one expense line to another (between members or
    categories), re-checked by the rules like any amendment. Lines are counted from 0 in the
    grant's current budget."""
    expenses = list(current_document(grant).expenses)
    if not (0 <= from_line < len(expenses) and 0 <= to_line < len(expenses)) \
            or from_line == to_line:
        raise GrantRefused(_("Choisissez deux lignes différentes du budget."), field="to_line")
    if amount <= 0 or amount > expenses[from_line].amount:
        raise GrantRefused(_("Le montant déplacé doit être positif et au plus celui de la ligne "
                             "d'origine (%(amount)s).")
                           % {"amount": format_eur_fr(expenses[from_line].amount)},
                           field="amount")
    expenses[from_line] = msgspec.structs.replace(
        expenses[from_line], amount=expenses[from_line].amount - amount)
    expenses[to_line] = msgspec.structs.replace(
        expenses[to_line], amount=expenses[to_line].amount + amount)
    return amend_grant(grant, by, reason=reason, expenses=expenses)
