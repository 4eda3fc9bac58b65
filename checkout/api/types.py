"""GraphQL types of checkout: promotions, coupons and batches, quotes and commits.

``ShopCheckoutPart`` adds ``promotions``, ``coupons`` and ``couponBatches`` to ``Shop``
(``config.nodes``), for holders of ``promotions:write`` (owner, manager). A quote's priced lines are
plain types built from the stored result (``checkout.pricing.Priced.as_json``).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

from api_core.errors import PayloadError
from api_core.ids import decode_global_id
from api_core.permissions import requires
from checkout import errors as domain
from checkout import models
from checkout.selectors import batch_coupons, batches_of_shop, coupons_of_shop, promotion_stats, promotions_of_shop
from checkout.services import coupon_qr_svg, coupons_csv, quote_token
from marketplace import models as mp
from marketplace.permissions import Capability

CheckoutErrorCode = domain.CheckoutErrorCode
strawberry.enum(CheckoutErrorCode, name="CheckoutErrorCode", description="Why a checkout operation was refused.")
NotAppliedReason = domain.NotAppliedReason
strawberry.enum(
    NotAppliedReason,
    name="NotAppliedReason",
    description="Why a coupon, a promotion or the points did not apply to a quote (docs/checkout.md).",
)
PromotionKind = models.PromotionKind
strawberry.enum(PromotionKind, name="PromotionKind", description="What a promotion gives (docs/checkout.md).")
PromotionStacking = models.Stacking
strawberry.enum(PromotionStacking, name="PromotionStacking", description="Whether a promotion combines with others.")


@strawberry.enum(description="Where a discount (or the points paying part of a basket) came from.")
class DiscountSource(enum.Enum):
    """The source of a discount line."""

    TIER = "TIER"
    PROMOTION = "PROMOTION"
    COUPON = "COUPON"
    POINTS = "POINTS"


@strawberry.type(description="A refused checkout operation; nothing was changed.")
class CheckoutError(PayloadError):
    """One reason a checkout, promotion or coupon operation was refused."""

    codes = domain.CheckoutErrorCode
    code: CheckoutErrorCode = strawberry.field(description="Stable machine-readable code.")


def _gid(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(relay.to_base64(type_name, pk))


@strawberry.type(description="How much a promotion was used (uses of orders given back in full do not count).")
class PromotionStats:
    """Uses and money of one promotion."""

    uses: int = strawberry.field(description="Commits that applied it.")
    discount_given: Decimal = strawberry.field(description="Discount it gave, shop currency.")
    revenue: Decimal = strawberry.field(description="Price after discounts of the baskets that used it, shop currency.")


@strawberry_django.type(
    models.Promotion, description="A shop's campaign: kind, conditions, priority, stacking, limits."
)
class Promotion(relay.Node):
    """A promotion as the owner set it."""

    name: str = strawberry_django.field(description="Name shown on the till and receipts.")
    description: str = strawberry_django.field(description="Description for staff.")
    kind: PromotionKind = strawberry_django.field(description="What it gives.")
    value: Decimal = strawberry_django.field(
        description="Percent (PERCENTAGE, BUY_X_GET_Y) or money in the shop's currency (FIXED_AMOUNT, BASKET_DISCOUNT)."
    )
    buy_quantity: int = strawberry_django.field(description="BUY_X_GET_Y: X; CHEAPEST_FREE: qualifying units needed.")
    get_quantity: int = strawberry_django.field(description="BUY_X_GET_Y: Y; FREE_PRODUCT: free units (0 = 1).")
    product_ids: list[str] = strawberry_django.field(description="Qualifying products (shop's ids); empty = any.")
    category_slugs: list[str] = strawberry_django.field(description="Qualifying categories; empty = any.")
    brands: list[str] = strawberry_django.field(description="Qualifying brands; empty = any.")
    payment_types: list[str] = strawberry_django.field(description="Payment types it needs; empty = any.")
    minimum_amount: Decimal = strawberry_django.field(description="Qualifying lines' price before discounts needed.")
    starts_at: dt.datetime | None = strawberry_django.field(description="Runs from; null = always.")
    ends_at: dt.datetime | None = strawberry_django.field(description="Runs until (exclusive); null = always.")
    weekdays: list[int] = strawberry_django.field(
        description="ISO weekdays (1 = Monday) in the shop's zone; empty = all."
    )
    hour_from: int | None = strawberry_django.field(description="Shop-local start hour, 0-23; null = all day.")
    hour_to: int | None = strawberry_django.field(description="Shop-local end hour, 1-24, exclusive; null = all day.")
    requires_coupon: bool = strawberry_django.field(description="Applies only through one of its coupons.")
    priority: int = strawberry_django.field(description="Higher applies first; the tier discount runs at 0.")
    stacking: PromotionStacking = strawberry_django.field(description="Whether it combines with others.")
    usage_limit: int | None = strawberry_django.field(description="Uses in total; null = no limit.")
    usage_limit_per_member: int | None = strawberry_django.field(description="Uses per member; null = no limit.")
    active: bool = strawberry_django.field(description="False once archived.")
    created_at: dt.datetime = strawberry_django.field(description="When it was created.")

    @strawberry_django.field(description="FREE_PRODUCT: the shop's id of the free product; null otherwise.")
    def free_product_id(self) -> str | None:
        """The product id, or null when empty."""
        return cast(models.Promotion, self).free_product_id or None

    @strawberry_django.field(description="Global ids of the tiers that may use it; empty = everyone.")
    def tier_ids(self) -> list[strawberry.ID]:
        """Tier ids from the prefetched tiers."""
        return [cast(strawberry.ID, _gid("Tier", tier.pk)) for tier in cast(models.Promotion, self).tiers.all()]

    @strawberry_django.field(description="Global ids of the segments it targets; empty = everyone.")
    def segment_ids(self) -> list[strawberry.ID]:
        """Segment ids from the prefetched segments."""
        segments = cast(models.Promotion, self).segments.all()
        return [cast(strawberry.ID, _gid("Segment", segment.pk)) for segment in segments]

    @strawberry_django.field(description="Uses, discount given and revenue of the orders that used it.")
    def stats(self) -> PromotionStats:
        """From the list's annotations (no query), or one aggregate."""
        uses, discount, revenue = promotion_stats(cast(models.Promotion, self))
        return PromotionStats(uses=uses, discount_given=discount, revenue=revenue)


@strawberry_django.type(models.Coupon, description="A code that unlocks a promotion.")
class Coupon(relay.Node):
    """A coupon with its limits, validity and uses."""

    code: str = strawberry_django.field(description="The code as stored (upper case, no spaces).")
    promotion: Promotion = strawberry_django.field(description="The promotion it unlocks.")
    max_uses: int | None = strawberry_django.field(description="Uses in total; null = unlimited.")
    max_uses_per_member: int | None = strawberry_django.field(description="Uses per member; null = no limit.")
    uses: int = strawberry_django.field(description="Live uses (orders given back in full free theirs).")
    valid_from: dt.datetime | None = strawberry_django.field(description="Valid from; null = always.")
    valid_until: dt.datetime | None = strawberry_django.field(description="Valid until (exclusive); null = always.")
    channel: str = strawberry_django.field(description="Where it is distributed (free text).")
    created_at: dt.datetime = strawberry_django.field(description="When it was created.")

    @strawberry_django.field(description="The customer id of its member when personal; null when public.")
    def customer_id(self) -> str | None:
        """The personal coupon's customer external id."""
        customer = cast(models.Coupon, self).customer
        return customer.external_id if customer else None

    @strawberry_django.field(description="Global id of the batch it was generated in; null when made alone.")
    def batch_id(self) -> strawberry.ID | None:
        """The batch's global id."""
        return _gid("CouponBatch", cast(models.Coupon, self).batch_id)

    @strawberry_django.field(description="True once voided: it no longer applies.")
    def voided(self) -> bool:
        """Whether ``voided_at`` is set."""
        return cast(models.Coupon, self).voided_at is not None

    @strawberry_django.field(description="A QR code of the code as SVG markup (for printing or a phone).")
    def qr_svg(self) -> str:
        """segno's SVG of the code."""
        return coupon_qr_svg(cast(models.Coupon, self).code)


@strawberry_django.type(models.CouponBatch, description="Coupons generated together from one pattern.")
class CouponBatch(relay.Node):
    """A batch of coupons."""

    name: str = strawberry_django.field(description="Name for staff.")
    promotion: Promotion = strawberry_django.field(description="The promotion its coupons unlock.")
    prefix: str = strawberry_django.field(description="Text every code starts with.")
    length: int = strawberry_django.field(description="Random symbols after the prefix.")
    alphabet: str = strawberry_django.field(description="Symbols the random part is drawn from.")
    count: int = strawberry_django.field(description="Coupons generated.")
    channel: str = strawberry_django.field(description="Where the codes go.")
    created_at: dt.datetime = strawberry_django.field(description="When it was generated.")

    @strawberry_django.field(
        description="Its coupons as CSV (code, customer_id, max_uses, max_uses_per_member, uses, valid_from, "
        "valid_until, channel, voided), in code order."
    )
    def csv(self) -> str:
        """The export (one query)."""
        return coupons_csv(batch_coupons(cast(models.CouponBatch, self)))


@strawberry.type(
    description="A discount on a line or, in a quote's totals, per source; POINTS is payment, not a discount."
)
class LineDiscount:
    """One discount."""

    source: DiscountSource = strawberry.field(description="Tier, promotion, coupon or points.")
    promotion_id: strawberry.ID | None = strawberry.field(
        description="Global id of the promotion; null for tier and points."
    )
    coupon_code: str | None = strawberry.field(description="The coupon that applied it, if any.")
    label: str = strawberry.field(description="Text for the receipt.")
    amount: Decimal = strawberry.field(description="Money, shop currency.")


@strawberry.type(description="A basket line as priced.")
class CheckoutQuoteLine:
    """Prices of one line, shop currency."""

    line_no: int = strawberry.field(description="1-based position in the basket.")
    product_id: str | None = strawberry.field(description="The shop's product id, as given.")
    category_slug: str | None = strawberry.field(description="Category, as given.")
    brand: str | None = strawberry.field(description="Brand, as given.")
    quantity: int = strawberry.field(description="Units.")
    unit_price: Decimal = strawberry.field(description="Price of one unit before discounts.")
    price_before: Decimal = strawberry.field(description="quantity x unit price.")
    discounts: list[LineDiscount] = strawberry.field(description="Discounts on this line, in the order applied.")
    discount_total: Decimal = strawberry.field(description="Their sum.")
    price_after: Decimal = strawberry.field(description="After discounts, before points; never negative.")
    points_amount: Decimal = strawberry.field(description="The part of it paid with points.")
    amount_due: Decimal = strawberry.field(description="Paid in money: price after minus points amount.")


@strawberry.type(description="A coupon, promotion or the points that did not apply, and why.")
class NotApplied:
    """One thing that did not apply to a quote."""

    source: DiscountSource = strawberry.field(description="What did not apply.")
    promotion_id: strawberry.ID | None = strawberry.field(description="Global id of the promotion, when known.")
    coupon_code: str | None = strawberry.field(description="The coupon code, when it was a coupon.")
    reason: NotAppliedReason = strawberry.field(description="Why.")
    message: str = strawberry.field(description="The reason in words (English).")


def _discount(row: dict[str, Any]) -> LineDiscount:
    return LineDiscount(
        source=DiscountSource(row["source"]),
        promotion_id=_gid("Promotion", row["promotionId"]),
        coupon_code=row["couponCode"],
        label=row["label"],
        amount=Decimal(row["amount"]),
    )


@strawberry_django.type(
    models.CheckoutQuote, description="A priced basket, committable for a few minutes with its token."
)
class CheckoutQuote(relay.Node):
    """A quote (docs/checkout.md); money in ``currency``."""

    currency: str = strawberry_django.field(description="The shop's ISO 4217 currency.")
    expires_at: dt.datetime = strawberry_django.field(description="Commit before this.")

    @strawberry_django.field(description="The token checkoutCommit takes (signed by the server).")
    def token(self) -> str:
        """The signed token."""
        return quote_token(cast(models.CheckoutQuote, self))

    @strawberry_django.field(description="The customer id it was priced for; null for a guest.")
    def customer_id(self) -> str | None:
        """From the stored input."""
        return cast(models.CheckoutQuote, self).input["customerId"]

    @strawberry_django.field(description="The lines as priced.")
    def lines(self) -> list[CheckoutQuoteLine]:
        """From the stored result."""
        return [
            CheckoutQuoteLine(
                line_no=row["lineNo"],
                product_id=row["productId"],
                category_slug=row["categorySlug"],
                brand=row.get("brand"),
                quantity=row["quantity"],
                unit_price=Decimal(row["unitPrice"]),
                price_before=Decimal(row["priceBefore"]),
                discounts=[_discount(d) for d in row["discounts"]],
                discount_total=Decimal(row["discountTotal"]),
                price_after=Decimal(row["priceAfter"]),
                points_amount=Decimal(row["pointsAmount"]),
                amount_due=Decimal(row["amountDue"]),
            )
            for row in cast(models.CheckoutQuote, self).result["lines"]
        ]

    @strawberry_django.field(description="Discounts summed per source in the order applied, then the points.")
    def discounts(self) -> list[LineDiscount]:
        """From the stored result."""
        return [_discount(d) for d in cast(models.CheckoutQuote, self).result["discounts"]]

    @strawberry_django.field(description="What did not apply, with reasons.")
    def not_applied(self) -> list[NotApplied]:
        """From the stored result."""
        return [
            NotApplied(
                source=DiscountSource(row["source"]),
                promotion_id=_gid("Promotion", row["promotionId"]),
                coupon_code=row["couponCode"],
                reason=NotAppliedReason(row["reason"]),
                message=row["message"],
            )
            for row in cast(models.CheckoutQuote, self).result["notApplied"]
        ]

    @strawberry_django.field(description="Σ price before discounts.")
    def subtotal(self) -> Decimal:
        """From the stored result."""
        return Decimal(cast(models.CheckoutQuote, self).result["subtotal"])

    @strawberry_django.field(description="Σ discounts (points excluded).")
    def discount_total(self) -> Decimal:
        """From the stored result."""
        return Decimal(cast(models.CheckoutQuote, self).result["discountTotal"])

    @strawberry_django.field(description="Points spent as payment (integer).")
    def points_spent(self) -> int:
        """From the stored result."""
        return int(cast(models.CheckoutQuote, self).result["pointsSpent"])

    @strawberry_django.field(description="The money those points pay, shop currency.")
    def points_amount(self) -> Decimal:
        """From the stored result."""
        return Decimal(cast(models.CheckoutQuote, self).result["pointsAmount"])

    @strawberry_django.field(description="What is paid in money: subtotal - discounts - points amount.")
    def total_due(self) -> Decimal:
        """From the stored result."""
        return Decimal(cast(models.CheckoutQuote, self).result["totalDue"])

    @strawberry_django.field(
        description="Points the order will earn on the money paid, as the worker will post them (the same rule)."
    )
    def points_earned(self) -> int:
        """From the stored result."""
        return int(cast(models.CheckoutQuote, self).result["pointsEarned"])


@strawberry_django.type(models.CheckoutCommit, description="A committed quote: uses recorded and points spent, once.")
class CheckoutCommit(relay.Node):
    """A commit and what its order's returns gave back."""

    points_spent: int = strawberry_django.field(description="Points spent.")
    points_amount: Decimal = strawberry_django.field(description="Money they paid, shop currency.")
    discount_total: Decimal = strawberry_django.field(description="Discounts given, shop currency.")
    total_due: Decimal = strawberry_django.field(description="Paid in money, shop currency.")
    points_returned: int = strawberry_django.field(description="Points given back by returns of the order so far.")
    committed_at: dt.datetime = strawberry_django.field(description="When.")
    quote: CheckoutQuote = strawberry_django.field(description="The quote committed.")

    @strawberry_django.field(description="The shop's order id given at commit (empty if none).")
    def order_id(self) -> str:
        """``order_external_id``."""
        return cast(models.CheckoutCommit, self).order_external_id


_STAFF_ONLY = "Only the shop's owner or manager can see its promotions and coupons."


@strawberry_django.type(mp.Shop, name="ShopCheckoutPart", description="Checkout part of Shop (not in the schema).")
class ShopCheckoutPart(relay.Node):
    """Promotions, coupons and coupon batches of a shop (capability promotions:write)."""

    @strawberry_django.field(
        description="The shop's promotions, highest priority first, with usage figures (capability promotions:write).",
        extensions=[requires(Capability.MANAGE_PROMOTIONS, message=_STAFF_ONLY)],
    )
    def promotions(
        self,
        include_archived: Annotated[bool, strawberry.argument(description="Archived ones too.")] = False,
    ) -> list[Promotion]:
        """Call ``promotions_of_shop``."""
        shop = cast(mp.Shop, self)
        return cast(list[Promotion], list(promotions_of_shop(shop_id=shop.pk, include_archived=include_archived)))

    @strawberry_django.connection(
        DjangoListConnection[Coupon],
        description="The shop's coupons, newest first (capability promotions:write).",
        extensions=[requires(Capability.MANAGE_PROMOTIONS, message=_STAFF_ONLY)],
    )
    def coupons(
        self,
        promotion_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this promotion's.")] = None,
        batch_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this batch's.")] = None,
        code: Annotated[str | None, strawberry.argument(description="Only codes containing this.")] = None,
    ) -> list[models.Coupon]:
        """Call ``coupons_of_shop`` (an id of another type matches nothing)."""
        shop = cast(mp.Shop, self)
        return coupons_of_shop(  # type: ignore[return-value]
            shop_id=shop.pk,
            promotion_id=(decode_global_id(promotion_id, "Promotion") or 0) if promotion_id else None,
            batch_id=(decode_global_id(batch_id, "CouponBatch") or 0) if batch_id else None,
            code=code,
        )

    @strawberry_django.field(
        description="The shop's coupon batches, newest first (capability promotions:write).",
        extensions=[requires(Capability.MANAGE_PROMOTIONS, message=_STAFF_ONLY)],
    )
    def coupon_batches(
        self,
        promotion_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this promotion's.")] = None,
    ) -> list[CouponBatch]:
        """Call ``batches_of_shop``."""
        shop = cast(mp.Shop, self)
        promotion = (decode_global_id(promotion_id, "Promotion") or 0) if promotion_id else None
        return cast(list[CouponBatch], list(batches_of_shop(shop_id=shop.pk, promotion_id=promotion)))
