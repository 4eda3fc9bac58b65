"""Dramatiq actors of engagement (thin): deliveries, the dispatcher and the daily planning jobs."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from engagement.services.delivery import deliver, due_events
from engagement.services.jobs import campaigns_due, engagement_plan_daily, feed_follow
from loyalty.tasks import transient

logger = logging.getLogger(__name__)


@dramatiq.actor(queue_name="engagement", retry_when=transient, max_retries=10)
def deliver_task(event_id: int) -> None:
    """Deliver one engagement event (``engagement.services.delivery.deliver``): sends it at most once
    whatever the number of copies of this message; a failed send plans its own retry."""
    deliver(event_id)


@cron("* * * * *")
@dramatiq.actor(queue_name="engagement", retry_when=transient)
def engagement_dispatch_task() -> None:
    """Every minute: follow the shops' event feed (tier upgrades, codes, referrals), send the
    campaigns whose time came, then a delivery message for every planned event now due
    (retries and the ends of quiet hours)."""
    now = timezone.now()
    feed_follow(now=now)
    campaigns_due(now=now)
    for event_id in due_events(now=now):
        deliver_task.send(event_id)


@cron("10 1 * * *")
@dramatiq.actor(queue_name="engagement", retry_when=transient, time_limit=3_600_000)
def engagement_daily_task() -> None:
    """Daily at 01:10 UTC (after the nightly crm refresh): birthdays, anniversaries, cultural events
    with their bonuses, expiring points and win-back (``jobs.engagement_plan_daily``)."""
    summary = engagement_plan_daily(now=timezone.now())
    logger.info("engagement planned: %s", summary)


def on_events_due(sender: Any, *, event_ids: list[int], **kwargs: Any) -> None:
    """Receiver of ``engagement.signals.events_due``: one delivery message per event planned due now."""
    for event_id in event_ids:
        deliver_task.send(event_id)
