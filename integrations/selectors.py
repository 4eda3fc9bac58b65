"""Reads of the integrations app: the event feed, endpoints and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from marketplace.models import ShopEvent

#: Largest feed page: the API's page limit for every connection (``PATRON_GRAPHQL_MAX_PAGE_SIZE``).
FEED_PAGE_MAX = 100


def shop_events_after(
    *, shop_id: int, after_position: int, types: Sequence[str] | None, first: int
) -> tuple[list[ShopEvent], bool]:
    """Published events of the shop after ``after_position`` in feed order: ``(page, has next page)``.

    ``types`` (if given and not empty) keeps only those event types. ``first`` is clamped to
    1..``FEED_PAGE_MAX``. One query.
    """
    first = max(1, min(first, FEED_PAGE_MAX))
    events = ShopEvent.objects.filter(shop_id=shop_id, position__isnull=False, position__gt=after_position)
    if types:
        events = events.filter(type__in=list(types))
    page = list(events.order_by("position")[: first + 1])
    return page[:first], len(page) > first


def webhook_endpoints_of_shop(*, shop_id: int) -> QuerySet[WebhookEndpoint]:
    """The shop's webhook endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(shop_id=shop_id).order_by("pk")


def webhook_deliveries_of_endpoint(*, endpoint_id: int, limit: int) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries with their events and attempts (oldest first), newest first.

    Two queries whatever ``limit`` (the attempts are prefetched: the delivery log reads them all).
    """
    attempts = Prefetch("log", queryset=WebhookAttempt.objects.order_by("attempted_at", "pk"))
    return list(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .select_related("event")
        .prefetch_related(attempts)
        .order_by("-pk")[:limit]
    )
