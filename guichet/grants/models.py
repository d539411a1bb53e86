"""Decisions on dossiers (and, later, agreements, commitments and payments)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import MONEY, Call, Wave
from guichet.dossiers.models import Dossier, active_content_labels


class Outcome(models.TextChoices):
    SELECTED = "selected", _("retenu")
    REJECTED = "rejected", _("non retenu")
    REDIRECTED = "redirected", _("réorienté vers un autre programme")


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("en préparation")
    PUBLISHED = "published", _("publiée")
    REVERTED = "reverted", _("annulée")


class Decision(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    awarded_aid = models.DecimalField(null=True, blank=True, **MONEY)
    motivation = models.TextField(blank=True)  # why rejected, or why less aid than requested
    redirected_to = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=DecisionStatus.choices,
                              default=DecisionStatus.PENDING)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    prepared_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    revert_motivation = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dossier"], condition=~Q(status="reverted"),
                                    name="one_live_decision_per_dossier"),
            models.CheckConstraint(
                condition=~Q(outcome="selected") | Q(awarded_aid__gt=0),
                name="selected_has_awarded_aid"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.outcome} ({self.status})"


class SelectionRun(models.Model):
    """A funding-line simulation kept for audit: the instance, the result, the explanation."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="+")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()
    instance = models.JSONField()  # the contract's format: auditable with `guichet select`
    normalised = models.BooleanField(default=False)  # scores normalised per expert (z-score)
    result = models.JSONField()
    explanation = models.JSONField()

    def __str__(self) -> str:
        return f"selection {self.wave} {self.created_at:%Y-%m-%d %H:%M}"


class GrantStatus(models.TextChoices):
    COMMITTED = "committed", _("engagée, convention à signer")
    SIGNED = "signed", _("convention signée")
    CLOSED = "closed", _("soldée")


def signed_agreement_path(grant, filename: str) -> str:
    return f"agreements/{grant.signed_sha256[:2]}/{grant.signed_sha256}.pdf"


class Grant(models.Model):
    """The aid awarded to a selected dossier, committed against the wave and the programme."""

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="grant")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="grant")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="grants")
    award = models.DecimalField(**MONEY)
    eligible_base = models.DecimalField(**MONEY)
    duration_months = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    status = models.CharField(max_length=16, choices=GrantStatus.choices,
                              default=GrantStatus.COMMITTED)
    committed_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_file = models.FileField(upload_to=signed_agreement_path, blank=True, max_length=200)
    signed_sha256 = models.CharField(max_length=64, blank=True)
    # ActiveContent values found in the signed agreement's PDF (guichet.dossiers.pdf_check).
    signed_active_content = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(award__gt=0),
                                              name="grant_award_positive")]
        indexes = [models.Index(fields=["wave", "status"])]

    def __str__(self) -> str:
        return f"grant {self.dossier.receipt_number}"

    @property
    def signed_active_content_labels(self) -> list[str]:
        return active_content_labels(self.signed_active_content)


class TrancheStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("à venir")
    DUE = "due", _("exigible")
    PAID = "paid", _("versée")


class Tranche(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="tranches")
    number = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=300)
    trigger = models.CharField(max_length=40)
    scheduled_amount = models.DecimalField(**MONEY)
    amount = models.DecimalField(null=True, blank=True, **MONEY)  # fixed when due
    status = models.CharField(max_length=16, choices=TrancheStatus.choices,
                              default=TrancheStatus.SCHEDULED)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["grant", "number"]
        constraints = [models.UniqueConstraint(fields=["grant", "number"],
                                               name="one_tranche_per_number")]

    def __str__(self) -> str:
        return f"tranche {self.number} of {self.grant_id}"

    @property
    def payment(self) -> "Payment | None":
        """The payment that settles the tranche now (none once reversed); prefetch
        `payments` when listing tranches."""
        if self.status != TrancheStatus.PAID:
            return None
        paid = [p for p in self.payments.all() if p.reverses_id is None]
        return max(paid, key=lambda p: p.attempt, default=None)


class Payment(models.Model):
    """A payment of a tranche, or the reversal of a mistaken one (`reverses` set, the opposite
    amount). Entries are never updated or deleted: a tranche is paid at most once per attempt
    (a new attempt only after a reversal) and a payment is reversed at most once, both
    guaranteed by the database."""

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="payments")
    attempt = models.PositiveSmallIntegerField(default=1)
    amount = models.DecimalField(**MONEY)
    paid_on = models.DateField()
    reference = models.CharField(max_length=100)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversal")
    reason = models.TextField(blank=True)  # why a payment was reversed
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tranche", "attempt"],
                                    condition=Q(reverses__isnull=True),
                                    name="one_payment_per_tranche_attempt"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gte=0)
                | Q(reverses__isnull=False, amount__lte=0),
                name="reversal_amount_opposite"),
        ]

    def __str__(self) -> str:
        return f"{'reversal' if self.reverses_id else 'payment'} {self.reference}"


class RecoveryOrder(models.Model):
    """Ordre de reversement: what the beneficiary owes back when expenses fell short."""

    grant = models.OneToOneField(Grant, on_delete=models.PROTECT, related_name="recovery")
    amount = models.DecimalField(**MONEY)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")

    def __str__(self) -> str:
        return f"recovery {self.grant_id} {self.amount}"


class ReportKind(models.TextChoices):
    INTERMEDIATE = "intermediate", _("rapport intermédiaire")
    FINAL = "final", _("rapport final")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    SUBMITTED = "submitted", _("remis")
    CHANGES_REQUESTED = "changes_requested", _("compléments demandés")
    APPROVED = "approved", _("approuvé")


class Report(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=ReportStatus.choices,
                              default=ReportStatus.DRAFT)
    narrative = models.TextField(blank=True)
    indicators = models.JSONField(default=dict)  # indicator id -> actual value
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["grant", "due_on"]
        constraints = [models.UniqueConstraint(fields=["grant", "kind"],
                                               name="one_report_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} report of {self.grant_id}"


class ReportExpense(models.Model):
    """The statement of actual expenses: per member and category."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="expenses")
    member = models.ForeignKey("dossiers.ConsortiumMember", on_delete=models.PROTECT,
                               related_name="+")
    category = models.SlugField()
    amount = models.DecimalField(**MONEY)
    eligible = models.BooleanField(default=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0),
                                              name="report_expense_not_negative")]

    def __str__(self) -> str:
        return f"{self.category} {self.amount}"


class Amendment(models.Model):
    """An avenant: a new version of the grant's duration and budget, re-checked by the rules;
    every version stays (the document is the dossier in the interchange format)."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="amendments")
    version = models.PositiveIntegerField()
    reason = models.TextField()
    document = models.JSONField()  # guichet.dossier/1 after the amendment
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["grant", "version"]
        constraints = [models.UniqueConstraint(fields=["grant", "version"],
                                               name="one_amendment_per_version")]

    def __str__(self) -> str:
        return f"avenant {self.version} of {self.grant_id}"
