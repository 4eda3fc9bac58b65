"""The embedded default's background runtime: dramatiq worker threads and the scheduler in-process.

Used when no ``REDIS_URL`` is set (``PATRON_EMBEDDED_WORKER``): the broker is dramatiq's
in-memory ``StubBroker``, so the worker must live in the process that sends the messages.
"""

from __future__ import annotations

import logging
import threading

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)
_started = threading.Lock()
_worker: dramatiq.Worker | None = None


def start_embedded_runtime(*, worker_threads: int = 2, scheduler: bool = True) -> dramatiq.Worker | None:
    """Start worker threads (and the periodic-job scheduler) once per process; return the worker.

    A no-op returning ``None`` unless ``settings.PATRON_EMBEDDED_WORKER`` is on.
    """
    global _worker
    if not settings.PATRON_EMBEDDED_WORKER:
        return None
    with _started:
        if _worker is not None:
            return _worker
        import crm.tasks  # noqa: F401
        import engagement.tasks  # noqa: F401
        import integrations.tasks  # noqa: F401
        import loyalty.tasks  # noqa: F401  (declares the actors and their schedules)
        import memberships.tasks  # noqa: F401
        import referrals.tasks  # noqa: F401
        import rewards.tasks  # noqa: F401

        _worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=worker_threads)
        _worker.start()
        if scheduler:
            from dramatiq_crontab import scheduler as crontab_scheduler

            threading.Thread(target=crontab_scheduler.start, name="patron-scheduler", daemon=True).start()
        logger.info("embedded dramatiq worker (%d threads) and scheduler started", worker_threads)
        return _worker
