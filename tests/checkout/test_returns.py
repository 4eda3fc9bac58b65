"""A points-paid checkout whose order is returned in part, then refunded: points and coupon uses come back."""

from __future__ import annotations

import datetime as dt

import pytest

from checkout.models import CheckoutCommit, Coupon, PromotionUse
from loyalty.models import MemberAccount, PointsEntry, PointsLot
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from tests.factories import order_input

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _event(shop, customer, status, key, **fields):
    fields.setdefault("lines", "items" in fields)  # lines only with the order's first event
    result = order_event_record(
        data=order_input(shop, "POS-9", status, customer=customer, **fields), idempotency_key=key, actor=None
    )
    order_event_process(event_id=result.event.pk, broadcast=False)


def test_a_checkout_paid_partly_with_points_returned_then_refunded(cashier, shop, gold_member, single_use):
    # given a quote: 2 boots of 20.00 and a scarf of 25.00, Black Friday coupon, 300 points
    quote = cashier.quote(
        (2, "20.00", "boots"), (1, "25.00", "scarf"), customer=gold_member, coupons=["BF-ONCE"], points=300
    )["quote"]
    # one boot free (the cheapest unit), then Gold 10%: 18.00 + 22.50; 3.00 of points spread 1.33 / 1.67
    assert [line["priceAfter"] for line in quote["lines"]] == ["18.00", "22.50"]
    assert [line["amountDue"] for line in quote["lines"]] == ["16.67", "20.83"]
    assert (quote["pointsSpent"], quote["pointsAmount"], quote["totalDue"]) == (300, "3.00", "37.50")
    commit = cashier.commit(quote["token"], "sale-9", order_id="POS-9")["commit"]
    assert commit["pointsSpent"] == 300
    spent_lots = list(PointsLot.objects.filter(account__customer=gold_member).values_list("expires_at", flat=True))
    # when the shop records the order as the guide says (lines after discounts, points paid) and delivers it
    _event(shop, gold_member, "delivered", "d", items=((2, "9.00"), (1, "22.50")), points_paid="3.00", at=AT)
    # then the order earns what the quote said
    earn = PointsEntry.objects.get(kind="earn", order__external_id="POS-9")
    assert earn.points == quote["pointsEarned"] == 46  # 37.50 x 1.25 (Gold), rounded down
    # when one boot (9.00 of 40.50) comes back
    _event(shop, gold_member, "partially_returned", "r1", returned=((1, 1),), at=AT + dt.timedelta(days=1))
    # then floor(300 x 9.00 / 40.50) = 66 points come back; the coupon stays used
    refunds = PointsEntry.objects.filter(kind="refund", source_type="checkout").order_by("pk")
    assert [entry.points for entry in refunds] == [66]
    assert CheckoutCommit.objects.get().points_returned == 66
    assert Coupon.objects.get(pk=single_use.pk).uses == 1
    # and the given-back lot expires no later than the lots the points were spent from
    back = PointsLot.objects.get(entry=refunds[0])
    assert back.remaining == 66
    assert back.expires_at == max(spent_lots)
    # when the rest is refunded
    _event(shop, gold_member, "refunded", "r2", at=AT + dt.timedelta(days=2))
    # then all 300 points are back, the coupon use is freed (usable again) and stops counting
    assert [entry.points for entry in refunds.all()] == [66, 234]
    assert Coupon.objects.get(pk=single_use.pk).uses == 0
    assert PromotionUse.objects.get().released_at is not None
    again = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"])["quote"]
    assert again["discounts"][0]["couponCode"] == "BF-ONCE"
    account = MemberAccount.objects.get(customer=gold_member)
    assert account.points_redeemed == 0  # spent 300, refunded 300
    assert ledger_discrepancies() == []
    # and a repeated refund event changes nothing more
    before = PointsEntry.objects.count()
    from checkout.services.returns import checkout_give_back

    checkout_give_back(commit=CheckoutCommit.objects.get(), account=account, share=1, at=AT)  # type: ignore[arg-type]
    assert PointsEntry.objects.count() == before


def test_a_cancelled_order_gives_everything_back(cashier, shop, gold_member, single_use):
    # given a committed checkout whose order is placed and then cancelled before delivery
    quote = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"], points=120)["quote"]
    cashier.commit(quote["token"], "sale-10", order_id="POS-9")
    available = MemberAccount.objects.get(customer=gold_member).points_available
    _event(shop, gold_member, "placed", "p", items=((1, "36.00"), (1, "0.00")), points_paid="1.20", at=AT)
    _event(shop, gold_member, "cancelled", "c", at=AT + dt.timedelta(hours=1))
    # then the 120 points and the coupon use come back at once
    assert MemberAccount.objects.get(customer=gold_member).points_available == available + 120
    assert Coupon.objects.get(pk=single_use.pk).uses == 0
    assert CheckoutCommit.objects.get().released_at is not None
    assert ledger_discrepancies() == []
