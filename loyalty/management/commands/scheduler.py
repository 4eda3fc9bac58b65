"""``manage.py scheduler``: dramatiq-crontab's scheduler that fails loudly when it loses its lock.

dramatiq-crontab's own ``crontab`` command holds a Redis lock for its whole life and shuts down
when extending it fails, which is what happens after a Redis restart (the key is gone):
"The lock is no longer owned by the scheduler. Shutting down." -- and it then exits with status
0, so a supervisor that restarts only failed processes leaves the periodic jobs (the outbox sweep
among them) stopped for good (issue 13). This command runs the same scheduler and:

- exits with status 75 (``EX_TEMPFAIL``) when the lock was lost or Redis failed, so that any
  supervisor restarts it (deploy/supervisord.conf restarts it whatever the status); the new
  process takes the lock again as soon as Redis answers;
- exits with status 0 when another scheduler holds the lock after the wait (a standby: the
  supervisor starts it again and it waits once more);
- waits for Redis at start instead of exiting (no restart loop while Redis is down);
- sends one outbox sweep when it takes the lock, so that order events whose messages were lost
  with Redis (or while no scheduler ran) are re-sent now rather than at the next minute.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from typing import Any

from dramatiq_crontab import scheduler
from dramatiq_crontab import utils as crontab_utils
from dramatiq_crontab.management.commands.crontab import Command as CrontabCommand

logger = logging.getLogger(__name__)

#: Exit status when the lock was lost or Redis failed (BSD ``EX_TEMPFAIL``: try again later).
EXIT_LOCK_LOST = 75


class Command(CrontabCommand):
    """Run the periodic-job scheduler under a Redis lock; exit non-zero when the lock is lost."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Load the tasks, take the lock, sweep once, run the scheduler until stopped or the lock is lost."""
        import redis

        if not options["no_task_loading"]:
            self.load_tasks(options)
        if not options["no_heartbeat"]:
            importlib.import_module("dramatiq_crontab.tasks")
        lock = crontab_utils.lock
        self._wait_for_redis()
        try:
            self.stdout.write("Acquiring lock…")
            with lock:
                self._sweep_now()
                self.launch_scheduler(lock, scheduler)
                # dramatiq-crontab's fake lock (no REDIS_URL) has no owner to lose.
                lost = hasattr(lock, "owned") and not lock.owned()
        except crontab_utils.LockNotOwnedError:
            lost = True
        except crontab_utils.LockError:
            self.stderr.write("Another scheduler is already running.")
            return
        except redis.RedisError as exc:
            self.stderr.write(f"Redis failed ({type(exc).__name__}); exiting so that the supervisor restarts me.")
            sys.exit(EXIT_LOCK_LOST)
        if lost:
            self.stderr.write(
                "The scheduler lock was lost (Redis restarted?); exiting so that the supervisor restarts me."
            )
            sys.exit(EXIT_LOCK_LOST)

    def _wait_for_redis(self) -> None:
        """Wait (without exiting: no crash loop under the supervisor) until the lock's Redis answers."""
        client = getattr(crontab_utils, "redis_client", None)
        if client is None:  # no REDIS_URL: dramatiq-crontab's in-process fake lock
            return
        waited = 0
        while True:
            try:
                client.ping()
                return
            except Exception as exc:
                if waited % 10 == 0:
                    self.stderr.write(f"Waiting for Redis ({type(exc).__name__})…")
                waited += 1
                time.sleep(1)

    def _sweep_now(self) -> None:
        """Send one outbox sweep at start (best effort: the minute's cron sends the next anyway)."""
        from loyalty.tasks import outbox_sweep_task

        try:
            outbox_sweep_task.send()
        except Exception as exc:
            logger.warning("start-up outbox sweep not sent: %s", type(exc).__name__)
