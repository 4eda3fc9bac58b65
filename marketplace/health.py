"""Health checks of the process kinds (docs/operations.md, "Health and metrics").

Each check answers ``None`` when the dependency is fine, else a short reason for the operator.
Used by the web's ``/readyz`` (config.health) and by ``manage.py health`` (worker, scheduler).
Reasons name the dependency, never a host or a password.
"""

from __future__ import annotations

import logging

import dramatiq
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

#: Redis key of dramatiq-crontab's scheduler lock (``dramatiq_crontab.utils``).
SCHEDULER_LOCK_KEY = "dramatiq-scheduler"
#: Seconds a health probe waits for Redis before calling it unreachable.
PROBE_TIMEOUT = 2.0


def database_check() -> str | None:
    """The database answers ``SELECT 1``."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database unreachable: %s", type(exc).__name__)
        return "database unreachable"
    return None


def _redis_client():  # -> redis.Redis | None (no stubs needed)
    """A short-timeout client of ``REDIS_URL``, or ``None`` in the embedded default."""
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT)


def broker_check() -> str | None:
    """The dramatiq broker (Redis in services mode) answers; the in-process stub always does."""
    client = _redis_client()
    if client is None:
        return None if dramatiq.get_broker() is not None else "no broker"
    try:
        client.ping()
    except Exception as exc:
        logger.warning("health: broker unreachable: %s", type(exc).__name__)
        return "broker unreachable"
    finally:
        client.close()
    return None


def scheduler_lock_check() -> str | None:
    """Some scheduler holds dramatiq-crontab's lock (services mode; embedded: the web runs it)."""
    client = _redis_client()
    if client is None:
        return None
    try:
        held = client.exists(SCHEDULER_LOCK_KEY)
    except Exception as exc:
        logger.warning("health: broker unreachable: %s", type(exc).__name__)
        return "broker unreachable"
    finally:
        client.close()
    return None if held else "scheduler lock not held"


def checks_for(kind: str) -> dict[str, str | None]:
    """The checks of process ``kind`` (``web``, ``worker`` or ``scheduler``), run now."""
    results: dict[str, str | None] = {"database": database_check(), "broker": broker_check()}
    if kind == "scheduler":
        results["scheduler_lock"] = scheduler_lock_check()
    return results
