"""Creating and changing a shop's promotions (owner and manager: capability ``promotions:write``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.db.models import QuerySet

from checkout.errors import CheckoutError, CheckoutErrorCode
from checkout.models import Promotion, PromotionKind, Stacking
from crm.models import Segment
from loyalty.models import Tier
from marketplace.models import Shop
from marketplace.money import decimal_places
from marketplace.permissions import Capability, has_capability

MAX_LIST = 200
M = TypeVar("M", bound=models.Model)
MAX_PRIORITY = 1000


def require(user: AbstractBaseUser | AnonymousUser | None, shop_id: int, capability: Capability) -> None:
    """Raise NOT_AUTHENTICATED for an anonymous caller, PERMISSION_DENIED without ``capability`` in the shop."""
    if user is None or not user.is_authenticated:
        raise CheckoutError(CheckoutErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=capability):
        raise CheckoutError(CheckoutErrorCode.PERMISSION_DENIED, "You may not do this in this shop.")


def managed(user: AbstractBaseUser | AnonymousUser | None, rows: QuerySet[M], pk: int, field_name: str) -> M:
    """Row ``pk`` of ``rows`` (promotions, coupons) if ``user`` holds ``promotions:write`` in its shop.

    NOT_AUTHENTICATED for an anonymous caller; NOT_FOUND for an unknown id and for a caller without
    the capability there, so that ids of other shops are not confirmed.
    """
    if user is None or not user.is_authenticated:
        raise CheckoutError(CheckoutErrorCode.NOT_AUTHENTICATED, "Log in first.")
    row = rows.filter(pk=pk).first()
    shop_id = getattr(row, "shop_id", None)
    if (
        row is None
        or shop_id is None
        or not has_capability(user=user, shop_id=shop_id, capability=Capability.MANAGE_PROMOTIONS)
    ):
        raise CheckoutError(CheckoutErrorCode.NOT_FOUND, "Not found in a shop you manage.", field_name)
    return row


@dataclass(frozen=True, kw_only=True)
class PromotionInput:
    """A promotion's settings as the owner sets them (the model's fields; ``tier_ids`` are Tier pks)."""

    name: str
    kind: str
    description: str = ""
    value: Decimal = Decimal("0")
    buy_quantity: int = 0
    get_quantity: int = 0
    free_product_id: str = ""
    product_ids: list[str] = field(default_factory=list)
    category_slugs: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    tier_ids: list[int] = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)
    payment_types: list[str] = field(default_factory=list)
    minimum_amount: Decimal = Decimal("0")
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    weekdays: list[int] = field(default_factory=list)
    hour_from: int | None = None
    hour_to: int | None = None
    requires_coupon: bool = False
    priority: int = 10
    stacking: str = Stacking.STACKABLE
    usage_limit: int | None = None
    usage_limit_per_member: int | None = None
    active: bool = True


def _invalid(message: str, field_name: str) -> CheckoutError:
    return CheckoutError(CheckoutErrorCode.INVALID_INPUT, message, field_name)


def _money_ok(value: Decimal) -> bool:
    return value.is_finite() and value >= 0 and decimal_places(value) <= 2 and value < Decimal("1e12")


def _validate(data: PromotionInput, shop: Shop) -> None:
    """Raise INVALID_INPUT (with the camelCase field) for the first setting that is out of range."""
    if not 1 <= len(data.name.strip()) <= 200:
        raise _invalid("A name of 1 to 200 characters is required.", "name")
    if len(data.description) > 2000:
        raise _invalid("The description is at most 2,000 characters.", "description")
    if data.kind not in PromotionKind.values:
        raise _invalid(f"Unknown kind {data.kind!r}.", "kind")
    if not _money_ok(data.value):
        raise _invalid("The value must be zero or more with at most 2 decimals.", "value")
    percent_kinds = (PromotionKind.PERCENTAGE, PromotionKind.BUY_X_GET_Y)
    if data.kind in percent_kinds and not Decimal(0) < data.value <= Decimal(100):
        raise _invalid("A percentage is above 0 and at most 100.", "value")
    if data.kind in (PromotionKind.FIXED_AMOUNT, PromotionKind.BASKET_DISCOUNT) and data.value <= 0:
        raise _invalid("A fixed amount must be positive (shop currency).", "value")
    if data.kind == PromotionKind.BUY_X_GET_Y and not (1 <= data.buy_quantity <= 100 and 1 <= data.get_quantity <= 100):
        raise _invalid("Buy X get Y needs X and Y of 1 to 100.", "buyQuantity")
    if data.kind == PromotionKind.CHEAPEST_FREE and not 2 <= data.buy_quantity <= 100:
        raise _invalid("Cheapest item free needs 2 to 100 qualifying units (buyQuantity).", "buyQuantity")
    if data.kind == PromotionKind.FREE_PRODUCT:
        if not data.free_product_id.strip() or len(data.free_product_id) > 100:
            raise _invalid("A free-product promotion names the product (the shop's id).", "freeProductId")
        if not 0 <= data.get_quantity <= 100:
            raise _invalid("Free units are 1 to 100 (0 means 1).", "getQuantity")
    for name, values in (
        ("productIds", data.product_ids),
        ("categorySlugs", data.category_slugs),
        ("brands", data.brands),
    ):
        if len(values) > MAX_LIST or any(not value.strip() or len(value) > 120 for value in values):
            raise _invalid(f"Up to {MAX_LIST} non-empty ids of at most 120 characters.", name)
    if len(data.payment_types) > 20 or any(not p.strip() or len(p) > 40 for p in data.payment_types):
        raise _invalid("Up to 20 payment types of 1 to 40 characters.", "paymentTypes")
    if not _money_ok(data.minimum_amount):
        raise _invalid("The minimum amount must be zero or more with at most 2 decimals.", "minimumAmount")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise _invalid("endsAt must be after startsAt.", "endsAt")
    if any(day not in range(1, 8) for day in data.weekdays):
        raise _invalid("Weekdays are 1 (Monday) to 7 (Sunday).", "weekdays")
    if (data.hour_from is None) != (data.hour_to is None):
        raise _invalid("Give both hours or neither.", "hourTo")
    if (
        data.hour_from is not None
        and data.hour_to is not None
        and (not (0 <= data.hour_from <= 23 and 1 <= data.hour_to <= 24) or data.hour_from == data.hour_to)
    ):
        raise _invalid("Hours are from 0-23 to 1-24, not equal (a window may cross midnight).", "hourFrom")
    if not -MAX_PRIORITY <= data.priority <= MAX_PRIORITY:
        raise _invalid(f"Priority is {-MAX_PRIORITY} to {MAX_PRIORITY}.", "priority")
    if data.stacking not in Stacking.values:
        raise _invalid(f"Unknown stacking {data.stacking!r}.", "stacking")
    for name, limit in (("usageLimit", data.usage_limit), ("usageLimitPerMember", data.usage_limit_per_member)):
        if limit is not None and not 1 <= limit <= 1_000_000_000:
            raise _invalid("A usage limit is 1 or more (leave it empty for none).", name)
    if data.tier_ids:
        known = set(Tier.objects.filter(program__shop=shop, pk__in=data.tier_ids).values_list("pk", flat=True))
        if known != set(data.tier_ids):
            raise _invalid("A tier is not one of this shop's tiers.", "tierIds")
    if data.segment_ids:
        found = set(Segment.objects.filter(shop=shop, pk__in=data.segment_ids).values_list("pk", flat=True))
        if found != set(data.segment_ids):
            raise _invalid("A segment is not one of this shop's.", "segmentIds")


def _save(promotion: Promotion, data: PromotionInput) -> Promotion:
    """Copy ``data`` onto ``promotion``, save it and its tiers (in the caller's transaction)."""
    values = asdict(data)
    tier_ids = values.pop("tier_ids")
    segment_ids = values.pop("segment_ids")
    values["name"] = values["name"].strip()
    values["product_ids"] = sorted(set(values["product_ids"]))
    values["category_slugs"] = sorted(set(values["category_slugs"]))
    values["brands"] = sorted(set(values["brands"]))
    values["payment_types"] = sorted(set(values["payment_types"]))
    values["weekdays"] = sorted(set(values["weekdays"]))
    for name, value in values.items():
        setattr(promotion, name, value)
    promotion.save()
    promotion.tiers.set(tier_ids)
    promotion.segments.set(segment_ids)
    return promotion


def promotion_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: PromotionInput) -> Promotion:
    """Add a promotion to shop ``shop_id``. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT."""
    require(user, shop_id, Capability.MANAGE_PROMOTIONS)
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise CheckoutError(CheckoutErrorCode.NOT_FOUND, "No such shop.", "shopId")
    _validate(data, shop)
    with transaction.atomic():
        return _save(Promotion(shop=shop, created_by_id=user.pk), data)


def promotion_update(*, user: AbstractBaseUser | AnonymousUser, promotion_id: int, data: PromotionInput) -> Promotion:
    """Replace promotion ``promotion_id``'s settings (``active=False`` archives it; uses stay).

    Codes as :func:`promotion_create`, but NOT_FOUND (never PERMISSION_DENIED) for an unknown
    promotion and for one the caller may not manage (:func:`managed`).
    """
    promotion = managed(user, Promotion.objects.select_related("shop"), promotion_id, "promotionId")
    _validate(data, promotion.shop)
    with transaction.atomic():
        return _save(promotion, data)


def on_segment_delete_check(sender: Any, *, segment: Segment, **kwargs: Any) -> str | None:
    """Receiver of ``crm.signals.segment_delete_check``: name the promotions that target ``segment``
    (deleting it would open them to every member), or ``None``."""
    names = sorted(Promotion.objects.filter(segments=segment).values_list("name", flat=True))
    return f"promotions {', '.join(names)}" if names else None
