"""Dramatiq actors of the loyalty app: thin interfaces that load ids and call one service.

Every actor is safe to run twice; only transient database errors are retried.
"""

from __future__ import annotations

import datetime as dt
import logging

import dramatiq
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from dramatiq_crontab import cron

from loyalty.services.lifecycle import points_expire_due, points_release_due, tiers_requalify_due
from loyalty.services.occasions import occasions_bonus_due
from loyalty.services.orders import order_event_process
from loyalty.services.tiers import tiers_reevaluate
from marketplace.models import OrderEvent

logger = logging.getLogger(__name__)

#: An outbox row younger than this is presumed in flight; the sweep leaves it to its message.
SWEEP_GRACE = dt.timedelta(seconds=60)
SWEEP_BATCH = 1000


def transient(retries: int, exception: BaseException) -> bool:
    """Retry lost connections, deadlocks and serialisation failures; not our own bugs."""
    return isinstance(exception, OperationalError | InterfaceError) and retries < 10


@dramatiq.actor(queue_name="loyalty", retry_when=transient, max_backoff=60_000)
def order_event_process_task(event_id: int) -> None:
    """Apply outbox ``OrderEvent`` ``event_id`` to the ledger (see ``order_event_process``)."""
    try:
        order_event_process(event_id=event_id)
    except OrderEvent.DoesNotExist:
        logger.warning("order event %s does not exist; message dropped", event_id)


def order_event_enqueue(sender: object, event_id: int, **kwargs: object) -> None:
    """Receiver of ``order_event_committed``: queue the worker for the committed event."""
    order_event_process_task.send(event_id)


def tier_ladder_reevaluate_enqueue(sender: object, program_id: int, reason: str, **kwargs: object) -> None:
    """Receiver of ``tier_ladder_committed``: queue the re-evaluation of the program's members."""
    tiers_reevaluate_task.send(program_id, reason)


def outbox_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-send unprocessed order events older than ``SWEEP_GRACE``; return how many were sent.

    Repairs a crash between commit and send. Sending an event twice is harmless: processing is
    idempotent.
    """
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    ids = list(
        OrderEvent.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for event_id in ids:
        order_event_process_task.send(event_id)
    return len(ids)


@cron("* * * * *")
@dramatiq.actor(queue_name="loyalty")
def outbox_sweep_task() -> None:
    """Every minute: re-send order events whose message was lost (see ``outbox_sweep``)."""
    sent = outbox_sweep()
    if sent:
        logger.info("outbox sweep re-sent %d order events", sent)


@cron("*/15 * * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient)
def points_release_task() -> None:
    """Every 15 minutes: make pending points available whose return window has passed."""
    summary = points_release_due(now=timezone.now())
    if summary.points:
        logger.info("released %d points on %d accounts", summary.points, summary.accounts)


@dramatiq.actor(queue_name="loyalty", retry_when=transient, max_backoff=60_000, time_limit=3_600_000)
def tiers_reevaluate_task(program_id: int, reason: str) -> None:
    """After a tier ladder edit: move the program's members per ``tiers_reevaluate`` (idempotent)."""
    summary = tiers_reevaluate(program_id=program_id, reason=reason)
    logger.info(
        "program %s re-evaluated: %d upgraded, %d moved off deleted tiers",
        program_id,
        summary.upgraded,
        summary.moved_from_deleted,
    )


@cron("30 0 * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient, max_backoff=60_000, time_limit=3_600_000)
def occasions_bonus_task() -> None:
    """Daily at 00:30 UTC: birthday and anniversary bonuses due today (and missed days of the last week)."""
    summary = occasions_bonus_due(now=timezone.now())
    if summary.points:
        logger.info(
            "occasion bonuses: %d birthdays, %d anniversaries, %d points",
            summary.birthdays,
            summary.anniversaries,
            summary.points,
        )


@cron("10 * * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient, max_backoff=60_000, time_limit=3_600_000)
def points_expire_task() -> None:
    """Hourly at :10: expire what remains of lots past ``expires_at`` (see ``points_expire_due``)."""
    summary = points_expire_due(now=timezone.now())
    if summary.points:
        logger.info("expired %d points of %d lots on %d accounts", summary.points, summary.lots, summary.accounts)


@cron("20 0 * * *")
@dramatiq.actor(queue_name="loyalty", retry_when=transient, max_backoff=60_000, time_limit=3_600_000)
def tiers_requalify_task() -> None:
    """Daily at 00:20 UTC: requalify members whose tier window ended (see ``tiers_requalify_due``)."""
    summary = tiers_requalify_due(now=timezone.now())
    if summary.accounts:
        logger.info(
            "requalified %d accounts: %d kept, %d moved down, %d marked only",
            summary.accounts,
            summary.kept,
            summary.moved_down,
            summary.marked,
        )
