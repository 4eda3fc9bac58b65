"""Reads of the marketplace app that more than one caller needs."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from marketplace.models import Category, Customer, OrderEvent, StaffMembership

#: Most categories one ``categories`` call lists.
CATEGORIES_LIMIT = 200


def categories_listed(*, search: str | None = None) -> list[Category]:
    """Categories by name (at most ``CATEGORIES_LIMIT``), optionally those whose name or slug
    contains ``search`` (case-insensitive; over-long search text is cut to 100 characters)."""
    rows = Category.objects.order_by("name", "slug")
    if search:
        text = search.strip()[:100]
        rows = rows.filter(Q(name__icontains=text) | Q(slug__icontains=text))
    return list(rows[:CATEGORIES_LIMIT])


def staff_shop_ids(*, user: AbstractBaseUser | AnonymousUser | None) -> list[int]:
    """Ids of the shops in which the user holds any staff role (one query)."""
    if user is None or not user.is_authenticated:
        return []
    return list(StaffMembership.objects.filter(user_id=user.pk).values_list("shop_id", flat=True))


def staff_memberships(*, user_id: int) -> list[StaffMembership]:
    """The user's staff memberships with their shops joined, by shop name (one query)."""
    return list(
        StaffMembership.objects.filter(user_id=user_id).select_related("shop").order_by("shop__name", "shop_id")
    )


def customer_for_user(*, user: AbstractBaseUser | AnonymousUser | None) -> Customer | None:
    """The customer record of a logged-in user, or ``None`` (anonymous or staff-only user)."""
    if user is None or not user.is_authenticated:
        return None
    return Customer.objects.filter(user_id=user.pk).first()


def order_events_failed(*, shop_id: int) -> QuerySet[OrderEvent]:
    """The shop's order events parked as failed and not processed since, oldest first (lazy).

    The caller checks ``Capability.RECORD_ORDERS`` (the GraphQL field's extension does).
    """
    return OrderEvent.objects.filter(
        order__shop_id=shop_id, processed_at__isnull=True, failed_at__isnull=False
    ).order_by("pk")


def order_events_to_resend(*, recorded_before: dt.datetime, per_shop: int, limit: int) -> list[int]:
    """Ids of unprocessed, unparked events recorded before ``recorded_before``, shops served fairly.

    Round-robin over shops: every shop's oldest such event (by ``created_at``, then id), then
    every shop's second, and so on, at most ``per_shop`` per shop and ``limit`` in all, so one
    shop's backlog cannot crowd out another shop's events (issue 13). One query (a
    ``ROW_NUMBER()`` window per shop); the outbox sweep sends what it returns.
    """
    return list(
        OrderEvent.objects.filter(processed_at__isnull=True, failed_at__isnull=True, created_at__lte=recorded_before)
        .annotate(
            shop_rank=Window(RowNumber(), partition_by=[F("order__shop_id")], order_by=[F("created_at"), F("pk")])
        )
        .filter(shop_rank__lte=per_shop)
        .order_by("shop_rank", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
