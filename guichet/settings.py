"""Django settings, read from the environment (12-factor).

Development works with no variable at all (SQLite in ./var, a throwaway secret key, console
mail). `GUICHET_ENV=production` refuses to start without `SECRET_KEY` and `ALLOWED_HOSTS`.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GUICHET_DATA_DIR", Path.cwd() / "var"))

ENVIRONMENT = os.environ.get("GUICHET_ENV", "development")
if ENVIRONMENT not in ("development", "test", "production"):
    raise ImproperlyConfigured(
        f"GUICHET_ENV={ENVIRONMENT!r}: expected development, test or production")
PRODUCTION = ENVIRONMENT == "production"


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0") == "1"


# Django's own deploy check (security.W009) asks for as much; production refuses less.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


def _refuse_weak_secret_key(key: str) -> None:
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        raise ImproperlyConfigured(
            f"GUICHET_ENV=production refuses a SECRET_KEY of {len(key)} characters with "
            f"{len(set(key))} distinct ones: it needs at least {SECRET_KEY_MIN_LENGTH} "
            f"characters and {SECRET_KEY_MIN_DISTINCT} distinct ones. Generate one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`.")


SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = _list("ALLOWED_HOSTS")
if PRODUCTION:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY),
                                        ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"GUICHET_ENV=production refuses to start without {' and '.join(missing)}: "
            "set them in the environment.")
    _refuse_weak_secret_key(SECRET_KEY)
    DEBUG = False
else:
    SECRET_KEY = SECRET_KEY or "development-only-not-secret"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
    DEBUG = os.environ.get("DEBUG", "1" if ENVIRONMENT == "development" else "0") == "1"

# No django.contrib.admin: nothing uses it, and every change goes through a service that
# checks permissions and writes the audit log, which the admin's forms would bypass.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "guichet.accounts.proconnect",
    "rules",
    "csp",
    "ninja",
    "guichet.core",
    "guichet.accounts",
    "guichet.audit",
    "guichet.calls",
    "guichet.dossiers",
    "guichet.review",
    "guichet.grants",
    "guichet.notifications",
    "guichet.opendata",
    "guichet.privacy",
    "guichet.portal",
    "guichet.backoffice",
    "guichet.web",
    "guichet.demo",
]

MIDDLEWARE = [
    "guichet.core.request_id.RequestIdMiddleware",
    "guichet.core.health.ProbeMiddleware",  # /healthz, /readyz, /metrics: before host checks
    "guichet.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "guichet.core.middleware.FrenchUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guichet.core.middleware.PersonLanguageMiddleware",
    "guichet.core.middleware.PrivateWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "guichet.web.mfa.StaffTwoFactorMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if ENVIRONMENT == "test":
    # Argon2 is deliberately slow; tests create many users and need no brute-force resistance.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Two-factor authentication (allauth's MFA): an authenticator app (TOTP) and recovery codes,
# optional for applicants and, with STAFF_MFA_REQUIRED (on in production), required before any
# back-office page.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Guichet"
STAFF_MFA_REQUIRED = _flag("STAFF_MFA_REQUIRED", PRODUCTION)

# Accounts (django-allauth): e-mail only, confirmed before use, rate-limited.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("LOGIN_FAILED_RATE", "5/5m/ip,5/5m/key"),
    "signup": "20/h/ip",
    "reset_password": "20/h/ip,5/h/key",
}
LOGIN_REDIRECT_URL = "/espace/"  # staff: the back office (AccountAdapter)
# ProConnect (OpenID Connect), beside e-mail and password, when its client is configured:
# PROCONNECT_URL is the issuer (its /.well-known/openid-configuration is read).
PROCONNECT_URL = os.environ.get("PROCONNECT_URL", "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


SOCIALACCOUNT_PROVIDERS = {"proconnect": {"APPS": [{
    "client_id": os.environ.get("PROCONNECT_CLIENT_ID", ""),
    "secret": os.environ.get("PROCONNECT_CLIENT_SECRET", ""),
    "settings": {"server_url": PROCONNECT_URL, "token_auth_method": "client_secret_post"},
}]}} if PROCONNECT_URL else {}
# The provider proved the address: an account with the same address is signed in, a new one
# is made without a second confirmation; the pages still ask nothing more.
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
ACCOUNT_ADAPTER = "guichet.accounts.adapter.AccountAdapter"  # role landing, SITE_URL links
LOGIN_URL = "/comptes/login/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Guichet] "

# Every process shares one cache (allauth counts failed logins in it): Redis when set, else
# a table of the database (created by migration core 0001). Never a per-process memory cache.
DATABASE_CACHE_TABLE = "guichet_cache"
REDIS_URL = os.environ.get("REDIS_URL") or None
REDIS_TIMEOUT_S = 5  # a Redis that stops answering fails a request, never hangs it
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_S,
                            "socket_timeout": REDIS_TIMEOUT_S}}
    if REDIS_URL else
    {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
     "LOCATION": DATABASE_CACHE_TABLE}
}
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")

# Background work (mails, receipt PDFs, periodic jobs) goes through the outbox
# (guichet.notifications): to Celery workers on this broker when set (`guichet worker`,
# `guichet scheduler`), else in-process right after the transaction commits.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", os.environ.get("REDIS_URL", ""))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it to another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `guichet worker` and `guichet scheduler` lower their CPU priority by this much (os.nice): the
# web processes come first, and a surge of submissions leaves its receipt PDFs and mails in the
# outbox for afterwards instead of being slowed down by them. 0 keeps the same priority.
WORKER_NICENESS = int(os.environ.get("WORKER_NICENESS", "10"))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
OUTBOX_RETRY_BASE_SECONDS = int(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "60"))
# A pending row overdue by this much lost its hand-over: the sweep relays it again.
OUTBOX_SWEEP_GRACE_SECONDS = int(os.environ.get("OUTBOX_SWEEP_GRACE_SECONDS", "300"))
AUDIT_ANCHOR_FILE = os.environ.get("AUDIT_ANCHOR_FILE", "")
# The State's public company search ("API Recherche d'entreprises"), which fills in an
# organisation from its SIRET: a short timeout, answers kept a day in the shared cache.
COMPANY_SEARCH_URL = os.environ.get("COMPANY_SEARCH_URL",
                                    "https://recherche-entreprises.api.gouv.fr")
COMPANY_SEARCH_TIMEOUT = float(os.environ.get("COMPANY_SEARCH_TIMEOUT", "2"))
COMPANY_SEARCH_CACHE_SECONDS = 24 * 3600
# Webhooks are refused towards loopback, private and link-local addresses in production, so
# that a call's administrator cannot make the server call the internal network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = _flag("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", not PRODUCTION)
# Requests each API token may make (django-ninja's rate syntax: "<n>/<s|m|h|d>").
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/m")

# The client's address, for the per-address login limits: REMOTE_ADDR unless a proxy we run
# sets a header we trust. X-Forwarded-For is read only when TRUSTED_PROXY_COUNT says how many
# of its entries our own proxies appended (a client can write the others).
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER") or None
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

ROOT_URLCONF = "guichet.urls"
WSGI_APPLICATION = "guichet.wsgi.application"

_loaders = ["django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader"]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [PACKAGE_DIR / "templates"],
    "OPTIONS": {
        "context_processors": [
            "django.template.context_processors.request",
            "django.template.context_processors.i18n",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
            # Not django-dsfr's `site_config`: it read the DsfrConfig table twice per page, a
            # table only Django's admin edits, which Guichet does not install.
        ],
        # Templates are compiled once per process (Hypha renders without a cached loader).
        "loaders": [("django.template.loaders.cached.Loader", _loaders)],
    },
}]

FORM_RENDERER = "guichet.core.forms.SharedDsfrRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'guichet.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A persistent connection the server dropped (restart, failover, idle timeout) is
        # replaced at the start of the next request instead of failing it with a 500.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE transactions take the write lock up front: two submissions never deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("GUICHET_STATIC_DIR", DATA_DIR / "static"))
# Production serves the files `guichet collectstatic` gathered, by WhiteNoise, under names
# that carry their hash (cached for a year) and pre-compressed; development serves them from
# the apps as they are (runserver, DEBUG).
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = Path(os.environ.get("GUICHET_MEDIA_DIR", DATA_DIR / "media"))
# Uploaded files (documents, signed agreements): the folder MEDIA_ROOT, or a bucket of an
# S3-compatible store when S3_BUCKET is set (README, "Storage"). Both private: no URL, no
# public ACL; our views serve each file after the permission check (guichet/core/storage.py).
S3_BUCKET = os.environ.get("S3_BUCKET", "")
STORAGES = {
    "default": {
        "BACKEND": "guichet.core.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            # Unset keys: boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            # Same as the folder: a name already taken gets a suffix, never overwritten.
            "file_overwrite": False,
        },
    } if S3_BUCKET else {"BACKEND": "guichet.core.storage.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if PRODUCTION else
                    "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# No uploaded file is kept beyond the largest any form accepts (a PDF document, 20 MiB): the
# rest is dropped as it arrives and the form says the file is too large (guichet/core/uploads.py).
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "guichet.core.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DEADLINE_REMINDER_DAYS = int(os.environ.get("DEADLINE_REMINDER_DAYS", "7"))
# An expert has REVIEW_DAYS to send a review and is reminded REVIEW_REMINDER_DAYS before.
REVIEW_DAYS = int(os.environ.get("REVIEW_DAYS", "21"))
REVIEW_REMINDER_DAYS = int(os.environ.get("REVIEW_REMINDER_DAYS", "3"))
INVITATION_VALIDITY_DAYS = int(os.environ.get("INVITATION_VALIDITY_DAYS", "14"))
# `guichet purge` anonymises an applicant account that takes part in no dossier any more and
# has not signed in for this many years.
ACCOUNT_RETENTION_YEARS = int(os.environ.get("ACCOUNT_RETENTION_YEARS", "2"))

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guichet@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Whom applicants write to, shown on the public page of each call.
CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _flag("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = _flag("EMAIL_USE_SSL", False)  # implicit TLS, usually on port 465
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))  # seconds; never hang a request
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: set one.")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS for a year, subdomains included (the service's own names: nothing of it is served
    # in clear). Preloading commits the whole registrable domain, which belongs to the funder
    # or ministry, not to this service: off unless its owner opts in, and Django's reminder
    # about it (security.W021) silenced while off.
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _flag("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp), in every environment so that development and the
# browser tests meet it: no inline script or style anywhere, everything from this origin
# (DSFR draws its icons with data: SVG images).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # The ProConnect button's form is answered by a redirect to the provider, which
        # browsers also hold to form-action.
        "form-action": ["'self'", *([_origin(PROCONNECT_URL)] if PROCONNECT_URL else [])],
        "frame-ancestors": ["'none'"],
    },
}

# One line per record on stderr, with the request id (guichet/core/request_id.py): JSON for a
# log collector in production, plain text for people elsewhere (LOG_FORMAT=json|text).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "guichet.core.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "guichet.core.jsonlog.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# /metrics (Prometheus) answers only a request with `Authorization: Bearer <METRICS_TOKEN>`;
# unset, it answers 404 (guichet/core/metrics.py says why a token and not an address rule).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Errors to Sentry only when SENTRY_DSN is set; no personal data (send_default_pii off).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", ENVIRONMENT),
        release=os.environ.get("SENTRY_RELEASE") or None,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,
    )

# The API's per-address throttle (before a token is known) reads X-Forwarded-For only as far
# as our own proxies wrote it, like the login limits.
NINJA_NUM_PROXIES = ALLAUTH_TRUSTED_PROXY_COUNT
