"""Parking and retrying order events whose processing keeps failing (issue 13, poison events).

The loyalty worker records each failed attempt with :func:`order_event_failure_record`; after
the bounded number of attempts the event is parked (``OrderEvent.failed_at``) with its error
text, the outbox sweep skips it and staff see it (``shop.failedOrderEvents``). After a fix they
call :func:`order_event_retry` (``orderEventRetry``), which un-parks it and queues it again
through the same ``order_event_committed`` signal as a new event.
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from marketplace.errors import OrderError, OrderErrorCode
from marketplace.models import OrderEvent
from marketplace.permissions import Capability, has_capability
from marketplace.signals import order_event_committed

#: Longest error text kept on a parked event.
FAILURE_TEXT_MAX = 2000


def order_event_failure_record(*, event_id: int, error: str, max_attempts: int) -> bool:
    """Count one failed processing attempt of event ``event_id``; park it after ``max_attempts``.

    Stores ``error`` (cut to ``FAILURE_TEXT_MAX`` characters) in ``failure`` and increments
    ``attempts``; when ``attempts`` reaches ``max_attempts`` sets ``failed_at`` (parked: the
    sweep skips it, the worker stops retrying). Returns whether the event is now parked. An
    event already processed, or unknown, is left alone (``False``); one already parked too
    (``True``): two workers may fail on one event at once (its own message, and a batch that
    claimed it), and the second must not count past the bound. Locks the event row in its own
    durable transaction; call it after the failed transaction rolled back.
    """
    with transaction.atomic(durable=True):
        event = OrderEvent.objects.select_for_update().filter(pk=event_id, processed_at__isnull=True).first()
        if event is None:
            return False
        if event.failed_at is not None:
            return True
        event.attempts += 1
        event.failure = error[:FAILURE_TEXT_MAX]
        if event.attempts >= max_attempts and event.failed_at is None:
            event.failed_at = timezone.now()
        event.save(update_fields=["attempts", "failure", "failed_at"])
        return event.failed_at is not None


def order_event_retry(*, event_id: int, actor: AbstractBaseUser | AnonymousUser) -> list[OrderEvent]:
    """Un-park failed event ``event_id`` and the later parked events of its order; queue them again.

    The caller must hold ``Capability.RECORD_ORDERS`` in the event's shop (``NOT_AUTHENTICATED``
    when anonymous; ``ORDER_EVENT_NOT_FOUND`` otherwise, as for an unknown id, so that a
    guessed id reveals nothing). The event must be parked and
    unprocessed (``ORDER_EVENT_NOT_FAILED``). Clears ``failed_at`` and ``failure`` and resets
    ``attempts`` (a fresh budget of tries), then after commit sends ``order_event_committed``
    for each un-parked event, so the loyalty worker processes them as if just recorded. The
    later events of the same order come along because they were parked waiting for this one
    (loyalty applies an order's events in recorded order). Returns the un-parked events,
    oldest first. Locks the order's parked events in primary-key order in one durable
    transaction; a refusal writes nothing.
    """
    if not actor.is_authenticated:
        raise OrderError(OrderErrorCode.NOT_AUTHENTICATED, "Log in first.")
    event = OrderEvent.objects.select_related("order").filter(pk=event_id).first()
    if event is None or not has_capability(
        user=actor, shop_id=event.order.shop_id, capability=Capability.RECORD_ORDERS
    ):
        # Another shop's event, or a caller who may not record orders: a guessed id reveals nothing.
        raise OrderError(OrderErrorCode.ORDER_EVENT_NOT_FOUND, "No such order event.", "eventId")
    with transaction.atomic(durable=True):
        parked = list(
            OrderEvent.objects.select_for_update()
            .filter(order_id=event.order_id, pk__gte=event.pk, processed_at__isnull=True, failed_at__isnull=False)
            .order_by("pk")
        )
        if not parked or parked[0].pk != event.pk:
            raise OrderError(OrderErrorCode.ORDER_EVENT_NOT_FAILED, "This event is not parked as failed.", "eventId")
        OrderEvent.objects.filter(pk__in=[row.pk for row in parked]).update(failed_at=None, failure="", attempts=0)
        for row in parked:
            row.failed_at, row.failure, row.attempts = None, "", 0
            transaction.on_commit(partial(order_event_committed.send, sender=OrderEvent, event_id=row.pk))
    return parked
