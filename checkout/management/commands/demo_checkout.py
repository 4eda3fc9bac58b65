"""``manage.py demo_checkout``: demo promotions and coupons in every demo shop (idempotent).

Runs after ``patron_demo`` (the demo shops and owner); ``scripts/run`` and the end-to-end server
call it. Each shop gets:

* "Black Friday": the cheapest of 2 items free for Gold members, by coupon: a public multi-use
  ``BLACKFRIDAY`` and a batch of 20 single-use ``BF-`` codes (docs/checkout.md's example);
* "Welcome 10%": 10 % off by coupon, with single-use codes ``DEMO-ONCE-1`` ... ``DEMO-ONCE-5``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from checkout.models import Coupon, CouponBatch, Promotion, PromotionKind
from checkout.services import BatchInput, CouponInput, PromotionInput, coupon_batch_generate, coupon_create
from checkout.services.promotions import promotion_create
from loyalty.models import Tier
from marketplace.models import Shop


class Command(BaseCommand):
    """Create the demo promotions, coupons and coupon batch where missing."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Create what is missing, through the services (as the demo owner)."""
        owner = get_user_model().objects.filter(username="owner").first()
        shops = list(Shop.objects.filter(is_demo=True).order_by("pk"))
        if owner is None or not shops:
            raise CommandError("the demo shops are missing: run patron_demo first")
        for shop in shops:
            gold = Tier.objects.filter(program__shop=shop, name="Gold").values_list("pk", flat=True).first()
            black_friday = self._promotion(
                owner,
                shop,
                PromotionInput(
                    name="Black Friday",
                    kind=PromotionKind.CHEAPEST_FREE,
                    description="Buy 2, get the cheapest free: Gold members, with a coupon.",
                    buy_quantity=2,
                    tier_ids=[gold] if gold else [],
                    requires_coupon=True,
                    priority=100,
                ),
            )
            welcome = self._promotion(
                owner,
                shop,
                PromotionInput(
                    name="Welcome 10%", kind=PromotionKind.PERCENTAGE, value=Decimal("10"), requires_coupon=True
                ),
            )
            self._coupon(owner, shop, black_friday, "BLACKFRIDAY", None)
            for number in range(1, 6):
                self._coupon(owner, shop, welcome, f"DEMO-ONCE-{number}", 1)
            if not CouponBatch.objects.filter(promotion=black_friday).exists():
                coupon_batch_generate(
                    user=owner,
                    data=BatchInput(
                        settings=CouponInput(promotion_id=black_friday.pk, channel="email"),
                        name="Black Friday mailing",
                        count=20,
                        prefix="BF-",
                        length=8,
                    ),
                )
            self.stdout.write(f"demo checkout {shop.slug}: coupons BLACKFRIDAY, DEMO-ONCE-1..5 and a BF- batch")

    @staticmethod
    def _promotion(owner: Any, shop: Shop, data: PromotionInput) -> Promotion:
        existing = Promotion.objects.filter(shop=shop, name=data.name).first()
        return existing or promotion_create(user=owner, shop_id=shop.pk, data=data)

    @staticmethod
    def _coupon(owner: Any, shop: Shop, promotion: Promotion, code: str, max_uses: int | None) -> None:
        if not Coupon.objects.filter(shop=shop, code=code).exists():
            coupon_create(user=owner, data=CouponInput(promotion_id=promotion.pk, code=code, max_uses=max_uses))
