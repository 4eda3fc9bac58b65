"""Paid memberships' part of a member's privacy rights (docs/privacy.md): receivers of crm's
``customer_data_exporting`` and ``customer_erasing``, connected in ``MembershipsConfig.ready``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marketplace.models import Customer
from memberships.models import LIVE, ActorKind, Subscription, SubscriptionStatus
from memberships.services.lifecycle import end


def on_customer_data_exporting(sender: Any, *, customer: Customer, **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
    """The customer's subscriptions as an export section: shop, plan, state, dates, payments (money as strings)."""
    subscriptions = (
        Subscription.objects.filter(account__customer=customer)
        .select_related("shop", "plan")
        .prefetch_related("payments")
        .order_by("pk")
    )
    return {
        "membershipSubscriptions": [
            {
                "shop": subscription.shop.slug,
                "plan": subscription.plan.name,
                "status": subscription.status,
                "createdAt": subscription.created_at.isoformat(),
                "currentPeriodEnd": subscription.current_period_end.isoformat()
                if subscription.current_period_end
                else None,
                "autoRenew": subscription.auto_renew,
                "payments": [
                    {
                        "outcome": payment.outcome,
                        "amount": str(payment.amount),
                        "currency": payment.currency,
                        "points": payment.points,
                        "at": payment.created_at.isoformat(),
                    }
                    for payment in subscription.payments.all()
                ],
            }
            for subscription in subscriptions
        ]
    }


def on_customer_erasing(sender: Any, *, customer: Customer, at: dt.datetime, **kwargs: Any) -> None:
    """Cancel the customer's live subscriptions now (inside the erasure's transaction): nobody charges
    an erased member. The history keeps its amounts, as the ledger does."""
    for subscription in (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__tier", "account")
        .filter(account__customer=customer, status__in=LIVE)
        .order_by("pk")
    ):
        end(
            subscription,
            SubscriptionStatus.CANCELLED,
            reason="The member's data was erased",
            actor_kind=ActorKind.SYSTEM,
            at=at,
        )
