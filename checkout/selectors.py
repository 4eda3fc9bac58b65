"""Reads of the checkout app that matter: a shop's promotions with their usage figures, its coupons and batches."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from checkout.models import Coupon, CouponBatch, Promotion
from marketplace.models import MONEY_DIGITS, MONEY_PLACES

_MONEY = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
_LIVE = Q(uses__released_at__isnull=True)


def promotions_of_shop(*, shop_id: int, include_archived: bool = False) -> QuerySet[Promotion]:
    """The shop's promotions, highest priority first, each annotated with ``stat_uses`` (live uses),
    ``stat_discount`` (discount they gave, shop currency) and ``stat_revenue`` (the baskets' price after
    discounts); one query, tiers prefetched (a second)."""
    promotions = Promotion.objects.filter(shop_id=shop_id)
    if not include_archived:
        promotions = promotions.filter(active=True)
    return (
        promotions.annotate(
            stat_uses=Count("uses", filter=_LIVE),
            stat_discount=Coalesce(Sum("uses__amount", filter=_LIVE), Value(Decimal("0.00")), output_field=_MONEY),
            stat_revenue=Coalesce(Sum("uses__revenue", filter=_LIVE), Value(Decimal("0.00")), output_field=_MONEY),
        )
        .prefetch_related("tiers", "segments")
        .order_by("-priority", "pk")
    )


def promotion_stats(promotion: Promotion) -> tuple[int, Decimal, Decimal]:
    """(uses, discount given, revenue) of ``promotion``: its annotations when loaded by
    :func:`promotions_of_shop`, else one aggregate query. Released uses (orders given back) do not count."""
    annotated = getattr(promotion, "stat_uses", None)
    if annotated is not None:
        return annotated, getattr(promotion, "stat_discount"), getattr(promotion, "stat_revenue")  # noqa: B009
    row = promotion.uses.filter(released_at__isnull=True).aggregate(
        n=Count("id"), discount=Sum("amount"), revenue=Sum("revenue")
    )
    return row["n"], row["discount"] or Decimal("0.00"), row["revenue"] or Decimal("0.00")


def coupons_of_shop(
    *, shop_id: int, promotion_id: int | None = None, batch_id: int | None = None, code: str | None = None
) -> QuerySet[Coupon]:
    """The shop's coupons, newest first, optionally of one promotion or batch, or whose code contains ``code``."""
    coupons = Coupon.objects.filter(shop_id=shop_id).select_related("customer")
    if promotion_id is not None:
        coupons = coupons.filter(promotion_id=promotion_id)
    if batch_id is not None:
        coupons = coupons.filter(batch_id=batch_id)
    if code:
        coupons = coupons.filter(code__icontains=code.strip())
    return coupons.order_by("-created_at", "-pk")


def batches_of_shop(*, shop_id: int, promotion_id: int | None = None) -> QuerySet[CouponBatch]:
    """The shop's coupon batches, newest first, optionally of one promotion."""
    batches = CouponBatch.objects.filter(shop_id=shop_id)
    if promotion_id is not None:
        batches = batches.filter(promotion_id=promotion_id)
    return batches.order_by("-created_at", "-pk")


def batch_coupons(batch: CouponBatch) -> QuerySet[Coupon]:
    """A batch's coupons in code order, with their customers (for the CSV export)."""
    return batch.coupons.select_related("customer").order_by("code")
