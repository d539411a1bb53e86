from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import MONEY, Call, Wave
from guichet.core import labels


class Organisation(models.Model):
    siret = models.CharField("SIRET", max_length=14, unique=True)
    name = models.CharField(_("raison sociale"), max_length=300)
    region = models.CharField(_("région"), max_length=2, blank=True, db_index=True,
                              choices=labels.REGION_CHOICES)
    # From the public company search when it answered (guichet.dossiers.company_search), or
    # as typed: the head office's address, the INSEE legal category and the NAF activity code.
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    legal_form = models.CharField(_("catégorie juridique"), max_length=4, blank=True)
    activity_code = models.CharField(_("code d'activité (NAF)"), max_length=6, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"

    @property
    def siren(self) -> str:
        return self.siret[:9]


class Affiliation(models.Model):
    """A person acting for an organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="affiliations")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="affiliations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"],
                                               name="one_affiliation_per_user_and_organisation")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"


class Consortium(models.Model):
    name = models.CharField(_("nom"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or f"consortium {self.pk}"


class ConsortiumMember(models.Model):
    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="memberships")
    name = models.CharField(_("nom déclaré"), max_length=300)
    kind = models.CharField(_("catégorie"), max_length=32, choices=labels.MEMBER_KIND_CHOICES)
    is_lead = models.BooleanField(_("chef de file"), default=False)
    position = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["consortium", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "organisation"],
                                    name="organisation_once_per_consortium"),
            models.UniqueConstraint(fields=["consortium"], condition=Q(is_lead=True),
                                    name="at_most_one_lead_per_consortium"),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    """A person taking part in a consortium for one of its members.

    The only thing that opens a consortium's dossiers to a person. It is made for the person
    who starts a dossier (lead member), for the person who accepts the lead's invitation, and
    for the account an operator names when importing a dossier. Acting for an organisation
    (`Affiliation`) opens nothing by itself: SIRETs are public."""

    class How(models.TextChoices):
        CREATED = "created", _("a créé le dossier")
        INVITATION = "invitation", _("a accepté une invitation du chef de file")
        DESIGNATED = "designated", _("désigné par un opérateur")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="participations")
    member = models.ForeignKey(ConsortiumMember, on_delete=models.CASCADE,
                               related_name="participants")
    joined_at = models.DateTimeField()
    how = models.CharField(max_length=16, choices=How.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "member"],
                                               name="one_participation_per_user_and_member")]

    def __str__(self) -> str:
        return f"{self.user} for {self.member}"


class Invitation(models.Model):
    """An e-mail invitation from the lead to take part in a consortium.

    Either for a new partner organisation (chosen by the invitee on acceptance, `member` is then
    the member it created) or for an existing non-lead member (`member` named by the lead)."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE,
                                   related_name="invitations")
    email = models.EmailField(_("adresse électronique"))
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    member = models.ForeignKey(ConsortiumMember, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.email} → {self.consortium}"


class DossierStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    SUBMITTED = "submitted", _("déposé")
    CORRECTION_REQUESTED = "correction_requested", _("corrections demandées")
    INSTRUCTED = "instructed", _("instruit")
    SELECTED = "selected", _("retenu")
    REJECTED = "rejected", _("non retenu")
    REDIRECTED = "redirected", _("réorienté")


class Dossier(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="dossiers")
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="dossiers")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="dossiers")
    status = models.CharField(max_length=24, choices=DossierStatus.choices,
                              default=DossierStatus.DRAFT)
    receipt_number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    title = models.CharField(_("titre"), max_length=300, blank=True)
    summary = models.TextField(_("résumé"), blank=True)
    scope = models.CharField(_("portée"), max_length=16, blank=True,
                             choices=labels.SCOPE_CHOICES)
    pooling_commitment = models.BooleanField(_("engagement de mutualisation"), null=True)
    start_date = models.DateField(_("date de début"), null=True, blank=True)
    duration_months = models.PositiveSmallIntegerField(_("durée (mois)"), null=True, blank=True)
    sector = models.SlugField(_("filière"), blank=True)  # a sector id of the call definition
    # Copied from the latest submission so that staff lists filter and sort in SQL.
    requested_aid = models.DecimalField(null=True, blank=True, **MONEY)
    eligible_at_receipt = models.BooleanField(null=True)
    keywords = models.CharField(_("mots-clés"), max_length=500, blank=True)
    # The first receipt instant (a correction keeps it), for the staff list to sort on.
    received_at = models.DateTimeField(_("reçu le"), null=True, blank=True)
    # Title, summary, members' names and SIRET as one text, written with each submission
    # (guichet.dossiers.search): the staff list searches it, through a GIN index of its French
    # text-search vector on PostgreSQL.
    search_text = models.TextField(blank=True, editable=False)
    # When `guichet purge` erased its personal data (guichet.privacy.purge), once its
    # retention ended.
    personal_data_erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the project section
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "consortium"],
                                               name="one_dossier_per_consortium_and_call")]
        indexes = [models.Index(fields=["call", "status"]),
                   models.Index(fields=["wave", "status"]),
                   models.Index(fields=["wave", "requested_aid"]),
                   models.Index(fields=["call", "received_at"])]

    def __str__(self) -> str:
        return self.title or f"dossier {self.pk}"


class Milestone(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="milestones")
    month = models.PositiveSmallIntegerField(_("mois"))
    kind = models.CharField(_("type"), max_length=16, choices=labels.MILESTONE_KIND_CHOICES)
    label = models.TextField(_("libellé"))
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["dossier", "position", "pk"]

    def __str__(self) -> str:
        return f"M{self.month} {self.label}"


class ExpenseLine(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="expenses")
    member = models.ForeignKey(ConsortiumMember, on_delete=models.PROTECT,
                               related_name="expenses")
    category = models.CharField(_("catégorie"), max_length=64)
    label = models.TextField(_("libellé"))
    amount = models.DecimalField(_("montant"), **MONEY)
    eligible = models.BooleanField(_("éligible"))
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["dossier", "position", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0),
                                              name="expense_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"


class FinancingLine(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="financing")
    source = models.CharField(_("source"), max_length=16,
                              choices=labels.FINANCING_SOURCE_CHOICES)
    member = models.ForeignKey(ConsortiumMember, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="financing")
    amount = models.DecimalField(_("montant"), **MONEY)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["dossier", "position", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0),
                                              name="financing_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.source} {self.amount}"


class CorrectionRequest(models.Model):
    """Points the instruction asks the lead to correct, with a deadline."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE,
                                related_name="correction_requests")
    points = models.TextField(_("points à corriger"))
    deadline = models.DateTimeField(_("date limite"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dossier", "requested_at"]

    def __str__(self) -> str:
        return f"correction {self.dossier_id}"


class DossierAnswers(models.Model):
    """The dossier's answers to its call's own form sections (the questions its definition
    declares, guichet.rules.sections), by question id, as `clean_answers` keeps them."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="answers")
    values = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"answers of {self.dossier_id}"


class ActiveContent(models.TextChoices):
    """What a PDF can do when it is opened (guichet.dossiers.pdf_check), shown to staff."""

    JAVASCRIPT = "javascript", _("Contient du JavaScript")
    EMBEDDED_FILE = "embedded_file", _("Contient des fichiers intégrés")
    LAUNCH = "launch", _("Peut lancer un programme")


def active_content_labels(codes: list[str]) -> list[str]:
    return [str(ActiveContent(code).label) for code in codes if code in ActiveContent.values]


def document_path(document, filename: str) -> str:
    return f"documents/{document.sha256[:2]}/{document.sha256}.pdf"


class Document(models.Model):
    """An attachment (PDF checked by content), stored under its SHA-256."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    kind = models.SlugField(_("pièce"))  # a document id of the call definition
    file = models.FileField(upload_to=document_path, max_length=200)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, related_name="+")
    uploaded_at = models.DateTimeField()
    # ActiveContent values found in the file when it was checked (empty: nothing found).
    active_content = models.JSONField(_("contenu actif"), default=list, blank=True)

    class Meta:
        ordering = ["dossier", "kind", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def active_content_labels(self) -> list[str]:
        return active_content_labels(self.active_content)


class Submission(models.Model):
    """A frozen version of a dossier as received, with its receipt instant and hash."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="submissions")
    version = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="submissions")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    snapshot = models.TextField()  # canonical JSON of guichet.submission/1, exactly as hashed
    sha256 = models.CharField(max_length=64)
    rules_version = models.CharField(max_length=64)
    eligible = models.BooleanField()
    verdict = models.JSONField()

    class Meta:
        ordering = ["dossier", "version"]
        constraints = [models.UniqueConstraint(fields=["dossier", "version"],
                                               name="one_submission_per_version")]

    def __str__(self) -> str:
        return f"{self.dossier.receipt_number} v{self.version}"


def wave_archive_path(instance, filename: str) -> str:
    return f"archives/wave-{instance.wave_id}/{instance.pk}-{filename}"


class WaveArchive(models.Model):
    """A ZIP of every dossier of a wave, asked for by a staff member and built in the
    background (guichet.dossiers.archives); it is ready once `ready_at` is set."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="archives")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField()
    file = models.FileField(upload_to=wave_archive_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    dossiers = models.PositiveIntegerField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.wave} archive {self.pk}"
