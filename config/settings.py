"""Django settings, read from the environment (12-factor).

Every variable is documented in README.md and .env.example. A malformed value stops the process at
start with a message naming the variable; no secret has a default outside DEBUG.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_bool(name: str, default: bool) -> bool:
    try:
        return env.bool(name, default=default)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be true or false: {error}") from error


def _env_int(name: str, default: int) -> int:
    raw = env.str(name, default=str(default))
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from error


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.str(name, default=default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


DEBUG = _env_bool("DJANGO_DEBUG", default=False)
# The demo start script sets DJANGO_DEBUG=true; production must set DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is not true")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 -- DEBUG only, never deployed
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "agents",
    "contact_centre",
    "sla",
    "recordings",
    "mail",
    "telephony",
    "intake",
    "workplace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "workplace.context.workplace",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    }
except (ValueError, KeyError) as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {error}") from error
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat, adapters) share the file: wait for the write lock
    # instead of failing at once, and take it at BEGIN so a read never upgrades into a deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Latvian first, English second.
LANGUAGE_CODE = "lv"
LANGUAGES = [("lv", "Latviešu"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = env.str("CC_TIME_ZONE", default="Europe/Riga")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as error:
    raise ImproperlyConfigured(f"CC_TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from error

# Sessions and CSRF: cookies only over HTTPS outside the demo (DEBUG), never readable by scripts except
# the CSRF token, which the pages' scripts send back in a header; a working day's session at most.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 10 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploads through the admin (real recordings of the line's prompts); never served by the app itself.
MEDIA_ROOT = VAR_DIR / "media"

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Valsts kase — klientu apkalpošanas SLA / Contact-centre SLA tracker",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "state"; name each enum after its model's choices.
    "ENUM_NAME_OVERRIDES": {
        "InteractionStateEnum": "contact_centre.models.InteractionState",
        "OutboundStateEnum": "mail.models.OutboundState",
        "ChannelEnum": "contact_centre.models.Channel",
        "WrittenChannelEnum": "contact_centre.models.WRITTEN_BY_HAND_CHOICES",
    },
}

# --- Celery -------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, got {REDIS_URL!r}")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task running when the broker connection drops finishes (Celery 6 would cancel it): an alert or a reply
# half-sent and then cancelled would be sent again by the sweep after its claim lapses.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Above the longest countdown any task is queued with, so Redis never redelivers a waiting task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Adapters (documented in .env.example; used by the mail and telephony issues) ---------------
CC_IMAP_HOST = env.str("CC_IMAP_HOST", default="127.0.0.1")
CC_IMAP_PORT = _env_int("CC_IMAP_PORT", default=143)
CC_IMAP_USER = env.str("CC_IMAP_USER", default="")
CC_IMAP_PASSWORD = env.str("CC_IMAP_PASSWORD", default="")
CC_IMAP_TLS = _env_choice("CC_IMAP_TLS", "none", ("none", "starttls", "tls"))
CC_IMAP_INBOX = env.str("CC_IMAP_INBOX", default="INBOX")
CC_IMAP_SENT = env.str("CC_IMAP_SENT", default="Sent")
CC_SMTP_HOST = env.str("CC_SMTP_HOST", default="127.0.0.1")
CC_SMTP_PORT = _env_int("CC_SMTP_PORT", default=25)
CC_SMTP_USER = env.str("CC_SMTP_USER", default="")
CC_SMTP_PASSWORD = env.str("CC_SMTP_PASSWORD", default="")
CC_SMTP_TLS = _env_choice("CC_SMTP_TLS", "none", ("none", "starttls", "tls"))
CC_SMTP_TIMEOUT = float(_env_int("CC_SMTP_TIMEOUT", default=30))
CC_MAIL_FROM = env.str("CC_MAIL_FROM", default="ekase@kase.gov.lv")
# Our Message-IDs end in @<this>, so our own mail is recognised when it comes back (bounces, loops).
CC_MAIL_MESSAGE_ID_DOMAIN = env.str(
    "CC_MAIL_MESSAGE_ID_DOMAIN", default="sla." + CC_MAIL_FROM.rpartition("@")[2].lower()
)
CC_SIP_BIND = env.str("CC_SIP_BIND", default="127.0.0.1:5070")
# The line (issue 4): Kamailio is the front door on CC_SIP_BIND (registrar for agents' phones, dispatcher
# over the call handlers); each call handler is a pjsua2 process serving CC_SIP_CALLS_PER_WORKER callers.
CC_SIP_DOMAIN = env.str("CC_SIP_DOMAIN", default="kase.gov.lv")
CC_SIP_LINE_NUMBER = env.str("CC_SIP_LINE_NUMBER", default="67094368")
CC_SIP_KAMAILIO = _env_choice("CC_SIP_KAMAILIO", "managed", ("managed", "external"))
CC_SIP_WORKERS = _env_int("CC_SIP_WORKERS", default=2)
CC_SIP_WORKER_HOST = env.str("CC_SIP_WORKER_HOST", default="127.0.0.1")
CC_SIP_WORKER_PORT = _env_int("CC_SIP_WORKER_PORT", default=5080)
CC_SIP_RTP_PORT = _env_int("CC_SIP_RTP_PORT", default=40000)
CC_SIP_UNIT = env.str("CC_SIP_UNIT", default="")
CC_SIP_RING_SECONDS = _env_int("CC_SIP_RING_SECONDS", default=15)
CC_SIP_MAX_WAIT_SECONDS = _env_int("CC_SIP_MAX_WAIT_SECONDS", default=120)
CC_SIP_WRAP_UP_SECONDS = _env_int("CC_SIP_WRAP_UP_SECONDS", default=10)
CC_SIP_RECORD_SPLIT = _env_bool("CC_SIP_RECORD_SPLIT", default=False)
CC_SIP_DRAIN_SECONDS = _env_int("CC_SIP_DRAIN_SECONDS", default=60)
CC_SIP_GATEWAY = env.str("CC_SIP_GATEWAY", default="")
CC_SIP_AGENT_NETWORKS = tuple(env.list("CC_SIP_AGENT_NETWORKS", default=["127.0.0.0/8"]))
# Journals of the call handlers (facts not yet in the ledger survive a crash here) and Kamailio's files.
CC_SIP_STATE_DIR = Path(env.str("CC_SIP_STATE_DIR", default=str(VAR_DIR / "telephony")))
for _name in ("CC_SIP_WORKERS", "CC_SIP_RING_SECONDS", "CC_SIP_MAX_WAIT_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, got {globals()[_name]}")
# Pre-breach warnings to a matter's owner, at these shares (%) of the working time a rule allows.
CC_SLA_WARN_AT = tuple(sorted({int(share) for share in env.list("CC_SLA_WARN_AT", default=["50", "80"])}))
if any(not 0 < share < 100 for share in CC_SLA_WARN_AT):  # noqa: PLR2004 -- percentages
    raise ImproperlyConfigured(f"CC_SLA_WARN_AT must be percentages between 1 and 99, got {CC_SLA_WARN_AT}")
# The sweep breaches a clock this long after its due time at the earliest: room for an adapter's write
# that is still in flight (a fact that comes later withdraws the breach anyway).
CC_SLA_SWEEP_GRACE_MS = env.int("CC_SLA_SWEEP_GRACE_MS", default=250)
if not 0 <= CC_SLA_SWEEP_GRACE_MS <= 60_000:  # noqa: PLR2004 -- a minute at most
    raise ImproperlyConfigured(f"CC_SLA_SWEEP_GRACE_MS must be 0..60000, got {CC_SLA_SWEEP_GRACE_MS}")
# Recordings older than this many days lose their audio in the nightly retention run, unless on legal hold.
CC_RECORDINGS_RETENTION_DAYS = env.int("CC_RECORDINGS_RETENTION_DAYS", default=365)
if CC_RECORDINGS_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        f"CC_RECORDINGS_RETENTION_DAYS must be at least 1, got {CC_RECORDINGS_RETENTION_DAYS}"
    )
CC_RECORDINGS_DIR = Path(env.str("CC_RECORDINGS_DIR", default=str(VAR_DIR / "recordings")))
# Scans of registered letters (post, e-address), stored by their SHA-256.
CC_SCANS_DIR = Path(env.str("CC_SCANS_DIR", default=str(VAR_DIR / "scans")))
CC_SCAN_MAX_BYTES = env.int("CC_SCAN_MAX_MB", default=25) * 1_000_000
# In-person visits (VISIT-BOOK): slot length, desks (bookings per slot), how far ahead one may book.
CC_VISIT_SLOT_MINUTES = env.int("CC_VISIT_SLOT_MINUTES", default=30)
CC_VISIT_DESKS = env.int("CC_VISIT_DESKS", default=2)
CC_VISIT_HORIZON_DAYS = env.int("CC_VISIT_HORIZON_DAYS", default=90)
for _name, _value, _low, _high in (
    ("CC_SCAN_MAX_MB", CC_SCAN_MAX_BYTES // 1_000_000, 1, 500),
    ("CC_VISIT_SLOT_MINUTES", CC_VISIT_SLOT_MINUTES, 5, 240),
    ("CC_VISIT_DESKS", CC_VISIT_DESKS, 1, 100),
    ("CC_VISIT_HORIZON_DAYS", CC_VISIT_HORIZON_DAYS, 7, 366),
):
    if not _low <= _value <= _high:
        raise ImproperlyConfigured(f"{_name} must be {_low}..{_high}, got {_value}")
DEFAULT_FROM_EMAIL = CC_MAIL_FROM
# All outbound mail, the product's alerts included, goes through the one aiosmtplib sender.
EMAIL_BACKEND = "mail.backends.AiosmtplibBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("CC_LOG_LEVEL", default="INFO")},
}
