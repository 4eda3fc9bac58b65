"""Rate limiting through the ``limits`` library (moving windows; Redis in services mode).

In the embedded default the counters live in process memory; with ``REDIS_URL`` they live in
Redis, so every web process shares them. Keys carry ``PATRON_THROTTLE_PREFIX`` so that test
runs and deployments sharing a Redis do not count each other's attempts.

When Redis cannot be reached, ``throttle_hit`` raises ``ThrottleUnavailable`` (after at most
``REDIS_TIMEOUT`` seconds) instead of the client's connection error: callers refuse the attempt
with their ``SERVICE_UNAVAILABLE`` code (failing closed: an unthrottled login is a password
guessing opportunity).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

#: Seconds to wait for Redis (connect and each command) before calling it unavailable.
REDIS_TIMEOUT = 2.0


class ThrottleUnavailable(Exception):
    """The rate-limit counters cannot be reached (Redis down): the attempt can be neither counted nor allowed."""


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    """One limiter per process, on Redis when configured, else in memory."""
    prefix = os.environ.get("PATRON_THROTTLE_PREFIX", "patron-throttle")
    if settings.REDIS_URL:
        storage = storage_from_string(
            settings.REDIS_URL,
            key_prefix=prefix,
            wrap_exceptions=True,
            socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
        )
    else:
        storage = storage_from_string("memory://")
    return MovingWindowRateLimiter(storage)


def throttle_hit(*, rate: str, scope: str, key: str) -> bool:
    """Count one attempt against ``rate`` (e.g. ``"30/minute"``) for ``scope``/``key``.

    Returns ``False`` when the attempt is over the limit (it is then not counted); raises
    ``ThrottleUnavailable`` when the counters cannot be reached.
    """
    with _reachable(scope):
        return _limiter().hit(parse(rate), scope, key)


@contextlib.contextmanager
def _reachable(scope: str) -> Iterator[None]:
    """Turn the storage's connection errors into ``ThrottleUnavailable`` (logged once, here)."""
    try:
        yield
    except StorageError as exc:
        logger.warning("rate-limit storage unreachable (%s): refusing %s", type(exc.storage_error).__name__, scope)
        raise ThrottleUnavailable(scope) from exc


@dataclass(frozen=True)
class ThrottleWindow:
    """One counted attempt: whether it was allowed, and the window's state after it.

    ``limit`` is the number allowed per window, ``remaining`` how many are left, ``reset_after``
    the seconds until the window frees capacity again (at least 1): the values of the
    ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` response headers.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: int


def throttle_window(*, rate: str, scope: str, key: str) -> ThrottleWindow:
    """Count one attempt like :func:`throttle_hit` and report the window (for rate-limit headers).

    Raises ``ThrottleUnavailable`` when the counters cannot be reached.
    """
    item = parse(rate)
    with _reachable(scope):
        allowed = _limiter().hit(item, scope, key)
        stats = _limiter().get_window_stats(item, scope, key)
    reset_after = max(1, math.ceil(stats.reset_time - time.time()))
    return ThrottleWindow(
        allowed=allowed, limit=item.amount, remaining=max(0, stats.remaining), reset_after=reset_after
    )


def throttle_reset() -> None:
    """Forget every counter (tests and operators' use)."""
    _limiter().storage.reset()
