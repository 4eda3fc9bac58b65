"""Publishing shop events: number them for the feed and create their webhook deliveries, once.

``events_publish`` runs after every commit that recorded events (a dramatiq message) and every
minute (the sweep). It takes a transaction-scoped lock, so publishers run one at a time; each
numbers the committed, unpublished events in id order with positions above every earlier one.
An event committed late (a long transaction) is therefore numbered after events that were
published before it committed: a reader that pages the feed by position never skips it, and no
position is ever reused (no duplicates). Deliveries are created in the same transaction, one per
active endpoint of the event's shop that lists its type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from marketplace.models import ShopEvent

#: Events published per call at most (the sweep and the next message take the rest).
PUBLISH_BATCH = 1000
#: Key of the PostgreSQL advisory lock that serialises publishers (any fixed 64-bit number).
_PUBLISH_LOCK = 0x50415452_4F4E4556  # "PATRONEV"


def _serialise_publishers() -> None:
    """One publisher at a time (PostgreSQL: an advisory lock until commit; SQLite serialises writers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PUBLISH_LOCK])


@dataclass(frozen=True)
class Publication:
    """What one :func:`events_publish_batch` did: events numbered, deliveries created (ids, to send)."""

    events: int
    deliveries: list[int]


def events_publish(*, now: dt.datetime | None = None, batch: int = PUBLISH_BATCH) -> list[int]:
    """Publish every committed event, ``batch`` per transaction; return the deliveries created (to send).

    Keeps going while batches come back full, so a backlog (a large import, the demo data) is
    published in one call instead of one batch per minute. Idempotent.
    """
    deliveries: list[int] = []
    while True:
        publication = events_publish_batch(now=now, batch=batch)
        deliveries += publication.deliveries
        if publication.events < batch:
            return deliveries


def events_publish_batch(*, now: dt.datetime | None = None, batch: int = PUBLISH_BATCH) -> Publication:
    """Publish up to ``batch`` committed events, oldest first, in one transaction.

    Idempotent: a published event is never published again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _serialise_publishers()
        events = list(ShopEvent.objects.filter(position__isnull=True).order_by("id")[:batch])
        if not events:
            return Publication(events=0, deliveries=[])
        top = ShopEvent.objects.aggregate(top=Max("position"))["top"] or 0
        for offset, event in enumerate(events, start=1):
            event.position = top + offset
            event.published_at = now
        ShopEvent.objects.bulk_update(events, ["position", "published_at"])
        endpoints: dict[int, list[WebhookEndpoint]] = {}
        for endpoint in WebhookEndpoint.objects.filter(
            is_active=True, shop_id__in={event.shop_id for event in events}
        ).order_by("pk"):
            endpoints.setdefault(endpoint.shop_id, []).append(endpoint)
        deliveries = [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for event in events
            for endpoint in endpoints.get(event.shop_id, [])
            if event.type in endpoint.event_types
        ]
        created = WebhookDelivery.objects.bulk_create(deliveries)
    return Publication(events=len(events), deliveries=[delivery.pk for delivery in created])
