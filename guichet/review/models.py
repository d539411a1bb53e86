"""Instruction, experts, assignment and scores."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import Call
from guichet.dossiers.models import Dossier, Organisation


class Role(models.TextChoices):
    INSTRUCTOR = "instructor", _("instructeur")
    EXPERT = "expert", _("expert")
    COMMITTEE = "committee", _("membre du comité de sélection")
    ADMINISTRATOR = "administrator", _("administrateur")


class CallRole(models.Model):
    """A staff role granted on one call."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="call_roles")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "call", "role"],
                                               name="one_role_grant")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.call.code}"


class Instruction(models.Model):
    """The instructor's check of a submitted dossier."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE,
                                   related_name="instruction")
    admissible = models.BooleanField(null=True)
    eligible = models.BooleanField(null=True)  # confirmed or overridden verdict
    overridden = models.BooleanField(default=False)
    motivation = models.TextField(blank=True)
    instructed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      null=True, related_name="+")
    instructed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"instruction {self.dossier_id}"


class Message(models.Model):
    """The dossier's thread (seen by applicants) or a private note (staff only)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(_("message"))
    private = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["dossier", "created_at", "pk"]
        indexes = [models.Index(fields=["dossier", "private"])]

    def __str__(self) -> str:
        return f"message {self.pk}"


class ExpertProfile(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="expert_profiles")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="experts")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    sectors = models.JSONField(default=list)  # sector ids of the call definition
    keywords = models.CharField(max_length=500, blank=True)
    max_load = models.PositiveSmallIntegerField(default=8)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "call"],
                                               name="one_expert_profile_per_call")]

    def __str__(self) -> str:
        return f"expert {self.user} ({self.call.code})"


class Conflict(models.Model):
    class Source(models.TextChoices):
        AUTOMATIC = "automatic", _("automatique (même SIREN)")
        DECLARED = "declared", _("déclaré par l'expert")

    expert = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE,
                               related_name="conflicts")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="conflicts")
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expert", "dossier"],
                                               name="one_conflict_per_pair")]

    def __str__(self) -> str:
        return f"conflict {self.expert_id}/{self.dossier_id}"


class Assignment(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(ExpertProfile, on_delete=models.PROTECT,
                               related_name="assignments")
    affinity = models.FloatField(default=0)  # a matching score, not money
    manual = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)  # the review is final
    # The day (Paris) the review is expected; the expert is reminded before it, told after it.
    due_on = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "expert"],
                                               name="one_assignment_per_pair")]
        indexes = [models.Index(fields=["expert", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.expert_id} → {self.dossier_id}"


class Score(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.SlugField()  # a criterion id of the call definition
    value = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "criterion"],
                                               name="one_score_per_criterion"),
                       models.CheckConstraint(condition=Q(value__lte=100),
                                              name="score_within_bounds")]

    def __str__(self) -> str:
        return f"{self.criterion}={self.value}"
