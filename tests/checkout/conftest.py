"""Fixtures for checkout: a shop whose points are available at once, a Gold member, promotions and coupons."""

from __future__ import annotations

from decimal import Decimal

import pytest

from checkout.models import Coupon, Promotion, PromotionKind
from loyalty.models import LoyaltyProgram, MemberAccount, Tier
from marketplace.models import StaffRole
from tests.api.graphql import gid, gql, login
from tests.factories import staff
from tests.rewards.conftest import member_with_points, points_shop

QUOTE = """
mutation Quote($input: CheckoutQuoteInput!) {
  checkoutQuote(input: $input) {
    quote {
      id token currency subtotal discountTotal pointsSpent pointsAmount totalDue pointsEarned customerId
      lines { lineNo priceBefore discountTotal priceAfter pointsAmount amountDue
              discounts { source promotionId couponCode label amount } }
      discounts { source promotionId couponCode label amount }
      notApplied { source couponCode reason message }
    }
    errors { code field message }
  }
}
"""

COMMIT = """
mutation Commit($input: CheckoutCommitInput!) {
  checkoutCommit(input: $input) {
    commit { id orderId pointsSpent pointsAmount discountTotal totalDue pointsReturned
             quote { id totalDue } }
    replayed
    errors { code field message }
  }
}
"""


class Till:
    """A logged-in till of ``shop`` (cashier by default) that quotes and commits through /graphql/."""

    def __init__(self, shop, user) -> None:
        self.shop = shop
        self.client = login(user)

    def quote(self, *lines, customer=None, coupons=(), points=0, payment="") -> dict:
        """``lines`` of (quantity, unit price[, product id[, category slug]]); returns the payload."""
        body = gql(
            self.client,
            QUOTE,
            {
                "input": {
                    "shopId": gid("Shop", self.shop.pk),
                    "customerId": customer.external_id if customer else None,
                    "lines": [
                        {
                            "quantity": line[0],
                            "unitPrice": line[1],
                            "productId": line[2] if len(line) > 2 else None,
                            "categorySlug": line[3] if len(line) > 3 else None,
                        }
                        for line in lines
                    ],
                    "couponCodes": list(coupons),
                    "pointsToSpend": points,
                    "paymentType": payment,
                }
            },
        )
        assert "errors" not in body, body
        return body["data"]["checkoutQuote"]

    def commit(self, token: str, key: str, order_id: str = "") -> dict:
        """Commit ``token`` under ``key``; returns the payload."""
        body = gql(self.client, COMMIT, {"input": {"quoteToken": token, "idempotencyKey": key, "orderId": order_id}})
        assert "errors" not in body, body
        return body["data"]["checkoutCommit"]


@pytest.fixture
def shop():
    """A USD shop (points available at once, expiring after 12 months) whose Gold tier gives 10 % off."""
    shop = points_shop()
    Tier.objects.filter(program__shop=shop, name="Gold").update(discount_percent=Decimal("10"))
    LoyaltyProgram.objects.filter(shop=shop).update(point_value=Decimal("0.01"))
    return shop


@pytest.fixture
def gold_member(shop):
    """A Gold member (300.00 spent in two orders a day apart: two lots, 100 points and 220 with Silver's x1.1)."""
    customer = member_with_points(shop, amounts=("100.00", "200.00"))
    account = MemberAccount.objects.select_related("tier").get(customer=customer)
    assert (account.tier.name, account.points_available) == ("Gold", 320)
    return customer


@pytest.fixture
def cashier(shop):
    """A cashier's till."""
    return Till(shop, staff(shop, StaffRole.CASHIER))


@pytest.fixture
def black_friday(shop):
    """The docs' Black Friday: cheapest of 2 free for Gold members, coupon required, priority 100."""
    promotion = Promotion.objects.create(
        shop=shop,
        name="Black Friday",
        kind=PromotionKind.CHEAPEST_FREE,
        buy_quantity=2,
        requires_coupon=True,
        priority=100,
    )
    promotion.tiers.set(Tier.objects.filter(program__shop=shop, name="Gold"))
    return promotion


@pytest.fixture
def single_use(shop, black_friday):
    """A single-use Black Friday coupon."""
    return Coupon.objects.create(shop=shop, promotion=black_friday, code="BF-ONCE", max_uses=1)
