"""Health checks of the process kinds (docs/operations.md, "Health and metrics").

Each check answers ``None`` when the dependency is fine, else a short reason for the operator.
Used by the web's ``/readyz`` (config.health) and by ``manage.py health`` (worker, scheduler).
Reasons name the dependency, never a host or a password. The broker is RabbitMQ when
``BROKER_URL`` is set (docs/scaling.md), else Redis; ``rabbitmq_queue_counts`` serves /metrics.
"""

from __future__ import annotations

import logging

import dramatiq
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

#: Redis key of dramatiq-crontab's scheduler lock (``dramatiq_crontab.utils``).
SCHEDULER_LOCK_KEY = "dramatiq-scheduler"
#: Seconds a health probe waits for Redis or RabbitMQ before calling it unreachable.
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


def _redis_down_reason() -> str:
    """What an unreachable Redis is called: the broker itself unless ``BROKER_URL`` names RabbitMQ."""
    return "redis unreachable" if settings.BROKER_URL else "broker unreachable"


def redis_check() -> str | None:
    """Redis (``REDIS_URL``) answers PING; ``None`` in the embedded default too."""
    client = _redis_client()
    if client is None:
        return None
    try:
        client.ping()
    except Exception as exc:
        logger.warning("health: redis unreachable: %s", type(exc).__name__)
        return _redis_down_reason()
    finally:
        client.close()
    return None


def _rabbitmq_connection(url: str):  # -> pika.BlockingConnection (no stubs needed)
    """A new blocking connection to the RabbitMQ ``url`` that gives up after ``PROBE_TIMEOUT``.

    One attempt only (the URL's own ``connection_attempts`` would multiply the wait). Raises
    pika's ``AMQPError`` subclasses (or ``OSError``) when RabbitMQ cannot be reached.
    """
    import pika

    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = PROBE_TIMEOUT
    parameters.stack_timeout = PROBE_TIMEOUT * 2
    parameters.blocked_connection_timeout = PROBE_TIMEOUT
    return pika.BlockingConnection(parameters)


def rabbitmq_queue_counts(url: str, queues: list[str]) -> dict[str, tuple[int, int, int]]:
    """Messages in each of dramatiq's ``queues`` on the RabbitMQ ``url``: ``{queue: (ready, delayed, dead)}``.

    Reads with passive declarations (nothing is created) on a connection of its own, closed
    before returning, so that a metrics scrape leaves no idle connection behind for RabbitMQ to
    drop. A queue RabbitMQ does not have (no worker declared it yet) counts 0. Raises pika's
    errors (or ``OSError``) when RabbitMQ cannot be reached.
    """
    import pika.exceptions
    from dramatiq.common import dq_name, xq_name

    connection = _rabbitmq_connection(url)
    try:
        channel = connection.channel()
        counts: dict[str, tuple[int, int, int]] = {}
        for queue in queues:
            triple = []
            for name in (queue, dq_name(queue), xq_name(queue)):
                try:
                    triple.append(channel.queue_declare(queue=name, passive=True).method.message_count)
                except pika.exceptions.ChannelClosedByBroker as exc:
                    if exc.reply_code != 404:
                        raise
                    triple.append(0)
                    channel = connection.channel()  # RabbitMQ closes the channel on a NOT_FOUND
            counts[queue] = (triple[0], triple[1], triple[2])
        return counts
    finally:
        connection.close()


def broker_check() -> str | None:
    """The dramatiq broker answers: RabbitMQ when ``BROKER_URL`` is set, else Redis in services
    mode; the in-process stub of the embedded default always does."""
    if settings.BROKER_URL:
        try:
            _rabbitmq_connection(settings.BROKER_URL).close()
        except Exception as exc:
            logger.warning("health: broker unreachable: %s", type(exc).__name__)
            return "broker unreachable"
        return None
    if not settings.REDIS_URL:
        return None if dramatiq.get_broker() is not None else "no broker"
    return redis_check()


def scheduler_lock_check() -> str | None:
    """Some scheduler holds dramatiq-crontab's lock (services mode; embedded: the web runs it)."""
    client = _redis_client()
    if client is None:
        return None
    try:
        held = client.exists(SCHEDULER_LOCK_KEY)
    except Exception as exc:
        logger.warning("health: redis unreachable: %s", type(exc).__name__)
        return _redis_down_reason()
    finally:
        client.close()
    return None if held else "scheduler lock not held"


def checks_for(kind: str) -> dict[str, str | None]:
    """The checks of process ``kind`` (``web``, ``worker`` or ``scheduler``), run now.

    ``{check: None or reason}``: ``database`` and ``broker`` always; ``redis`` too when the
    broker is RabbitMQ (Redis still carries the channel layer, the rate limits and the
    scheduler's lock); ``scheduler_lock`` for the scheduler.
    """
    results: dict[str, str | None] = {"database": database_check(), "broker": broker_check()}
    if settings.BROKER_URL:
        results["redis"] = redis_check()
    if kind == "scheduler":
        results["scheduler_lock"] = scheduler_lock_check()
    return results
