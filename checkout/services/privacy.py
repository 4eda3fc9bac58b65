"""Checkout's part of a member's data export and erasure (``crm.services.privacy``'s signals).

Checkout sits above crm, so crm cannot read quotes and commits itself: it asks through
``customer_data_exporting`` and ``customer_erasing``, connected in ``CheckoutConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from checkout.models import CheckoutCommit, CheckoutQuote
from marketplace.models import Customer


def on_customer_data_exporting(sender: Any, *, customer: Customer, **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
    """The customer's checkout commits as an export section: shop, order id, money (strings), points, time."""
    commits = CheckoutCommit.objects.filter(account__customer=customer).select_related("shop").order_by("pk")
    return {
        "checkoutCommits": [
            {
                "shop": commit.shop.slug,
                "orderId": commit.order_external_id,
                "discountTotal": str(commit.discount_total),
                "pointsSpent": str(commit.points_spent),
                "pointsAmount": str(commit.points_amount),
                "totalDue": str(commit.total_due),
                "committedAt": commit.committed_at.isoformat(),
            }
            for commit in commits
        ]
    }


def on_customer_erasing(
    sender: Any, *, customer: Customer, former_external_id: str, at: dt.datetime, **kwargs: Any
) -> None:
    """Replace the former customer id in the stored input of the customer's quotes (the erasure's transaction)."""
    quotes = CheckoutQuote.objects.filter(Q(customer=customer) | Q(input__customerId=former_external_id))
    for quote in quotes.select_for_update():
        quote.input = {**quote.input, "customerId": customer.external_id}
        quote.save(update_fields=["input"])
