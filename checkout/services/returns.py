"""Giving back what a checkout took when its order is returned, refunded or cancelled.

The policy (docs/checkout.md, "Returns and refunds"):

* **Points**: after each return event, the points given back so far are
  ``floor(points spent x returned goods / goods)``, the goods counted at the order's line prices;
  a refund or cancellation of the order, or the return of every unit, gives back all of them.
  Each give-back is a REFUND ledger entry (``checkout:<commit>:refund:<total so far>``) whose points
  come back as a new lot that expires when the latest-expiring lot they were spent from expires
  (never, if one of them never expires): a return never lengthens the life of points.
* **Coupons and promotion uses** are freed when the whole order is given back (refunded,
  cancelled or every unit returned): the uses are marked released, no longer count towards limits,
  and the coupons' ``uses`` go down, so a single-use coupon can be used again. A partial return
  keeps them: the member kept part of what the coupon bought.

Runs in the order worker's transaction through ``loyalty.signals.order_points_posted``, with the
account already locked; then locks the promotions' coupons in key order (the commit's order).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.db.models import F, Max, Q

from checkout.models import CheckoutCommit, Coupon, PromotionUse
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsLot, PointsLotConsumption, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, points_grant
from marketplace.models import Order, OrderStatus

#: Statuses that give back the whole order.
WHOLE = frozenset({OrderStatus.REFUNDED, OrderStatus.CANCELLED, OrderStatus.RETURNED})
GIVE_BACK = WHOLE | {OrderStatus.PARTIALLY_RETURNED}


def returned_share(order: Order, status: str) -> Fraction:
    """The part of ``order``'s goods given back after an event of ``status``: 1 for a whole give-back,
    else returned units x unit price over the goods (0 for an order of no value)."""
    if status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        return Fraction(1)
    lines = list(order.lines.all())
    goods = sum((Fraction(line.unit_price) * line.quantity for line in lines), Fraction(0))
    if goods == 0:
        return Fraction(1) if status == OrderStatus.RETURNED else Fraction(0)
    returned = sum((Fraction(line.unit_price) * line.returned_quantity for line in lines), Fraction(0))
    return min(returned / goods, Fraction(1))


def _lot_expiry(commit: CheckoutCommit) -> dt.datetime | None:
    """The latest expiry among the lots the commit's points came from (``None`` if one never expires)."""
    lots = PointsLot.objects.filter(
        pk__in=PointsLotConsumption.objects.filter(entry_id=commit.points_entry_id).values("lot_id")
    )
    if lots.filter(expires_at__isnull=True).exists():
        return None
    return lots.aggregate(latest=Max("expires_at"))["latest"]


def checkout_give_back(*, commit: CheckoutCommit, account: MemberAccount, share: Fraction, at: dt.datetime) -> int:
    """Give back the commit's points up to ``share`` of them and, when ``share`` is 1, free its uses.

    ``account`` is the order's member account, locked by the caller (the commit's, or any for a
    guest's commit, which has no points to give back). Idempotent: a repeated or older
    event gives back nothing more. Returns the points given back by this call.
    """
    given = 0
    target = commit.points_spent if share >= 1 else int(Fraction(commit.points_spent) * share)
    if target > commit.points_returned and commit.points_entry_id is not None:
        given = target - commit.points_returned
        points_grant(
            account=account,
            points=given,
            expires_at=_lot_expiry(commit),
            movement=Movement(
                kind=EntryKind.REFUND,
                reason=f"Points paid at checkout given back ({commit.order_external_id or 'order'} returned)",
                reason_code=Reason.CHECKOUT_GIVEN_BACK,
                reason_params={"order": commit.order_external_id or "order"},
                source_type=SourceType.CHECKOUT,
                source_id=str(commit.pk),
                idempotency_key=f"checkout:{commit.pk}:refund:{target}",
                at=at,
            ),
        )
        CheckoutCommit.objects.filter(pk=commit.pk).update(points_returned=target)
        commit.points_returned = target
    if share >= 1 and commit.released_at is None:
        uses = PromotionUse.objects.filter(commit=commit, released_at__isnull=True)
        coupon_ids = sorted(uses.exclude(coupon=None).values_list("coupon_id", flat=True))
        list(Coupon.objects.select_for_update().filter(pk__in=coupon_ids).order_by("pk").values_list("pk", flat=True))
        Coupon.objects.filter(pk__in=coupon_ids).update(uses=F("uses") - 1)
        uses.update(released_at=at)
        CheckoutCommit.objects.filter(pk=commit.pk).update(released_at=at)
        commit.released_at = at
    return given


def on_order_points_posted(
    sender: Any, *, order: Order, account: MemberAccount, event_status: str, at: dt.datetime, **kwargs: Any
) -> None:
    """Receiver of ``loyalty.signals.order_points_posted``: give back what a checkout of ``order`` took.

    Only return statuses look anything up (one indexed query); commits of the order by this member
    (the account the worker locked) or by a guest are given back per :func:`returned_share`; a
    guest's commit spent no points, so only its coupon and promotion uses are freed.
    """
    if event_status not in GIVE_BACK:
        return
    commits = CheckoutCommit.objects.filter(
        Q(account=account) | Q(account__isnull=True), shop_id=order.shop_id, order_external_id=order.external_id
    ).exclude(order_external_id="")
    for commit in commits.order_by("pk"):
        checkout_give_back(commit=commit, account=account, share=returned_share(order, event_status), at=at)


def on_order_replay_check(sender: Any, *, program: LoyaltyProgram, **kwargs: Any) -> str | None:
    """Receiver of ``loyalty.signals.order_replay_check``: a shop with checkout commits replays event by
    event, so that returns of committed orders reach :func:`on_order_points_posted`."""
    if CheckoutCommit.objects.filter(shop_id=program.shop_id).exclude(order_external_id="").exists():
        return "the shop has checkout commits"
    return None
