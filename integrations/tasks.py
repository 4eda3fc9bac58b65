"""Dramatiq actors of the integrations app: publish shop events, send webhook deliveries, sweep.

Thin: each loads ids and calls one service. Publishing and sending are idempotent, so a message
sent twice (the sweep and a late original) does no harm; the sweep every minute repairs a
process that died between a commit and its message.
"""

from __future__ import annotations

import logging

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from integrations.services.delivery import deliveries_due, delivery_attempt
from integrations.services.publishing import events_publish
from loyalty.tasks import transient

logger = logging.getLogger(__name__)


def _publish_and_send() -> None:
    """Publish committed events and queue the deliveries that created."""
    for delivery_id in events_publish():
        webhook_deliver_task.send(delivery_id)


@dramatiq.actor(queue_name="integrations", retry_when=transient, max_backoff=60_000)
def events_publish_task() -> None:
    """Publish committed shop events and send the deliveries this created."""
    _publish_and_send()


@dramatiq.actor(queue_name="integrations", retry_when=transient, max_backoff=60_000)
def webhook_deliver_task(delivery_id: int) -> None:
    """Attempt one delivery now if due; a failed attempt schedules its retry as a delayed message."""
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_at is not None:
        delay_ms = max(0, int((outcome.retry_at - timezone.now()).total_seconds() * 1000))
        webhook_deliver_task.send_with_options(args=(delivery_id,), delay=delay_ms)


def events_publish_enqueue(sender: object, **kwargs: object) -> None:
    """Receiver of ``shop_events_committed``: queue a publication (a broker outage is left to the sweep)."""
    try:
        events_publish_task.send()
    except Exception as exc:
        logger.warning(
            "shop events committed but publication not queued (%s); the sweep will publish", type(exc).__name__
        )


@cron("* * * * *")
@dramatiq.actor(queue_name="integrations", retry_when=transient, max_backoff=60_000)
def integrations_sweep_task() -> None:
    """Every minute: publish what a lost message left unpublished and send due deliveries (retries, expired leases)."""
    _publish_and_send()
    due = deliveries_due()
    for delivery_id in due:
        webhook_deliver_task.send(delivery_id)
    if due:
        logger.info("integrations sweep queued %d due webhook deliveries", len(due))
