"""Gift suggestions from a member's history, tier and points (docs/engagement.md, "Gift suggestions").

The rule, in order, up to :data:`LIMIT` names:

1. **Rewards within reach**: the shop's active rewards the member may redeem now (their tier is at
   least the reward's minimum, its cost at most their available points), most expensive first:
   the best gift their points already buy.
2. **Favourites' neighbours**: the member's top categories by spend (delivered orders of this
   shop, goods kept), and in each the shop's products most bought by other members that this
   member has not bought yet, most buyers first.

Three queries whatever the history's size; shown to staff in the occasions list and offered to
templates as ``gifts``.
"""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum

from loyalty.models import MemberAccount
from marketplace.models import OrderLine, OrderStatus, Product
from rewards.models import Reward, RewardStatus

#: Suggestions at most.
LIMIT = 3
#: Categories of the member's history that count.
TOP_CATEGORIES = 2
_KEPT = (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED)


def gift_suggestions(account: MemberAccount, *, limit: int = LIMIT) -> list[str]:
    """Names of up to ``limit`` gifts for the member (``account`` with its ``tier`` and ``program`` loaded)."""
    tier_position = account.tier.position if account.tier is not None else -1
    rewards = (
        Reward.objects.filter(
            program_id=account.program_id, status=RewardStatus.ACTIVE, points_cost__lte=account.points_available
        )
        .filter(Q(min_tier__isnull=True) | Q(min_tier__position__lte=tier_position))
        .order_by("-points_cost", "pk")
        .values_list("name", flat=True)[:limit]
    )
    names = list(rewards)
    if len(names) >= limit:
        return names
    shop_id = account.program.shop_id
    mine = OrderLine.objects.filter(
        order__shop_id=shop_id, order__customer_id=account.customer_id, order__status__in=_KEPT
    )
    top = list(
        mine.filter(category__isnull=False)
        .values("category_id")
        .annotate(spend=Sum(F("unit_price") * (F("quantity") - F("returned_quantity"))))
        .order_by("-spend", "category_id")
        .values_list("category_id", flat=True)[:TOP_CATEGORIES]
    )
    if not top:
        return names
    products = (
        Product.objects.filter(shop_id=shop_id, category_id__in=top)
        .exclude(pk__in=mine.filter(product__isnull=False).values("product_id"))
        .exclude(name="")
        .annotate(
            buyers=Count("orderline__order__customer", distinct=True, filter=Q(orderline__order__status__in=_KEPT))
        )
        .filter(buyers__gt=0)
        .order_by("-buyers", "pk")
        .values_list("name", flat=True)[: limit - len(names)]
    )
    return names + list(products)
