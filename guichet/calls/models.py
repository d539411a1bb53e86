from django.db import models
from django.utils.translation import gettext_lazy as _

from guichet.rules.definition import CallDefinition, definition_from_builtins

MONEY = {"max_digits": 14, "decimal_places": 2}


class Programme(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(_("nom"), max_length=300)
    name_en = models.CharField(max_length=300)
    envelope = models.DecimalField(_("enveloppe"), **MONEY)

    def __str__(self) -> str:
        return self.name


class CallStatus(models.TextChoices):
    OPEN = "open", _("ouvert")
    CLOSED = "closed", _("clos")


class Call(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="calls")
    code = models.SlugField(unique=True)
    name = models.CharField(_("nom"), max_length=300)
    name_en = models.CharField(max_length=300)
    rules_version = models.CharField(max_length=64)
    definition = models.JSONField()  # the validated definition this instance runs
    definition_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.OPEN)
    closed_message = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == CallStatus.CLOSED

    def rules(self) -> CallDefinition:
        """The call definition, parsed once per process and per content."""
        key = (self.pk, self.definition_sha256)
        definition = _definitions.get(key)
        if definition is None:
            definition = _definitions[key] = definition_from_builtins(
                self.definition, source=f"call {self.code}")
        return definition


_definitions: dict[tuple, CallDefinition] = {}


class CallDefinitionVersion(models.Model):
    """Every rules version ever loaded for a call, with its source, kept for audit."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="versions")
    rules_version = models.CharField(max_length=64)
    source = models.TextField()
    source_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "rules_version"],
                                               name="one_source_per_rules_version")]

    def __str__(self) -> str:
        return f"{self.call.code} {self.rules_version}"


class Wave(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="waves")
    code = models.SlugField()
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("nom"), max_length=300)
    name_en = models.CharField(max_length=300)
    opens_at = models.DateTimeField(_("ouverture"))
    closes_at = models.DateTimeField(_("clôture"))
    budget = models.DecimalField(_("budget"), null=True, blank=True, **MONEY)  # None: what remains

    class Meta:
        ordering = ["call", "position"]
        constraints = [models.UniqueConstraint(fields=["call", "code"], name="wave_code_per_call")]

    def __str__(self) -> str:
        return f"{self.call.code} {self.name}"

    def is_open_at(self, instant) -> bool:
        return self.opens_at <= instant < self.closes_at

    @property
    def is_cancelled(self) -> bool:
        """The call was closed before this wave opened: it never opens, and keeps its dates."""
        call = self.call
        return call.is_closed and (call.closed_at is None or call.closed_at <= self.opens_at)
