"""The checkout app's shop event (``marketplace.events``): a quote committed.

Recorded by ``checkout.services.quotes`` inside the commit's transaction, so webhooks and the event
feed hear of a commit exactly when it is durable. Body (docs/integrations.md, ``checkout.committed``):
``commitId``, ``quoteId``, ``orderExternalId``, ``member`` (null for a guest), ``currency``,
``subtotal``, ``discountTotal``, ``pointsSpent``, ``pointsAmount``, ``totalDue`` and ``discounts``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from checkout.models import CheckoutCommit, CheckoutQuote
from loyalty.events import member_ref
from marketplace.events import node_id, shop_event_record
from marketplace.models import EventType


def commit_event_record(commit: CheckoutCommit, quote: CheckoutQuote, *, at: dt.datetime) -> None:
    """Record ``checkout.committed`` for ``commit`` of ``quote`` (caller's transaction)."""
    member = member_ref(commit.account)[1] if commit.account is not None else None
    result: dict[str, Any] = quote.result
    shop_event_record(
        shop_id=commit.shop_id,
        type=EventType.CHECKOUT_COMMITTED,
        occurred_at=at,
        data={
            "commitId": node_id("CheckoutCommit", commit.pk),
            "quoteId": node_id("CheckoutQuote", quote.pk),
            "orderExternalId": commit.order_external_id,
            "member": member,
            "currency": quote.currency,
            "subtotal": result["subtotal"],
            "discountTotal": result["discountTotal"],
            "pointsSpent": result["pointsSpent"],
            "pointsAmount": result["pointsAmount"],
            "totalDue": result["totalDue"],
            "discounts": [
                {
                    "source": d["source"],
                    "promotionId": node_id("Promotion", d["promotionId"]) if d["promotionId"] else None,
                    "couponCode": d["couponCode"],
                    "amount": d["amount"],
                }
                for d in result["discounts"]
            ],
        },
    )
