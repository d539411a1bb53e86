from django.conf import settings
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
    # The events some active webhook of the call listens to (calls.webhooks keeps it), so that
    # an action whose event nobody listens to costs no query.
    webhook_events = models.JSONField(default=list, blank=True)

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
    # Published from the back office's editor: who did, and what changed from the version
    # published before ([path, before, after], guichet.rules.definition_diff); a file loaded
    # with `guichet loadcall` has neither.
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    diff = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "rules_version"],
                                               name="one_source_per_rules_version")]

    def __str__(self) -> str:
        return f"{self.call.code} {self.rules_version}"


class CallDraft(models.Model):
    """A call definition being written in the back office's editor: a copy of `based_on` that
    becomes a new call when first published, or the next version of `based_on` itself (then
    `call` is `based_on` from the start). Nobody can apply to a draft: only publishing makes
    or changes a Call. `version` counts the saves, so that two people editing the same draft
    cannot overwrite each other unseen."""

    based_on = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="drafts_based_on")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="drafts")  # None until a copy is first published
    definition = models.JSONField()  # definition builtins (rules.definition_to_builtins)
    # The definition the call ran when this draft of its next version was opened: publishing
    # is refused if it changed meanwhile (another version published or loaded), so that a
    # draft never silently undoes it.
    base_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)  # None: still being written
    published_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"draft {self.pk} of {self.definition.get('id')}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_copy(self) -> bool:
        return self.call_id is None or self.call_id != self.based_on_id


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


class WebhookEvent(models.TextChoices):
    """What a call's webhooks can tell another system (the API's names, then the labels)."""

    DOSSIER_SUBMITTED = "dossier.submitted", _("Dossier déposé")
    CORRECTION_ANSWERED = "correction.answered", _("Corrections déposées")
    DECISION_PUBLISHED = "decision.published", _("Décision publiée")
    AGREEMENT_SIGNED = "agreement.signed", _("Convention signée")
    PAYMENT_RECORDED = "payment.recorded", _("Versement enregistré")
    REPORT_SUBMITTED = "report.submitted", _("Rapport remis")
    TEST = "test", _("Événement de test")


class WebhookEndpoint(models.Model):
    """An address of another system that a call's administrators asked to be told at. The
    secret signs each delivery (HMAC-SHA256); it is shown once, when the endpoint is made."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("adresse"), max_length=500)
    events = models.JSONField(default=list)  # WebhookEvent values
    secret = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    def __str__(self) -> str:
        return f"{self.call.code} → {self.url}"


class WebhookDelivery(models.Model):
    """One attempt to deliver an event, with what the endpoint answered."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.CharField(max_length=40)
    delivery_id = models.CharField(max_length=36)
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True)  # None: no answer
    response = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} {self.status_code}"


class CallMailText(models.Model):
    """A call's own text for one kind of mail in one language, written by its administrators in
    place of the platform's (guichet.mails.custom checks and renders it)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="mail_texts")
    kind = models.CharField(max_length=40)  # a guichet.notifications.kinds.Kind
    language = models.CharField(max_length=8)  # a code of settings.LANGUAGES
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "kind", "language"],
                                               name="one_mail_text_per_kind_and_language")]

    def __str__(self) -> str:
        return f"{self.call_id} {self.kind}.{self.language}"
