"""Dramatiq actors of memberships (thin): the renewal job every five minutes and staff bulk actions."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from loyalty.tasks import transient
from memberships.services.bulk import subscription_bulk_run
from memberships.services.lifecycle import subscriptions_advance

logger = logging.getLogger(__name__)


@cron("*/5 * * * *")
@dramatiq.actor(queue_name="memberships", retry_when=transient, time_limit=3_600_000)
def memberships_advance_task() -> None:
    """Every five minutes: renewal reminders, charge requests and their retries, past due, expiries
    and ends of subscriptions (``lifecycle.subscriptions_advance``; idempotent)."""
    summary = subscriptions_advance(now=timezone.now())
    if summary.subscriptions:
        logger.info("memberships advanced: %s", summary)


@dramatiq.actor(queue_name="memberships", retry_when=transient, max_retries=10, time_limit=3_600_000)
def subscription_bulk_task(action_id: int) -> None:
    """Run (or resume) a staff bulk action over subscriptions (``bulk.subscription_bulk_run``)."""
    subscription_bulk_run(action_id)


def on_bulk_action_created(sender: Any, *, action_id: int, **kwargs: Any) -> None:
    """Receiver of ``memberships.signals.bulk_action_created``: queue the run."""
    subscription_bulk_task.send(action_id)
