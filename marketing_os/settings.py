"""Marketing OS settings: one file, read from the environment (and `.env`).

The environment wins over `.env`. Bad values fail fast at start-up.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from marketing_os.db import embedded_database_settings

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_number(name: str, default: float, *, minimum: float = 0) -> float:
    value = os.environ.get(name) or str(default)
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value!r}")
    return number


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    number = env_number(name, default, minimum=minimum)
    if not number.is_integer():
        raise ImproperlyConfigured(f"{name} must be a whole number, not {os.environ[name]!r}")
    return int(number)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # OpClass in index expressions (the audit trail's actor index)
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "auditlog",
    "axes",
    "marketing_os",
    "audit",
    "customers",
    "funnel",
    "segments",
    "templates_app",
    "automations",
]

MIDDLEWARE = [
    "marketing_os.request_log.RequestLogMiddleware",  # first: it times and logs everything
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "audit.actors.AuditActorMiddleware",  # after auth: entries name the logged-in user
    "marketing_os.access.RoleMiddleware",  # a signed-in user without a role: the 403 page
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "marketing_os.urls"
WSGI_APPLICATION = "marketing_os.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "marketing_os" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": embedded_database_settings(BASE_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = int(env_number("CONN_MAX_AGE", 60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes; docs/roles.md): after LOGIN_FAILURE_LIMIT failed logins for
# one username from one address, that pair is refused — right password or not — for
# LOGIN_LOCKOUT_MINUTES after the last failure. Counted in the database (shared by every
# gunicorn worker); a successful login clears the count; `manage.py axes_reset` unlocks all.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_number("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the page can say when it ends
AXES_CLIENT_IP_CALLABLE = "marketing_os.lockout.client_ip"  # behind the proxy: X-Forwarded-For
AXES_LOCKOUT_CALLABLE = "marketing_os.lockout.locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False  # no banner on every command; failures and lockouts are still logged

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / "var" / "uploads"

# The audit trail (docs/audit.md): django-auditlog writing our own `audit.AuditEntry`,
# changes as JSON with related objects by name; its own default table is never built.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
AUDITLOG_DISABLE_REMOTE_ADDR = True
MIGRATION_MODULES = {"auditlog": None}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# Uploads: big CSV files stream to disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Security headers (stricter ones switch on with DEBUG off).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes call it over plain HTTP on loopback
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env_number("SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }
}

# Outside services and limits.
RESEND_API_KEY = os.environ.get("RESEND_API_KEY", "")
EMAIL_FROM = os.environ.get("EMAIL_FROM", "")
RESEND_REQUESTS_PER_SECOND = env_number("RESEND_REQUESTS_PER_SECOND", 2, minimum=0.01)
# How long one call to Resend may take before it counts as failed (and is retried).
RESEND_TIMEOUT_SECONDS = env_number("RESEND_TIMEOUT_SECONDS", 20, minimum=0.1)
# A run that loses its database reconnects for at most this long, then stops
# unfinished (exit 69) for the next invocation to resume (docs/sending.md, Faults).
RUN_DATABASE_RETRY_SECONDS = env_number("RUN_DATABASE_RETRY_SECONDS", 300, minimum=0)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Unsubscribe (docs/unsubscribe.md): an address for List-Unsubscribe's mailto (optional), and
# the signing secret of the Resend webhook ("whsec_…"; the webhook answers 503 without it).
UNSUBSCRIBE_MAILTO = os.environ.get("UNSUBSCRIBE_MAILTO", "")
RESEND_WEBHOOK_SECRET = os.environ.get("RESEND_WEBHOOK_SECRET", "")
API_MAX_ITEMS = int(env_number("API_MAX_ITEMS", 1000, minimum=1000))
API_MAX_BODY_BYTES = int(env_number("API_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024))
# Requests a minute per API key unless the key says otherwise; 0: unlimited (docs/api.md).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600)
# CSV uploads at or below this size are imported within the request; larger
# ones run in a background process and report progress on the import page.
IMPORT_INLINE_MAX_BYTES = int(env_number("IMPORT_INLINE_MAX_BYTES", 2 * 1024 * 1024))
# SQL segments: marketers' SQL runs under this read-only role with this timeout;
# evaluated members are reused for this long before pages evaluate again.
SEGMENT_SQL_TIMEOUT_SECONDS = env_number("SEGMENT_SQL_TIMEOUT_SECONDS", 10, minimum=0.1)
SEGMENT_SQL_ROLE = os.environ.get("SEGMENT_SQL_ROLE", "mos_segment_reader")
SEGMENT_MAX_AGE_SECONDS = env_number("SEGMENT_MAX_AGE_SECONDS", 900)

# One JSON object per line (request lines included) in production; text while developing.
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "marketing_os.request_log.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failed logins and lockouts, not every login
    },
}
