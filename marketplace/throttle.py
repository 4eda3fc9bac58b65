"""Rate limiting through the ``limits`` library (moving windows; Redis in services mode).

In the embedded default the counters live in process memory; with ``REDIS_URL`` they live in
Redis, so every web process shares them. Keys carry ``PATRON_THROTTLE_PREFIX`` so that test
runs and deployments sharing a Redis do not count each other's attempts.
"""

from __future__ import annotations

import functools
import os

from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    """One limiter per process, on Redis when configured, else in memory."""
    prefix = os.environ.get("PATRON_THROTTLE_PREFIX", "patron-throttle")
    if settings.REDIS_URL:
        storage = storage_from_string(settings.REDIS_URL, key_prefix=prefix)
    else:
        storage = storage_from_string("memory://")
    return MovingWindowRateLimiter(storage)


def throttle_hit(*, rate: str, scope: str, key: str) -> bool:
    """Count one attempt against ``rate`` (e.g. ``"30/minute"``) for ``scope``/``key``.

    Returns ``False`` when the attempt is over the limit (it is then not counted).
    """
    return _limiter().hit(parse(rate), scope, key)


def throttle_reset() -> None:
    """Forget every counter (tests and operators' use)."""
    _limiter().storage.reset()
