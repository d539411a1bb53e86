"""Decisions on dossiers (and, later, agreements, commitments and payments)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import MONEY, Call, Wave
from guichet.dossiers.models import Dossier


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
    instance = models.JSONField()
    result = models.JSONField()
    explanation = models.JSONField()

    def __str__(self) -> str:
        return f"selection {self.wave} {self.created_at:%Y-%m-%d %H:%M}"
