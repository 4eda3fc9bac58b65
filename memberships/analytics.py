"""Membership figures for the shop's owner (``analytics:read``): subscribers, MRR, churn, revenue per plan.

Definitions (docs/memberships.md, "Figures"), the SaaS conventions as Stripe's billing analytics
define them (https://docs.stripe.com/billing/subscriptions/analytics):

* **Active subscribers**: subscriptions active or past due (paid, or in their retries); trials
  are counted apart.
* **MRR**: the sum of their plans' prices per month: a month's price, a year's over 12, N days'
  over N x 365 / 12 days; Decimal in the shop's currency, to the cent.
* **Churn rate** over the last ``days``: subscriptions that ended (cancelled or expired, after
  having started) in the window, over those running when it began. ``None`` when none were.
* **Revenue per plan**: successful payments in the window, and each plan's subscribers now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from memberships.models import (
    IntervalUnit,
    MembershipPayment,
    MembershipPlan,
    PaymentOutcome,
    Subscription,
    SubscriptionStatus,
)

S = SubscriptionStatus
CENT = Decimal("0.01")


def monthly_price(plan: MembershipPlan) -> Decimal:
    """The plan's price per month (unrounded Decimal)."""
    if plan.interval_unit == IntervalUnit.MONTH:
        return plan.price / plan.interval_count
    if plan.interval_unit == IntervalUnit.YEAR:
        return plan.price / (12 * plan.interval_count)
    return plan.price * Decimal(365) / (Decimal(12) * plan.interval_count)


@dataclass(frozen=True)
class PlanFigures:
    """One plan's subscribers now (trialing, active, past due) and revenue in the window."""

    plan: MembershipPlan
    subscribers: int
    revenue: Decimal


@dataclass(frozen=True)
class MembershipFigures:
    """The shop's membership figures at ``at`` over the last ``days``."""

    currency: str
    active_subscribers: int
    trialing: int
    past_due: int
    mrr: Decimal
    churned: int
    churn_rate: Decimal | None
    revenue: Decimal
    plans: list[PlanFigures]
    days: int


def membership_figures(*, shop_id: int, currency: str, at: dt.datetime, days: int = 30) -> MembershipFigures:
    """The figures above for shop ``shop_id`` (four queries)."""
    start = at - dt.timedelta(days=days)
    plans = list(
        MembershipPlan.objects.filter(shop_id=shop_id)
        .annotate(
            active=Count("subscriptions", filter=Q(subscriptions__status__in=[S.ACTIVE, S.PAST_DUE])),
            trialing=Count("subscriptions", filter=Q(subscriptions__status=S.TRIALING)),
            past_due=Count("subscriptions", filter=Q(subscriptions__status=S.PAST_DUE)),
        )
        .order_by("price", "pk")
    )
    revenue_by_plan = dict(
        MembershipPayment.objects.filter(
            shop_id=shop_id, outcome=PaymentOutcome.SUCCEEDED, created_at__gt=start, created_at__lte=at
        )
        .values_list("subscription__plan_id")
        .annotate(total=Sum("amount"))
        .values_list("subscription__plan_id", "total")
    )
    mrr = sum((monthly_price(plan) * plan.active for plan in plans), Decimal("0")).quantize(CENT, ROUND_HALF_UP)
    started = Subscription.objects.filter(shop_id=shop_id, started_at__isnull=False, started_at__lte=start)
    running_at_start = started.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start)).count()
    churned = Subscription.objects.filter(
        shop_id=shop_id,
        started_at__isnull=False,
        status__in=[S.CANCELLED, S.EXPIRED],
        ended_at__gt=start,
        ended_at__lte=at,
    ).count()
    rate = (
        (Decimal(churned) / running_at_start).quantize(Decimal("0.0001"), ROUND_HALF_UP) if running_at_start else None
    )
    figures = [
        PlanFigures(
            plan=plan,
            subscribers=plan.active + plan.trialing,
            revenue=revenue_by_plan.get(plan.pk) or Decimal("0.00"),
        )
        for plan in plans
    ]
    return MembershipFigures(
        currency=currency,
        active_subscribers=sum(plan.active for plan in plans),
        trialing=sum(plan.trialing for plan in plans),
        past_due=sum(plan.past_due for plan in plans),
        mrr=mrr,
        churned=churned,
        churn_rate=rate,
        revenue=sum((f.revenue for f in figures), Decimal("0.00")),
        plans=figures,
        days=days,
    )
