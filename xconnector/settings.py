"""xConnector settings: one module, driven by environment variables.

The defaults give the embedded mode (``make run``): SQLite in WAL mode, the
Celery filesystem transport and local file storage, all under ``var/``.
``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and Redis;
``XCONNECTOR_ENV=production`` turns on the deployment hardening and makes
``SECRET_KEY`` and ``ALLOWED_HOSTS`` mandatory. README.md lists every variable.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from xconnector.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_required,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("XCONNECTOR_VAR_DIR", str(BASE_DIR / "var"))).resolve()

XCONNECTOR_ENV = env_choice(
    "XCONNECTOR_ENV", ("development", "production"), "development"
)
PRODUCTION = XCONNECTOR_ENV == "production"


def _embedded_secret_key(filename: str = "secret_key") -> str:
    """A per-installation key kept under var/, so it survives restarts."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _embedded_fernet_key() -> str:
    path = VAR_DIR / "fernet_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY", "when XCONNECTOR_ENV=production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        env_required("ALLOWED_HOSTS", "when XCONNECTOR_ENV=production")
else:
    SECRET_KEY = env_str("SECRET_KEY") or _embedded_secret_key()
    ALLOWED_HOSTS = env_list(
        "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
    )

# Signs exported audit chain heads (HMAC-SHA256); separate from SECRET_KEY so
# an auditor can hold it without being able to forge sessions.
XCONNECTOR_AUDIT_SIGNING_KEY = (
    env_required("XCONNECTOR_AUDIT_SIGNING_KEY", "when XCONNECTOR_ENV=production")
    if PRODUCTION
    else env_str("XCONNECTOR_AUDIT_SIGNING_KEY") or _embedded_secret_key("audit_key")
)

# Encrypt connection secrets (Fernet keys, newest first, comma-separated):
# separate from SECRET_KEY so that either can be rotated on its own.
# ``manage.py rotate_keys`` re-encrypts everything with the first key.
XCONNECTOR_FERNET_KEYS = (
    env_list("XCONNECTOR_FERNET_KEYS")
    if PRODUCTION
    else env_list("XCONNECTOR_FERNET_KEYS") or [_embedded_fernet_key()]
)
if not XCONNECTOR_FERNET_KEYS:
    env_required("XCONNECTOR_FERNET_KEYS", "when XCONNECTOR_ENV=production")

DEBUG = env_bool("XCONNECTOR_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "XCONNECTOR_DEBUG must be off when XCONNECTOR_ENV=production: "
        "debug pages show settings and data to anyone."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Tabler's alert colours for Django's message levels.
MESSAGE_TAGS = {40: "danger"}  # messages.ERROR

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_celery_beat",
    "pgtrigger",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "xconnector",
    "connectors",
    "connectors.sandbox",
    "connectors.dynamics.sandbox",
    "connectors.exstream.sandbox",
    "connectors.tradinggrid.sandbox",
    "integrations",
    "workspaces",
    "audit",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "xconnector.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xconnector.urls"
WSGI_APPLICATION = "xconnector.wsgi.application"
ASGI_APPLICATION = "xconnector.asgi.application"

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
                "xconnector.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
if PRODUCTION:
    # No silent fall-back to the embedded SQLite file: in containers each
    # process would get a database of its own.
    env_required("DATABASE_URL", "when XCONNECTOR_ENV=production")
DATABASES = {
    "default": env_database(
        "DATABASE_URL", f"sqlite:///{VAR_DIR / 'xconnector.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, the worker and beat read while one of them writes;
    # IMMEDIATE transactions take the write lock up front, so two writers wait
    # for each other (busy_timeout) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so a Celery worker started by a test sees the data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int(
        "DATABASE_CONN_MAX_AGE", 60, minimum=0
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication, sessions, login throttling -----------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_VALIDATORS}.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "xconnector_session"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page, not the cookie
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "xconnector.views.csrf_failure"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "api.errors.locked_out"
AXES_IPWARE_PROXY_COUNT = env_int("XCONNECTOR_PROXY_COUNT", 0, minimum=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if AXES_IPWARE_PROXY_COUNT
    else ["REMOTE_ADDR"]
)

# --- Security headers -------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Joining the browsers' preload list binds every subdomain of the domain
    # for months; that is the domain owner's decision, not an application's.
    # So it is off unless asked for, and Django's reminder about it is muted.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Strict CSP: no inline script or style anywhere; every asset is served from
# static/vendor, so the product works air-gapped.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Static and uploaded files ----------------------------------------------
STATIC_URL = "static/"
# Collected once at build time; kept apart from VAR_DIR so that mounting a
# volume over var/ at run time cannot hide the collected files.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static"))).resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, serve straight from the source folders: no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Celery -----------------------------------------------------------------
# The database row is the truth; the broker only wakes a worker. Tasks are
# acknowledged after they finish and re-delivered if a worker dies mid-task.
CELERY_BROKER_URL = (
    env_required("CELERY_BROKER_URL", "when XCONNECTOR_ENV=production")
    if PRODUCTION
    else env_str("CELERY_BROKER_URL", "filesystem://")
)
CELERY_BROKER_IS_FILESYSTEM = CELERY_BROKER_URL.startswith("filesystem://")
BROKER_DIR = VAR_DIR / "broker"
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=60)
CELERY_TASK_TIME_LIMIT = env_int(
    "CELERY_TASK_TIME_LIMIT", 3600, minimum=10, maximum=CELERY_VISIBILITY_TIMEOUT - 1
)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - max(
    5, CELERY_TASK_TIME_LIMIT // 20
)
if CELERY_BROKER_IS_FILESYSTEM:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = "runs"
CELERY_TASK_DEFAULT_EXCHANGE = "runs"
CELERY_TASK_DEFAULT_ROUTING_KEY = "runs"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# A worker that has not written a heartbeat for this long is reported as down.
XCONNECTOR_HEARTBEAT_INTERVAL = env_int("XCONNECTOR_HEARTBEAT_INTERVAL", 30, minimum=5)

# Where people and business applications reach this installation, for the
# links xConnector hands out (task e-mails, document links written back to
# business records); `make run` sets it to the demo's address.
XCONNECTOR_BASE_URL = env_str(
    "XCONNECTOR_BASE_URL",
    f"http://{env_str('XCONNECTOR_BIND')}" if env_str("XCONNECTOR_BIND") else "",
)

# --- Observability ----------------------------------------------------------
XCONNECTOR_METRICS_TOKEN = env_str("XCONNECTOR_METRICS_TOKEN")
LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "xconnector.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Connectors ---------------------------------------------------------------
# Outbound HTTP refuses private, loopback and link-local addresses unless the
# host (or host:port) is listed here. The embedded demo lists itself, because
# its emulators answer under /sandbox/ on the same server.
XCONNECTOR_HTTP_ALLOWED_HOSTS = env_list(
    "XCONNECTOR_HTTP_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"]
)
XCONNECTOR_HTTP_CONNECT_TIMEOUT = env_int(
    "XCONNECTOR_HTTP_CONNECT_TIMEOUT", 5, minimum=1
)
XCONNECTOR_HTTP_READ_TIMEOUT = env_int("XCONNECTOR_HTTP_READ_TIMEOUT", 60, minimum=1)
# A document larger than this is refused with a clear error (bytes).
XCONNECTOR_MAX_DOCUMENT_BYTES = env_int(
    "XCONNECTOR_MAX_DOCUMENT_BYTES", 2 * 1024**3, minimum=1024
)
# Attachments of one e-mail together (bytes): mail servers rarely take more
# than 25 MB, and a message is built in memory.
XCONNECTOR_EMAIL_MAX_BYTES = env_int(
    "XCONNECTOR_EMAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024
)
# File-drop folders and written files must lie inside this folder.
XCONNECTOR_FILES_ROOT = Path(
    env_str("XCONNECTOR_FILES_ROOT", str(VAR_DIR / "files"))
).resolve()
# Documents between the steps of a run (shared storage when workers are on
# several machines).
XCONNECTOR_BLOB_DIR = Path(
    env_str("XCONNECTOR_BLOB_DIR", str(VAR_DIR / "blobs"))
).resolve()
# A worker holds a run for this long and renews it while it works; a run
# whose worker died is taken over once its lease has expired (seconds).
XCONNECTOR_RUN_LEASE_SECONDS = env_int("XCONNECTOR_RUN_LEASE_SECONDS", 60, minimum=2)
# The sweeper re-wakes runs that are due, orphaned or stuck in the queue.
XCONNECTOR_SWEEP_INTERVAL = env_int("XCONNECTOR_SWEEP_INTERVAL", 15, minimum=1)
# A queued run nobody claimed for this long is enqueued again (seconds).
XCONNECTOR_REQUEUE_AFTER = env_int("XCONNECTOR_REQUEUE_AFTER", 30, minimum=1)
# Waits up to this long ride on the broker (a countdown); longer ones are
# kept in the database and woken by the sweeper (seconds).
XCONNECTOR_MAX_COUNTDOWN = env_int("XCONNECTOR_MAX_COUNTDOWN", 60, minimum=0)
# E-mail to reviewers (task opened, daily digest of overdue tasks). In
# development they are written as files under var/outbox/notifications/.
if env_str("EMAIL_HOST", ""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST", "")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox" / "notifications")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "xconnector@localhost")
# How long a review task may stay open before it is overdue, by kind (hours).
XCONNECTOR_TASK_SLA_HOURS = {
    "default": env_int("XCONNECTOR_TASK_SLA_HOURS", 24, minimum=1),
    "approval": env_int("XCONNECTOR_APPROVAL_SLA_HOURS", 8, minimum=1),
}
# The queue that wakes workers for runs (tests give a worker a queue of its own).
XCONNECTOR_RUN_QUEUE = env_str("XCONNECTOR_RUN_QUEUE", "runs")
# The emulators of the external systems under /sandbox/<system>/ (demo, tests).
XCONNECTOR_SANDBOX = env_bool("XCONNECTOR_SANDBOX", not PRODUCTION)

XCONNECTOR_AUDIT_VERIFY_INTERVAL = env_int(
    "XCONNECTOR_AUDIT_VERIFY_INTERVAL", 300, minimum=10
)
CELERY_BEAT_SCHEDULE = {
    "audit-verify": {
        "task": "audit.tasks.verify_new_events",
        "schedule": float(XCONNECTOR_AUDIT_VERIFY_INTERVAL),
        "options": {
            "queue": "housekeeping",
            "expires": XCONNECTOR_AUDIT_VERIFY_INTERVAL,
        },
    },
    "sweep-runs": {
        "task": "integrations.tasks.sweep_runs",
        "schedule": float(XCONNECTOR_SWEEP_INTERVAL),
        "options": {"queue": "housekeeping", "expires": XCONNECTOR_SWEEP_INTERVAL},
    },
    "overdue-task-digest": {
        "task": "integrations.tasks.send_overdue_digest",
        "schedule": crontab(hour=7, minute=0),
        "options": {"queue": "housekeeping", "expires": 3600},
    },
    "workspace-expiry": {
        "task": "workspaces.tasks.follow_up_expired",
        "schedule": crontab(hour=6, minute=30),
        "options": {"queue": "housekeeping", "expires": 3600},
    },
    "worker-heartbeat": {
        "task": "xconnector.tasks.heartbeat",
        "schedule": float(XCONNECTOR_HEARTBEAT_INTERVAL),
        # A beat that nobody picked up in time is worthless: drop it.
        "options": {"queue": "housekeeping", "expires": XCONNECTOR_HEARTBEAT_INTERVAL},
    },
}


# -- The REST API (/api/v1/) --
# Browsers use their session (with CSRF); programs send "Authorization:
# Token <key>" with a per-user token that is stored hashed, expires and can
# be revoked. Permissions are the roles' Django permissions, as in the UI.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JsonWithoutNul"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.NewestFirst",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerToken"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("XCONNECTOR_API_RATE", "1200/min"),
        "sign_in": "10/min",
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("XCONNECTOR_API_TOKEN_DAYS", 90, minimum=1)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "xConnector API",
    "DESCRIPTION": (
        "Everything an admin, reviewer or auditor does in the browser: "
        "connections, flows and their versions, templates, runs, transfers, "
        "review tasks, workspaces and the audit trail. Send "
        "`Authorization: Token <key>`; create a key with `POST /api/v1/tokens/` "
        "or on your account page. Errors are `{error, message, fields?}`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {},
}
KNOX_TOKEN_MODEL = "api.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations create its AuthToken table even when the model is
# swapped for api.ApiToken; an orphan table with a foreign key to users
# that Django does not know of (a flush of the user table then fails on
# PostgreSQL). knox has no other model, so it needs no migrations.
MIGRATION_MODULES = {"knox": None}

# The cache holds the API's per-token request counters. One process's memory
# is enough for `make run`; with several web processes (or machines) point it
# at Redis so that they share the counts.
_CACHE_URL = env_str("XCONNECTOR_CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
        }
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
