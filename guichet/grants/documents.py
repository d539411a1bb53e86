"""The grant's PDFs: the agreement (convention) and the recovery order (ordre de reversement)."""

from decimal import Decimal

from guichet.core.clock import format_paris_instant
from guichet.core.pdf import render_pdf
from guichet.dossiers.format import submitted_dossier
from guichet.dossiers.selectors import lead_addressee
from guichet.grants.models import Grant


def agreement_pdf(grant: Grant) -> bytes:
    """The agreement generated from the call's template and the grant's figures."""
    dossier = grant.dossier
    rules = dossier.call.rules()
    frozen = submitted_dossier(dossier.submissions.order_by("-version").first().snapshot)
    organisation, representative = lead_addressee(dossier)
    return render_pdf("grants/agreement.html", {
        "grant": grant, "dossier": dossier, "frozen": frozen, "rules": rules,
        "lead": organisation, "representative": representative,
        "rate": (grant.award / grant.eligible_base * 100).quantize(Decimal("0.01")),
        "tranches": grant.tranches.order_by("number"),
        "reports": grant.reports.order_by("due_on"),
        "signed_at": format_paris_instant(grant.signed_at) if grant.signed_at else None})


def recovery_order_pdf(grant: Grant) -> bytes:
    return render_pdf("grants/recovery_order.html", {
        "grant": grant, "dossier": grant.dossier, "order": grant.recovery,
        "issued_at": format_paris_instant(grant.recovery.issued_at)})
