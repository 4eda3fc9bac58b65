"""Dramatiq actors of the referrals app: thin, idempotent, retried only on transient errors."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq_crontab import cron

from loyalty.tasks import transient
from referrals.services import referrals_expire_due

logger = logging.getLogger(__name__)


@cron("17 * * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient)
def referrals_expire_task() -> None:
    """Every hour: expire open referrals past their ``expires_at`` (see ``referrals_expire_due``)."""
    expired = referrals_expire_due()
    if expired:
        logger.info("expired %d open referrals", expired)
