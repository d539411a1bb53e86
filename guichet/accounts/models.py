from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person: signs in with an e-mail address (no user name)."""

    username = None
    email = models.EmailField(_("adresse électronique"), unique=True)
    # Staff who receive many notifications may ask for one mail a day instead of one each.
    mail_digest = models.BooleanField(_("résumé quotidien des notifications"), default=False)
    # The language of the person's pages once signed in, and of every mail sent to them.
    language = models.CharField(_("langue"), max_length=8, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class TokenScope(models.TextChoices):
    READ = "read", _("lecture seule")
    WRITE = "write", _("lecture et écriture")


class ApiToken(models.Model):
    """A personal API token. Only a digest of the secret is kept: the secret is shown once,
    when the token is made. A token acts with exactly its owner's permissions, narrowed by its
    scope (`read` refuses every change)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=80)
    # The secret's first characters, to tell tokens apart in a list and in logs.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("portée"), max_length=8, choices=TokenScope.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        # The API's throttle keys its counter on this: one counter per token (the random
        # prefix, not the id, which another database may give another token).
        return f"api-token {self.prefix}"
