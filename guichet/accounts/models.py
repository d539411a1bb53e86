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
