"""Dramatiq actors of crm (thin): the nightly refresh of statistics and automatic tags."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq_crontab import cron

from crm.services.stats import members_refresh_all
from loyalty.tasks import transient

logger = logging.getLogger(__name__)


@cron("40 0 * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient, time_limit=3_600_000)
def crm_refresh_task() -> None:
    """Daily at 00:40 UTC: every member's statistics, the high-value thresholds and automatic tags
    (``crm.services.stats.members_refresh_all``)."""
    refreshed = members_refresh_all()
    logger.info("refreshed statistics and tags of %d members", refreshed)
