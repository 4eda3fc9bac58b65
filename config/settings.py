"""Patron's one settings module, driven by environment variables.

With nothing set, Patron runs in the *embedded default*: a SQLite file under ``var/``, the
in-memory channel layer, and dramatiq on an in-process ``StubBroker`` whose worker threads run
inside the web process. Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to *services mode*:
PostgreSQL, channels-redis, dramatiq's ``RedisBroker`` and separate ``worker`` / ``scheduler``
processes.

Variables (all optional; documented in README.md and docs/operations.md):

``DATABASE_URL``            e.g. ``postgres://postgres@127.0.0.1:5432/patron``
``REDIS_URL``               e.g. ``redis://127.0.0.1:6379/0`` (channel layer, broker, scheduler lock)
``PATRON_SECRET_KEY``       Django's secret key (a development key is used when unset)
``PATRON_DEBUG``            ``1`` to turn Django's debug mode on
``PATRON_ALLOWED_HOSTS``    comma-separated host names (default ``*`` when debugging, else localhost)
``PATRON_EMBEDDED_WORKER``  ``1``/``0``: start dramatiq worker threads inside the web process
                            (default: on when no ``REDIS_URL`` is set)
``PATRON_DRAMATIQ_NAMESPACE`` Redis key namespace of the broker (tests use their own)
``PATRON_CHANNEL_PREFIX``   Redis key prefix of the channel layer
``PATRON_THROTTLE_PREFIX``  Redis key prefix of the rate-limit counters (``marketplace.throttle``)
``PATRON_LOG_LEVEL``        root log level (default ``INFO``)
``PATRON_SQLITE_PATH``      the SQLite file of the embedded default (default ``var/patron.sqlite3``;
                            relative paths are taken from the repository root)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool) -> bool:
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_flag("PATRON_DEBUG", False)
SECRET_KEY = os.environ.get("PATRON_SECRET_KEY", "patron-development-key-not-for-production-0123456789abcdef")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("PATRON_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("PATRON_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
SERVICES_MODE = bool(REDIS_URL)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_filters",
    "strawberry_django",
    "django_dramatiq",
    "dramatiq_crontab",
    "marketplace",
    "loyalty",
    "rewards",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's (and later the dashboard's) static files from the one web process.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    # Its own file lets a second server (the dashboard's end-to-end tests) run beside a dev server.
    SQLITE_PATH = BASE_DIR / (os.environ.get("PATRON_SQLITE_PATH") or "var/patron.sqlite3")
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # SQLite serialises writers; a generous timeout lets the in-process worker threads
            # and the web requests take turns instead of failing with "database is locked".
            # WAL lets readers run beside the writer; synchronous=NORMAL is durable across
            # application crashes (WAL's recommended setting) and avoids an fsync per commit.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("PATRON_TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_SAMESITE = "Lax"

# --- Dashboard (the React app in frontend/, built into frontend/dist by scripts/_frontend.sh) ---
# Whitenoise serves the build's files at the site root (index.html's /assets/... and the public
# files); config.dashboard answers every client-side route with index.html. The directory is
# scanned when the server starts, so a rebuild needs a restart (scripts/run builds first).
PATRON_DASHBOARD_DIR = BASE_DIR / "frontend" / "dist"
WHITENOISE_ROOT = PATRON_DASHBOARD_DIR if PATRON_DASHBOARD_DIR.is_dir() else None
# Vite names every file under assets/ by its content hash: cacheable for ever.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/assets/"

# --- Channels (GraphQL subscriptions) -------------------------------------------------------
if SERVICES_MODE:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("PATRON_CHANNEL_PREFIX", "patron")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Dramatiq (background work) -------------------------------------------------------------
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
]
if SERVICES_MODE:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {
            "url": REDIS_URL,
            "namespace": os.environ.get("PATRON_DRAMATIQ_NAMESPACE", "patron-dramatiq"),
        },
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.stub.StubBroker",
        "OPTIONS": {},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
# Only our own task modules; django_dramatiq would otherwise also import its admin tasks.
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL or None}
PATRON_EMBEDDED_WORKER = _env_flag("PATRON_EMBEDDED_WORKER", not SERVICES_MODE)

# --- GraphQL ------------------------------------------------------------------------------------
STRAWBERRY_DJANGO = {
    "FIELD_DESCRIPTION_FROM_HELP_TEXT": True,
    "TYPE_DESCRIPTION_FROM_MODEL_DOCSTRING": True,
    "MAP_AUTO_ID_AS_GLOBAL_ID": True,
    "PAGINATION_DEFAULT_LIMIT": 100,
}
PATRON_GRAPHQL_MAX_DEPTH = 12
PATRON_GRAPHQL_MAX_ALIASES = 30
PATRON_GRAPHQL_MAX_TOKENS = 4000
PATRON_GRAPHQL_MAX_PAGE_SIZE = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
