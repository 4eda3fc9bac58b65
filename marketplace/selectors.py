"""Reads of the marketplace app that more than one caller needs."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from marketplace.models import Category, Customer, StaffMembership

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
