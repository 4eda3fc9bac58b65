"""Dramatiq actors of the rewards app: thin, idempotent, retried only on transient errors."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq_crontab import cron

from loyalty.tasks import transient
from rewards.services import redemptions_expire

logger = logging.getLogger(__name__)


@cron("*/5 * * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient)
def redemptions_expire_task() -> None:
    """Every 5 minutes: expire unused codes past their ``expires_at`` (see ``redemptions_expire``)."""
    expired = redemptions_expire()
    if expired:
        logger.info("expired %d redemption codes", expired)
