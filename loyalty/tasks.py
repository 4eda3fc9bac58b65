"""Dramatiq actors of the loyalty app: thin interfaces that load ids and call one service.

Every actor is safe to run twice; only transient database errors are retried, and order events
that fail, a bounded number of times before they are parked.
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
from loyalty.services.orders import (
    BATCH_SIZE,
    OrderEventApplyError,
    OrderEventBlocked,
    order_events_process_batch,
)
from loyalty.services.tiers import tiers_reevaluate
from marketplace.models import OrderEvent
from marketplace.selectors import order_events_to_resend
from marketplace.services.order_events import order_event_failure_record

logger = logging.getLogger(__name__)

#: An outbox row younger than this is presumed in flight; the sweep leaves it to its message.
SWEEP_GRACE = dt.timedelta(seconds=60)
#: Events re-sent per sweep at most, and per shop at most (so one shop's backlog cannot fill it).
SWEEP_BATCH = 1000
SWEEP_PER_SHOP = 50
#: Failed processing attempts of one event before it is parked as FAILED (``failed_at``).
MAX_ATTEMPTS = 5
#: Dramatiq retries of one message whose event failed (backoff 1 s doubling to 60 s); the DB
#: count (``MAX_ATTEMPTS``) parks the event first, this only bounds the message.
MAX_MESSAGE_RETRIES = 10


def transient(retries: int, exception: BaseException) -> bool:
    """Retry lost connections, deadlocks and serialisation failures; not our own bugs."""
    return isinstance(exception, OperationalError | InterfaceError) and retries < 10


def order_event_retry_when(retries: int, exception: BaseException) -> bool:
    """Retry transient database errors (10 times), and failed events until parked (``MAX_MESSAGE_RETRIES``)."""
    if transient(retries, exception):
        return True
    return isinstance(exception, OrderEventApplyError | OrderEventBlocked) and retries < MAX_MESSAGE_RETRIES


@dramatiq.actor(queue_name="loyalty", retry_when=order_event_retry_when, min_backoff=1_000, max_backoff=60_000)
def order_event_process_task(event_id: int) -> None:
    """Apply outbox ``OrderEvent`` ``event_id`` to the ledger, with up to ``BATCH_SIZE`` other pending events.

    ``order_events_process_batch``: when an earlier batch already applied this event (the
    common case under load) the message costs one read; otherwise one transaction applies this
    event's member chain and the other pending events it can claim (``SKIP LOCKED``), so the
    messages of those events then find them processed. A failed batch is applied one event
    per transaction, the other events' failures counted against them there.

    A failure other than a transient database error counts one attempt against the event that
    failed (this one, or an earlier event of the member pulled in ahead of it) with
    ``order_event_failure_record``; the message is retried with backoff until that event is
    parked after ``MAX_ATTEMPTS`` (issue 13: a poison event was retried for ever). When this
    very event is parked the message ends; when an earlier one is, it is retried once more and
    then goes ahead without it (``order_event_process`` skips parked events of other orders).
    """
    try:
        order_events_process_batch(event_id=event_id, limit=BATCH_SIZE, max_attempts=MAX_ATTEMPTS)
    except OrderEvent.DoesNotExist:
        logger.warning("order event %s does not exist; message dropped", event_id)
    except (OrderEventApplyError, OrderEventBlocked) as exc:
        culprit = exc.event_id if isinstance(exc, OrderEventApplyError) else event_id
        parked = order_event_failure_record(event_id=culprit, error=str(exc), max_attempts=MAX_ATTEMPTS)
        if parked:
            logger.warning("order event %s parked as failed after %d attempts: %s", culprit, MAX_ATTEMPTS, exc)
        else:
            logger.info("order event %s failed, will retry: %s", culprit, exc)
        if parked and culprit == event_id:
            return
        raise


def order_event_enqueue(sender: object, event_id: int, **kwargs: object) -> None:
    """Receiver of ``order_event_committed``: queue the worker for the committed event.

    Runs after commit: the event is recorded whatever happens here. When the broker cannot be
    reached (Redis down) the failure is logged and swallowed, so that the caller (e.g.
    ``orderEventRecord``) still answers success; the outbox sweep sends the event later.
    """
    try:
        order_event_process_task.send(event_id)
    except Exception as exc:
        logger.warning(
            "order event %s recorded but not queued (%s); the outbox sweep will send it", event_id, type(exc).__name__
        )


def tier_ladder_reevaluate_enqueue(sender: object, program_id: int, reason: str, **kwargs: object) -> None:
    """Receiver of ``tier_ladder_committed``: queue the re-evaluation of the program's members."""
    tiers_reevaluate_task.send(program_id, reason)


def outbox_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-send unprocessed order events older than ``SWEEP_GRACE``; return how many were sent.

    Repairs a crash between commit and send. Parked (failed) events are skipped. Shops are
    served round-robin: each shop's oldest pending event first, then each shop's second, and
    so on, at most ``SWEEP_PER_SHOP`` per shop and ``SWEEP_BATCH`` in all, so one shop's
    backlog (1,000 poison or pending events) cannot hide another shop's lost message (issue
    13; the choice is ``marketplace.selectors.order_events_to_resend``, one query). Sending an
    event twice is harmless: processing is idempotent.
    """
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    ids = order_events_to_resend(recorded_before=cutoff, per_shop=SWEEP_PER_SHOP, limit=SWEEP_BATCH)
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
