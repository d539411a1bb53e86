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


# --- the instruction workbench: labels, saved filters, annotations, follows, assignees ----

class BadgeColour(models.TextChoices):
    """The DSFR badge palette (accent colours), for the labels staff define."""

    GREEN_TILLEUL_VERVEINE = "green-tilleul-verveine", _("vert tilleul verveine")
    GREEN_BOURGEON = "green-bourgeon", _("vert bourgeon")
    GREEN_EMERAUDE = "green-emeraude", _("vert émeraude")
    GREEN_MENTHE = "green-menthe", _("vert menthe")
    GREEN_ARCHIPEL = "green-archipel", _("vert archipel")
    BLUE_ECUME = "blue-ecume", _("bleu écume")
    BLUE_CUMULUS = "blue-cumulus", _("bleu cumulus")
    PURPLE_GLYCINE = "purple-glycine", _("violet glycine")
    PINK_MACARON = "pink-macaron", _("rose macaron")
    PINK_TUILE = "pink-tuile", _("rose tuile")
    YELLOW_TOURNESOL = "yellow-tournesol", _("jaune tournesol")
    YELLOW_MOUTARDE = "yellow-moutarde", _("jaune moutarde")
    ORANGE_TERRE_BATTUE = "orange-terre-battue", _("orange terre battue")
    BROWN_CAFE_CREME = "brown-cafe-creme", _("brun café crème")
    BROWN_CARAMEL = "brown-caramel", _("brun caramel")
    BROWN_OPERA = "brown-opera", _("brun opéra")
    BEIGE_GRIS_GALET = "beige-gris-galet", _("beige gris galet")


class Label(models.Model):
    """A label the staff of a call put on its dossiers (e.g. "à revoir", "dossier phare")."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(_("nom"), max_length=60)
    colour = models.CharField(_("couleur"), max_length=24, choices=BadgeColour.choices)
    dossiers = models.ManyToManyField(Dossier, related_name="labels", blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["call", "name"],
                                               name="one_label_name_per_call")]

    def __str__(self) -> str:
        return self.name


class SavedFilter(models.Model):
    """A person's filters of a call's dossier list, saved under a name (the query string)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_filters")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("nom"), max_length=80)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "call", "name"],
                                               name="one_saved_filter_name")]

    def __str__(self) -> str:
        return self.name


class AnnotationKind(models.TextChoices):
    VIGILANCE = "vigilance", _("point de vigilance")
    QUESTION = "question", _("question à instruire")
    SYNTHESIS = "synthesis", _("synthèse")
    FOLLOW_UP = "follow_up", _("suite à donner")


class Annotation(models.Model):
    """A private, structured note of the staff on a dossier: never shown to applicants nor to
    experts."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="annotations")
    kind = models.CharField(_("nature"), max_length=16, choices=AnnotationKind.choices)
    body = models.TextField(_("annotation"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"annotation {self.pk}"


class Follow(models.Model):
    """A staff member follows a dossier (the notifications that follow are another matter)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="follows")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "user"],
                                               name="one_follow_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.dossier_id}"


class DossierInstructor(models.Model):
    """The instructor in charge of a dossier."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE,
                                   related_name="instructor_assignment")
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.instructor_id} instructs {self.dossier_id}"
