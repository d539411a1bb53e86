"""Commitment of a selected decision's aid against the envelopes, and its release when the
decision is reverted. Amounts are exact to the cent; commitments are serialised on the
programme's row so that parallel publications never over-commit an envelope."""

from django.utils.translation import gettext as _

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, Programme
from guichet.calls.services import close_call
from guichet.core.clock import now as server_now
from guichet.dossiers.format import submitted_dossier
from guichet.grants.errors import GrantRefused
from guichet.grants.models import Decision, Grant, Payment, Report, ReportKind, Tranche
from guichet.grants.selectors import allowances, programme_remaining
from guichet.notifications.outbox import enqueue
from guichet.rules.eligibility import compute_figures
from guichet.rules.grants import final_report_due, months_after, tranche_amounts
from guichet.rules.money import ZERO, format_eur_fr


def commit_grant(decision: Decision, by, now=None) -> Grant:
    """Commit a selected decision's aid; refused with the remaining amount when it does not fit
    the wave or the programme. Call inside the transaction that publishes the decision."""
    now = now or server_now()
    dossier = decision.dossier
    call = dossier.call
    # One lock per programme: commitments of all its calls and waves are serialised, so the
    # sums read below cannot change before this commitment is written. `make test` (SQLite,
    # which serialises every write) stays green without it: only the PostgreSQL run of
    # tests/grants/test_commitment_concurrency.py (.ci/run) fails if this lock goes.
    Programme.objects.select_for_update().get(pk=call.programme_id)
    available = allowances(call)[dossier.wave_id]
    if decision.awarded_aid > available:
        raise GrantRefused(_(
            "Engagement refusé pour le dossier %(number)s : l'aide de %(aid)s dépasse ce qui "
            "reste à engager (%(remaining)s).") % {
                "number": dossier.receipt_number, "aid": format_eur_fr(decision.awarded_aid),
                "remaining": format_eur_fr(max(available, ZERO))})
    frozen = submitted_dossier(dossier.submissions.order_by("-version").first().snapshot)
    figures = compute_figures(frozen, call.rules())
    grant = Grant.objects.create(
        dossier=dossier, decision=decision, wave=dossier.wave, award=decision.awarded_aid,
        eligible_base=figures.eligible_base, duration_months=frozen.duration_months,
        start_date=frozen.start_date or now.date(), committed_at=now)
    _schedule(grant, call)
    append_event(AuditAction.GRANT_COMMITTED, dossier, by=by, at=now,
                 details={"award": str(grant.award), "wave": dossier.wave.code})
    # After the commitment commits, in its own transaction: the closure takes the call's lock.
    enqueue("close_if_exhausted", {"call_pk": call.pk})
    return grant


def close_if_exhausted(call_pk: int) -> bool:
    """Close the call by itself when what remains of the programme falls below the threshold."""
    call = Call.objects.select_related("programme").get(pk=call_pk)
    threshold = call.rules().funding.early_closure_threshold
    remaining = programme_remaining(call.programme)
    if call.is_closed or remaining >= threshold:
        return False
    close_call(call, None, _(
        "L'enveloppe du programme est consommée (reste %(remaining)s, moins que l'aide minimale "
        "d'un projet) : l'appel est clos.") % {"remaining": format_eur_fr(remaining)})
    return True


def _schedule(grant: Grant, call: Call) -> None:
    rules = call.rules()
    amounts = tranche_amounts(grant.award, [tranche.share for tranche in rules.tranches])
    Tranche.objects.bulk_create(
        Tranche(grant=grant, number=number, label=tranche.label, trigger=tranche.trigger,
                scheduled_amount=amount)
        for number, (tranche, amount) in enumerate(zip(rules.tranches, amounts, strict=True),
                                                   start=1))
    intermediate_due = months_after(grant.start_date, rules.eligibility.first_results_month)
    final_due = final_report_due(grant.start_date, grant.duration_months,
                                 rules.reporting.final_report_delay_months)
    Report.objects.bulk_create([
        Report(grant=grant, kind=ReportKind.INTERMEDIATE, due_on=intermediate_due),
        Report(grant=grant, kind=ReportKind.FINAL, due_on=final_due)])


def release_grant(decision: Decision, by) -> None:
    """Undo the commitment of a reverted decision, releasing its aid into the envelopes.
    Refused once money was paid: that takes a recovery order, not a revert."""
    grant = Grant.objects.select_for_update().filter(decision=decision).first()
    if grant is None:
        return
    if Payment.objects.filter(tranche__grant=grant).exists():
        raise GrantRefused(_("Des versements ont eu lieu sur cette subvention : elle ne peut "
                             "être annulée que par un ordre de reversement."))
    append_event(AuditAction.GRANT_RELEASED, grant.dossier, by=by,
                 details={"award": str(grant.award)})
    grant.tranches.all().delete()
    grant.reports.all().delete()
    grant.delete()
