"""Patron's one settings module, driven by environment variables.

With nothing set, Patron runs in the *embedded default*: a SQLite file under ``var/``, the
in-memory channel layer, and dramatiq on an in-process ``StubBroker`` whose worker threads run
inside the web process. Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to *services mode*:
PostgreSQL, channels-redis, dramatiq's ``RedisBroker`` and separate ``worker`` / ``scheduler``
processes.

Variables (all optional; documented in README.md and docs/operations.md):

``DATABASE_URL``            e.g. ``postgres://postgres@127.0.0.1:5432/patron``
``REDIS_URL``               e.g. ``redis://127.0.0.1:6379/0`` (channel layer, broker, scheduler lock)
``BROKER_URL``              e.g. ``amqp://guest:guest@127.0.0.1:5672/patron``: dramatiq on RabbitMQ
                            (``RabbitmqBroker``) instead of Redis; needs ``REDIS_URL`` still (channel
                            layer, scheduler lock, rate limits). Unset: the broker is ``REDIS_URL``'s.
                            The vhost plays the part of ``PATRON_DRAMATIQ_NAMESPACE``; docs/scaling.md
``PATRON_CHANNEL_REDIS_URLS`` comma-separated Redis URLs the channel layer shards its channels and
                            groups over (default: ``REDIS_URL`` alone); docs/scaling.md
``PATRON_SECRET_KEY``       Django's secret key: required unless ``PATRON_DEBUG=1`` (the web server
                            refuses to start without it; ``scripts/run`` makes one in ``var/``)
``PATRON_DEBUG``            ``1`` to turn Django's debug mode on (and GraphiQL and introspection)
``PATRON_GRAPHIQL``         ``1`` to serve GraphiQL at /graphql/ (default: ``PATRON_DEBUG``; scripts/run sets it)
``PATRON_INTROSPECTION``    ``1`` to answer introspection (default: ``PATRON_DEBUG``; scripts/run sets it)
``PATRON_HTTPS``            ``1`` behind HTTPS: secure cookies, HSTS (a year, subdomains, preload), SSL redirect
``PATRON_PROXY_SSL_HEADER`` ``1`` when a TLS-terminating proxy sets ``X-Forwarded-Proto`` (trusted then)
``PATRON_DB_STATEMENT_TIMEOUT_MS`` PostgreSQL ``statement_timeout`` in ms (default ``15000``; ``0`` = none)
``PATRON_ALLOWED_HOSTS``    comma-separated host names (default ``*`` when debugging, else localhost)
``PATRON_EMBEDDED_WORKER``  ``1``/``0``: start dramatiq worker threads inside the web process
                            (default: on when no ``REDIS_URL`` is set)
``PATRON_DRAMATIQ_NAMESPACE`` Redis key namespace of the broker (tests use their own; unused on RabbitMQ)
``PATRON_CHANNEL_PREFIX``   Redis key prefix of the channel layer
``PATRON_THROTTLE_PREFIX``  Redis key prefix of the rate-limit counters (``marketplace.throttle``)
``PATRON_LOG_LEVEL``        root log level (default ``INFO``)
``PATRON_METRICS_TOKEN``    bearer token that GET /metrics requires (default: none required)
``PATRON_DB_CONN_MAX_AGE``  seconds a PostgreSQL connection is kept for reuse (default ``0``: closed after
                            each request; the worker sets ``60``); see docs/operations.md
``PATRON_CORS_ALLOWED_ORIGINS`` comma-separated origins (``https://shop.example``) whose pages may call
                            /graphql/ with a bearer credential (CORS) and open its WebSocket
``PATRON_API_KEY_RATE_LIMIT`` requests per API key unless the key sets its own (default ``600/minute``)
``PATRON_MEMBER_TOKEN_AUDIENCE`` the ``aud`` a storefront member token must carry (default ``patron``)
``PATRON_MEMBER_TOKEN_MAX_LIFETIME`` longest accepted member-token life in seconds (default ``3600``)
``PATRON_WEBHOOK_ALLOW_HTTP`` ``1`` to accept plain-http webhook URLs (default: on in the embedded default
                            and in debug mode, off otherwise: endpoints must be https)
``PATRON_WEBHOOK_TIMEOUT``  seconds one webhook delivery may take (default ``10``)
``PATRON_SQLITE_PATH``      the SQLite file of the embedded default (default ``var/patron.sqlite3``;
                            relative paths are taken from the repository root)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool) -> bool:
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_flag("PATRON_DEBUG", False)
# Outside debug mode there is no fallback: Django refuses an empty SECRET_KEY wherever it is used,
# and config/asgi.py refuses to start the web server without one (scripts/run generates one once
# into var/ for the embedded default; tests/conftest.py sets a test key).
_DEVELOPMENT_SECRET_KEY = "patron-development-key-not-for-production-0123456789abcdef"
SECRET_KEY = os.environ.get("PATRON_SECRET_KEY") or (_DEVELOPMENT_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("PATRON_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("PATRON_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
SERVICES_MODE = bool(REDIS_URL)
#: RabbitMQ in place of Redis for dramatiq's messages only (docs/scaling.md); empty: Redis.
BROKER_URL = os.environ.get("BROKER_URL", "")
if BROKER_URL:
    if not BROKER_URL.startswith(("amqp://", "amqps://")):
        raise ImproperlyConfigured("BROKER_URL must be a RabbitMQ URL (amqp:// or amqps://); unset it for Redis")
    if not SERVICES_MODE:
        # The channel layer, the scheduler's lock and the rate limits stay on Redis.
        raise ImproperlyConfigured("BROKER_URL needs REDIS_URL as well: RabbitMQ replaces only the broker")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "django_filters",
    "strawberry_django",
    "django_dramatiq",
    "dramatiq_crontab",
    "marketplace",
    "loyalty",
    "rewards",
    "referrals",
    "integrations",
    "crm",
    "checkout",
    "engagement",
    "memberships",
]

MIDDLEWARE = [
    # First: every response (refusals and errors too) carries X-Request-ID, every log line the id.
    "api_core.request_id.RequestIdMiddleware",
    # Before anything that answers: storefront pages on other origins (PATRON_CORS_ALLOWED_ORIGINS).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's (and later the dashboard's) static files from the one web process.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session's user: an Authorization: Bearer API key or member token replaces it.
    "config.auth.BearerAuthMiddleware",
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
    # Persistent connections are off by default: under the ASGI server every request may run its
    # database work in another thread, and a connection kept per thread (CONN_MAX_AGE > 0) is
    # never reused or closed, so a burst of requests leaks connections up to the server's limit
    # (Django advises against persistent connections under ASGI). The worker, whose threads are
    # long-lived and few, keeps its connections (scripts/worker sets PATRON_DB_CONN_MAX_AGE=60).
    # Production puts PgBouncer in front (docs/operations.md, "Database connections").
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("PATRON_DB_CONN_MAX_AGE") or 0),
            conn_health_checks=True,
        )
    }
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
# A bound on every statement (docs/operations.md, "Production profile"): a runaway query is
# cancelled by PostgreSQL ("canceling statement due to statement timeout"; the client sees
# INTERNAL_ERROR) instead of holding a connection. Long migrations: run them with ``0``.
PATRON_DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("PATRON_DB_STATEMENT_TIMEOUT_MS") or 15000)
if DATABASES["default"]["ENGINE"].endswith("postgresql") and PATRON_DB_STATEMENT_TIMEOUT_MS > 0:
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = (
        f"{_db_options.get('options', '')} -c statement_timeout={PATRON_DB_STATEMENT_TIMEOUT_MS}".strip()
    )

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

# --- Production profile (docs/operations.md): one switch for HTTPS ------------------------------
PATRON_HTTPS = _env_flag("PATRON_HTTPS", False)
SESSION_COOKIE_SECURE = PATRON_HTTPS
CSRF_COOKIE_SECURE = PATRON_HTTPS
SECURE_SSL_REDIRECT = PATRON_HTTPS
# Probes of a load balancer or supervisor may speak plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 31_536_000 if PATRON_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PATRON_HTTPS
SECURE_HSTS_PRELOAD = PATRON_HTTPS
if _env_flag("PATRON_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A failed CSRF check on /graphql/ answers GraphQL-shaped JSON (code CSRF_FAILED).
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

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
    # Several hosts: channels-redis shards channels and groups over them by a hash of the name, so
    # every web process must list the same URLs in the same order (docs/scaling.md).
    PATRON_CHANNEL_REDIS_URLS = [
        u.strip() for u in os.environ.get("PATRON_CHANNEL_REDIS_URLS", "").split(",") if u.strip()
    ] or [REDIS_URL]
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer: a published message reaches every subscribed web process at once.
            # The list-based RedisChannelLayer took a process's messages one at a time (four round
            # trips each) and dropped those past its capacity: at 1,000 sockets commit-to-frame p95
            # was 1.05 s against 0.23 s (bench/push_bench.py). Live delivery is best-effort either
            # way: a dashboard that reconnects refetches (loyalty.broadcasts).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": PATRON_CHANNEL_REDIS_URLS, "prefix": os.environ.get("PATRON_CHANNEL_PREFIX", "patron")},
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
if BROKER_URL:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
        # Publisher confirms: a message written to a connection RabbitMQ already closed (an idle
        # web thread's, past its heartbeat) fails and is re-sent on a new connection instead of
        # being lost silently (the outbox sweep would still send it, a minute later).
        "OPTIONS": {"url": BROKER_URL, "confirm_delivery": True},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
elif SERVICES_MODE:
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
# The scheduler's lock is on Redis whichever the broker (dramatiq-crontab knows only Redis).
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL or None}
PATRON_EMBEDDED_WORKER = _env_flag("PATRON_EMBEDDED_WORKER", not SERVICES_MODE)

# --- Operations (docs/operations.md, "Health and metrics") -------------------------------------
#: When set, GET /metrics needs ``Authorization: Bearer <token>``.
PATRON_METRICS_TOKEN = os.environ.get("PATRON_METRICS_TOKEN", "")

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
# Operation cost budgets (api_core.extensions.QueryCostLimiter; docs/api.md, "Cost budget"): each
# selected field costs 1 per row it can be resolved for; a connection's edges count `first`
# (or the page size), another list its `first` or PATRON_GRAPHQL_DEFAULT_LIST_SIZE.
PATRON_GRAPHQL_MAX_COST_ANONYMOUS = 2000
PATRON_GRAPHQL_MAX_COST = 20000
PATRON_GRAPHQL_DEFAULT_LIST_SIZE = 10
# Fields written in one document, whoever sends it (the dashboard's largest has under 170).
PATRON_GRAPHQL_MAX_FIELDS = 300
# Deepest JSON nesting of a request body / variables (config.views.PatronGraphQLView).
PATRON_GRAPHQL_MAX_JSON_DEPTH = 32
# Off in production unless asked for; on in debug mode and under scripts/run.
PATRON_GRAPHIQL = _env_flag("PATRON_GRAPHIQL", DEBUG)
PATRON_INTROSPECTION = _env_flag("PATRON_INTROSPECTION", DEBUG)

# --- Integrations (docs/integrations.md) -------------------------------------------------------
# Storefronts on other origins call /graphql/ with a member token (CORS, django-cors-headers):
# only the listed origins, only /graphql/, never with cookies (bearer credentials need none).
CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("PATRON_CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
CORS_URLS_REGEX = r"^/graphql/?$"
CORS_ALLOW_CREDENTIALS = False
PATRON_API_KEY_RATE_LIMIT = os.environ.get("PATRON_API_KEY_RATE_LIMIT", "600/minute")
PATRON_MEMBER_TOKEN_AUDIENCE = os.environ.get("PATRON_MEMBER_TOKEN_AUDIENCE", "patron")
PATRON_MEMBER_TOKEN_MAX_LIFETIME = int(os.environ.get("PATRON_MEMBER_TOKEN_MAX_LIFETIME", "3600"))
PATRON_WEBHOOK_ALLOW_HTTP = _env_flag("PATRON_WEBHOOK_ALLOW_HTTP", DEBUG or not SERVICES_MODE)
PATRON_WEBHOOK_TIMEOUT = float(os.environ.get("PATRON_WEBHOOK_TIMEOUT", "10"))

# Messages to members (docs/engagement.md). Links in messages start with the public address.
PATRON_PUBLIC_URL = os.environ.get("PATRON_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# E-mail through Django's backend: SMTP when PATRON_SMTP_HOST is set, else printed to the console.
EMAIL_HOST = os.environ.get("PATRON_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("PATRON_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("PATRON_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PATRON_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("PATRON_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("PATRON_MAIL_FROM", "Patron <no-reply@patron.invalid>")
# SMS: "kavenegar" or "twilio" (empty: SMS messages are skipped as unavailable). The base URLs are
# the providers' documented ones; tests point them at a local server speaking the same contract.
PATRON_SMS_PROVIDER = os.environ.get("PATRON_SMS_PROVIDER", "")
PATRON_KAVENEGAR_API_KEY = os.environ.get("PATRON_KAVENEGAR_API_KEY", "")
PATRON_KAVENEGAR_BASE_URL = os.environ.get("PATRON_KAVENEGAR_BASE_URL", "https://api.kavenegar.com")
PATRON_TWILIO_ACCOUNT_SID = os.environ.get("PATRON_TWILIO_ACCOUNT_SID", "")
PATRON_TWILIO_AUTH_TOKEN = os.environ.get("PATRON_TWILIO_AUTH_TOKEN", "")
PATRON_TWILIO_FROM = os.environ.get("PATRON_TWILIO_FROM", "")
PATRON_TWILIO_BASE_URL = os.environ.get("PATRON_TWILIO_BASE_URL", "https://api.twilio.com")
PATRON_SMS_TIMEOUT = float(os.environ.get("PATRON_SMS_TIMEOUT", "10"))
# Web push with VAPID (RFC 8292): the server's key pair; empty: push messages are skipped.
PATRON_VAPID_PRIVATE_KEY = os.environ.get("PATRON_VAPID_PRIVATE_KEY", "")
PATRON_VAPID_PUBLIC_KEY = os.environ.get("PATRON_VAPID_PUBLIC_KEY", "")
PATRON_VAPID_SUBJECT = os.environ.get("PATRON_VAPID_SUBJECT", "mailto:ops@patron.invalid")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line carries the request id (``-`` outside an HTTP request): api_core.request_id.
    "filters": {"request_id": {"()": "api_core.request_id.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
