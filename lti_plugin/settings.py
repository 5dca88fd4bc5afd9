"""Elevstöd settings: one module, every value from the environment, safe embedded defaults.

The embedded default (no DATABASE_URL, ELEVSTOD_ENV unset) is a single-machine demo: SQLite in
WAL mode, Django's database cache (shared by every process), generated keys and the built-in demo
platform. ELEVSTOD_ENV=production turns the demo off, requires a real SECRET_KEY and a key
encryption key from the environment, and leaves new dynamic registrations pending.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ELEVSTOD_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("ELEVSTOD_ENV", "embedded").lower() == "production"


def _embedded_secret_key() -> str:
    """A per-installation secret kept beside the SQLite file, never in the repository."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]
else:
    SECRET_KEY = os.environ.get("SECRET_KEY") or _embedded_secret_key()

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")

# The built-in demo LTI platform at /demo/: embedded default only, never in production.
DEMO_PLATFORM = env_bool("ELEVSTOD_DEMO", not PRODUCTION) and not PRODUCTION
# A dynamic registration is active at once in the embedded default, pending in production.
LTI_AUTO_ACTIVATE_REGISTRATIONS = env_bool("LTI_AUTO_ACTIVATE_REGISTRATIONS", not PRODUCTION)
# Platforms must use HTTPS in production; the embedded default also accepts http (local LMS trials).
LTI_ALLOW_INSECURE_PLATFORMS = env_bool("LTI_ALLOW_INSECURE_PLATFORMS", not PRODUCTION)
LTI_CLOCK_SKEW_SECONDS = int(os.environ.get("LTI_CLOCK_SKEW_SECONDS", "60"))
LTI_MAX_ID_TOKEN_AGE_SECONDS = int(os.environ.get("LTI_MAX_ID_TOKEN_AGE_SECONDS", "3600"))
LTI_STATE_LIFETIME_SECONDS = int(os.environ.get("LTI_STATE_LIFETIME_SECONDS", "600"))
LTI_LAUNCH_LIFETIME_SECONDS = int(os.environ.get("LTI_LAUNCH_LIFETIME_SECONDS", str(8 * 3600)))
LTI_JWKS_CACHE_SECONDS = int(os.environ.get("LTI_JWKS_CACHE_SECONDS", "3600"))
LTI_HTTP_TIMEOUT_SECONDS = float(os.environ.get("LTI_HTTP_TIMEOUT_SECONDS", "5"))
LTI_KEY_RETIRE_AFTER_DAYS = int(os.environ.get("LTI_KEY_RETIRE_AFTER_DAYS", "7"))
# The tool's public origin(s) when it runs behind a proxy that rewrites Host; empty = the request's own.
LTI_TOOL_ORIGINS = env_list("LTI_TOOL_ORIGINS")
# Keys that encrypt the tool's private keys at rest (Fernet, comma separated, newest first).
KEY_ENCRYPTION_KEYS = env_list("KEY_ENCRYPTION_KEYS")
if PRODUCTION and not KEY_ENCRYPTION_KEYS:
    raise RuntimeError("KEY_ENCRYPTION_KEYS must be set in production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files: no CDN
    "lti_plugin.support",
    "lti_plugin.lti",
    "lti_plugin.lti.demo",
    "frontend",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "lti_plugin.middleware.FramingMiddleware",
    "lti_plugin.middleware.CrossSiteCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "lti_plugin.urls"
WSGI_APPLICATION = "lti_plugin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(DATA_DIR / "elevstod.sqlite3")),
            "OPTIONS": {
                # WAL lets the demo's several processes read while one writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Kept open for the worker's life: opening one costs a request more than its queries
            # (the file, the WAL pragma, the schema read again). gunicorn's sync workers are one thread each.
            "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "600")),
        }
    }

if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}
else:
    # Not the local-memory cache: every app process must see the same entries.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "elevstod_cache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if os.environ.get("REDIS_URL") \
    else "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = LTI_LAUNCH_LIFETIME_SECONDS
SESSION_COOKIE_HTTPONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise serves static files from gunicorn; the embedded default needs no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing one
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Behind a TLS-terminating proxy the original scheme comes in X-Forwarded-Proto.
if env_bool("TRUST_X_FORWARDED_PROTO", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The tool lives in LMS iframes: CSP frame-ancestors (FramingMiddleware) names who may frame it,
# which X-Frame-Options cannot express; the admin site still gets X-Frame-Options: DENY.
SILENCED_SYSTEM_CHECKS = ["security.W002"]

# The API (api/): a launch's session (X-Elevstod-Launch names the launch) or an API token; JSON only;
# every error in one shape; the schema from drf-spectacular, checked against api/openapi.yaml in tests.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.LaunchSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Elevstöd LTI API",
    "DESCRIPTION": "Pupil support for school information systems and scripts. Errors are "
                   '{"code", "message", "fields"} in the requester\'s language.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": os.environ.get("ACCESS_LOG_LEVEL", "INFO")}},
}

# The digest of due items: the console in the embedded default, SMTP from the environment in production.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
                               else "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "elevstod@localhost")

# --- Production deploy and scale-out (issue 13; deploy/README.md) --------------------------------
# Kept in one block so other changes to this file merge around it.

# Probes first (no host check, no HTTPS redirect: a kubelet calls http://<pod-ip>:8000/readyz), then the
# request id every later log line carries.
MIDDLEWARE = ["lti_plugin.ops.ProbeMiddleware", "lti_plugin.ops.RequestIdMiddleware", *MIDDLEWARE]

# Persistent connections, checked before reuse: after a PostgreSQL restart the first request of each
# worker gets a new connection instead of an error. One connection per gunicorn worker thread.
if "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "600"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Fail fast when the server is away: the request gets the 503 page, not a hung worker.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    # Short queries on indexes: PostgreSQL's JIT compiles a page's subqueries for longer than they run
    # (the caseload's due filter: 1.4 s with it, 50 ms without). DB_JIT=on gives it back; DB_JIT=server
    # sends nothing (behind PgBouncer, which refuses the startup option: `ALTER ROLE … SET jit = off`).
    # The planner's cost of a random page read: 1.1 where the data sits in memory or on SSD (as
    # anywhere today) rather than 4 for spinning disks, so a list joins its pupils by index instead of
    # reading all 20,000 (a special teacher's task list: 11 to 5 ms in the database). DB_RANDOM_PAGE_COST
    # changes it; "server" leaves it to the server (and, behind PgBouncer, `ALTER ROLE … SET`).
    startup = []
    if os.environ.get("DB_JIT", "off") in ("on", "off"):
        startup.append(f"-c jit={os.environ.get('DB_JIT', 'off')}")
    if os.environ.get("DB_RANDOM_PAGE_COST", "1.1") != "server":
        startup.append(f"-c random_page_cost={float(os.environ.get('DB_RANDOM_PAGE_COST', '1.1'))}")
    if startup:
        DATABASES["default"]["OPTIONS"]["options"] = " ".join(startup)
    # Prepared statements: a page's queries are the same few shapes every time, and PostgreSQL spends
    # longer planning them than running them (a case panel: 2.5 ms planning, 0.9 ms running). psycopg
    # prepares a statement on a connection once it has run it DB_PREPARE_THRESHOLD times, which needs
    # server-side parameter binding; the server then reuses the plan where it is as good as a fresh one
    # (plan_cache_mode auto). Behind PgBouncer in transaction mode without max_prepared_statements,
    # DB_PREPARE_THRESHOLD=off (Django's default, client-side binding).
    prepare_threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5")
    if prepare_threshold != "off":
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(prepare_threshold)
if os.environ.get("REDIS_URL"):
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 2, "socket_timeout": 2}

# Behind a TLS-terminating proxy (Caddy, an ingress controller) that sets X-Forwarded-Proto and Host.
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    # Preloading puts the whole registrable domain (often a municipality's) on browsers' HTTPS-only
    # list for good: the domain owner's decision (SECURE_HSTS_PRELOAD=true), not a default. HSTS itself
    # is on (SECURE_HSTS_SECONDS, subdomains), so `check --deploy` has nothing left to say.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]

# Structured logs: one JSON object a line with the request id (LOG_FORMAT=json, the production
# default), nothing personal in them (lti_plugin/logs.py).
if os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text") == "json":
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "lti_plugin.logs.RequestIdFilter"}},
        "formatters": {"json": {"()": "lti_plugin.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "loggers": {
            "django": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
            # SQL with its parameters (pupil data) is never logged, whatever LOG_LEVEL says.
            "django.db.backends": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
