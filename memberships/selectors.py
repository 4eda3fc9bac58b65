"""Reads of memberships for the API: plans on sale, a member's subscription, the staff list."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from memberships.models import LIVE, MembershipPlan, Subscription, SubscriptionBulkAction


def plans_on_sale(shop_id: int) -> QuerySet[MembershipPlan]:
    """The shop's plans that are not archived, cheapest first, with their tier."""
    return (
        MembershipPlan.objects.filter(shop_id=shop_id, archived_at__isnull=True)
        .select_related("tier")
        .order_by("price", "pk")
    )


def plans_of_shop(shop_id: int, *, archived: bool | None = None) -> QuerySet[MembershipPlan]:
    """Every plan of the shop (``archived``: only archived ones, or only live ones), cheapest first."""
    plans = MembershipPlan.objects.filter(shop_id=shop_id).select_related("tier")
    if archived is not None:
        plans = plans.filter(archived_at__isnull=not archived)
    return plans.order_by("price", "pk")


def current_subscription(account_id: int) -> Subscription | None:
    """The account's live subscription, else its latest one, else ``None``."""
    rows = Subscription.objects.filter(account_id=account_id).select_related("plan__tier")
    return rows.filter(status__in=LIVE).first() or rows.order_by("-created_at", "-pk").first()


def subscriptions_of_shop(
    shop_id: int, *, statuses: list[str] | None = None, plan_id: int | None = None, search: str = ""
) -> QuerySet[Subscription]:
    """The shop's subscriptions, newest first, filtered by state, plan and the member's name,
    e-mail or external id (case-insensitive substring)."""
    rows = Subscription.objects.filter(shop_id=shop_id).select_related("plan__tier", "account__customer")
    if statuses:
        rows = rows.filter(status__in=statuses)
    if plan_id is not None:
        rows = rows.filter(plan_id=plan_id)
    term = search.strip()
    if term:
        rows = rows.filter(
            Q(account__customer__display_name__icontains=term)
            | Q(account__customer__email__icontains=term)
            | Q(account__customer__external_id__icontains=term)
        )
    return rows.order_by("-created_at", "-pk")


def subscriptions_of_account(account_id: int) -> QuerySet[Subscription]:
    """Every subscription of the account, newest first, with plan and tier."""
    return (
        Subscription.objects.filter(account_id=account_id).select_related("plan__tier").order_by("-created_at", "-pk")
    )


def bulk_action_of_shop(shop_id: int, action_id: int) -> SubscriptionBulkAction | None:
    """The shop's bulk action ``action_id``, or ``None``."""
    return SubscriptionBulkAction.objects.filter(shop_id=shop_id, pk=action_id).first()
