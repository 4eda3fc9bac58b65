"""Checkout's part of the GraphQL schema: quote and commit, promotions and coupons.

Resolvers are thin: they decode ids, call one service and map :class:`CheckoutError` to the
payload's coded errors (``handle_domain_errors``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from checkout.api.types import (
    CheckoutCommit,
    CheckoutError,
    CheckoutQuote,
    Coupon,
    CouponBatch,
    Promotion,
    PromotionKind,
    PromotionStacking,
)
from checkout.services import (
    BatchInput,
    CouponInput,
    LineInput,
    PromotionInput,
    QuoteInput,
    checkout_commit,
    checkout_quote,
    coupon_batch_generate,
    coupon_create,
    coupon_void,
    promotion_create,
    promotion_update,
)
from checkout.services.coupons import DEFAULT_ALPHABET

ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id.")]
CHECKOUT_CODES = (
    "Codes: NOT_AUTHENTICATED, PERMISSION_DENIED (capability checkout:use: owner, manager, cashier, or an API "
    "key with the checkout:use scope), NOT_FOUND, INVALID_INPUT, RATE_LIMITED (30 unknown coupon codes a minute "
    "per caller, 120 per shop), SERVICE_UNAVAILABLE"
)


@strawberry.input(description="One basket line.")
class CheckoutLineInput:
    """A line of checkoutQuote."""

    product_id: str | None = strawberry.field(default=None, description="The shop's product id.")
    category_slug: str | None = strawberry.field(default=None, description="Category slug.")
    brand: str | None = strawberry.field(default=None, description="Brand, as the shop names it.")
    quantity: int = strawberry.field(description="Units, 1-10,000.")
    unit_price: Decimal = strawberry.field(description="Price of one unit, shop currency, in its minor unit at most.")
    description: str = strawberry.field(default="", description="What it is (not stored).")


@strawberry.input(description="A basket to price for a member or a guest.")
class CheckoutQuoteInput:
    """Input of checkoutQuote."""

    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop.")
    customer_id: str | None = strawberry.field(default=None, description="The member's customer id; null: a guest.")
    lines: list[CheckoutLineInput] = strawberry.field(description="1-200 lines.")
    coupon_codes: list[str] = strawberry.field(default_factory=list, description="Up to 10 codes as typed or scanned.")
    points_to_spend: int = strawberry.field(default=0, description="Points the member wants to pay with.")
    payment_type: str = strawberry.field(
        default="", description="How the rest is paid (the shop's words, e.g. 'card')."
    )

    def to_domain(self) -> QuoteInput:
        """The service's input."""
        return QuoteInput(
            shop_id=decode_global_id(self.shop_id, "Shop") or 0,
            customer_external_id=self.customer_id or None,
            lines=[
                LineInput(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    product_id=line.product_id,
                    category_slug=line.category_slug,
                    brand=line.brand,
                )
                for line in self.lines
            ],
            coupon_codes=list(self.coupon_codes),
            points_to_spend=self.points_to_spend,
            payment_type=self.payment_type,
        )


@strawberry.type(description="Result of checkoutQuote.")
class CheckoutQuotePayload:
    """The quote, or coded errors."""

    quote: CheckoutQuote | None = strawberry.field(default=None, description="The quote; null when refused.")
    errors: list[CheckoutError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A quote to commit, once.")
class CheckoutCommitInput:
    """Input of checkoutCommit."""

    quote_token: str = strawberry.field(description="The quote's token.")
    idempotency_key: str = strawberry.field(description="Unique per commit in the shop (1-200 characters).")
    order_id: str = strawberry.field(
        default="", description="The shop's order id; its returns and refunds then give back points and coupon uses."
    )


@strawberry.type(description="Result of checkoutCommit.")
class CheckoutCommitPayload:
    """The commit, or coded errors."""

    commit: CheckoutCommit | None = strawberry.field(default=None, description="The commit; null when refused.")
    replayed: bool = strawberry.field(default=False, description="True when this key committed before (no change).")
    errors: list[CheckoutError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(name="PromotionInput", description="A promotion's settings (docs/checkout.md explains each).")
class PromotionInputType:
    """Settings of promotionCreate / promotionUpdate."""

    name: str = strawberry.field(description="1-200 characters.")
    kind: PromotionKind = strawberry.field(description="What it gives.")
    description: str = strawberry.field(default="", description="For staff, up to 2,000 characters.")
    value: Decimal = strawberry.field(default=Decimal("0"), description="Percent or money, per kind.")
    buy_quantity: int = strawberry.field(default=0, description="BUY_X_GET_Y: X (1-100); CHEAPEST_FREE: units (2-100).")
    get_quantity: int = strawberry.field(default=0, description="BUY_X_GET_Y: Y (1-100); FREE_PRODUCT: free units.")
    free_product_id: str | None = strawberry.field(default=None, description="FREE_PRODUCT: the shop's product id.")
    product_ids: list[str] = strawberry.field(default_factory=list, description="Qualifying products; empty = any.")
    category_slugs: list[str] = strawberry.field(default_factory=list, description="Qualifying categories.")
    brands: list[str] = strawberry.field(default_factory=list, description="Qualifying brands.")
    tier_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Tiers that may use it.")
    segment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Members of any of these segments only (docs/crm.md)."
    )
    payment_types: list[str] = strawberry.field(default_factory=list, description="Payment types it needs.")
    minimum_amount: Decimal = strawberry.field(default=Decimal("0"), description="Qualifying lines' price needed.")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="Runs from.")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="Runs until (exclusive).")
    weekdays: list[int] = strawberry.field(default_factory=list, description="ISO weekdays 1-7; empty = all.")
    hour_from: int | None = strawberry.field(default=None, description="Shop-local hour 0-23.")
    hour_to: int | None = strawberry.field(default=None, description="Shop-local hour 1-24, exclusive.")
    requires_coupon: bool = strawberry.field(default=False, description="Only through its coupons.")
    priority: int = strawberry.field(default=10, description="-1000 to 1000; higher first; tier discount at 0.")
    stacking: PromotionStacking = strawberry.field(
        default=PromotionStacking.STACKABLE, description="Whether it combines with others."
    )
    usage_limit: int | None = strawberry.field(default=None, description="Uses in total.")
    usage_limit_per_member: int | None = strawberry.field(default=None, description="Uses per member.")
    active: bool = strawberry.field(default=True, description="False archives it.")

    def to_domain(self) -> PromotionInput:
        """The service's input (tier ids decoded; one of another type becomes 0 and fails validation)."""
        return PromotionInput(
            name=self.name,
            kind=self.kind.value,
            description=self.description,
            value=self.value,
            buy_quantity=self.buy_quantity,
            get_quantity=self.get_quantity,
            free_product_id=self.free_product_id or "",
            product_ids=list(self.product_ids),
            category_slugs=list(self.category_slugs),
            brands=list(self.brands),
            tier_ids=[decode_global_id(tier, "Tier") or 0 for tier in self.tier_ids],
            segment_ids=[decode_global_id(segment, "Segment") or 0 for segment in self.segment_ids],
            payment_types=list(self.payment_types),
            minimum_amount=self.minimum_amount,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            weekdays=list(self.weekdays),
            hour_from=self.hour_from,
            hour_to=self.hour_to,
            requires_coupon=self.requires_coupon,
            priority=self.priority,
            stacking=self.stacking.value,
            usage_limit=self.usage_limit,
            usage_limit_per_member=self.usage_limit_per_member,
            active=self.active,
        )


@strawberry.type(description="Result of promotionCreate and promotionUpdate.")
class PromotionPayload:
    """The promotion as saved, or coded errors."""

    promotion: Promotion | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[CheckoutError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="One coupon.")
class CouponCreateInput:
    """Input of couponCreate."""

    promotion_id: strawberry.ID = strawberry.field(description="Global id of the promotion it unlocks.")
    code: str | None = strawberry.field(default=None, description="3-40 of A-Z 0-9 - _; null: generated.")
    customer_id: str | None = strawberry.field(default=None, description="Makes it personal to this customer.")
    max_uses: int | None = strawberry.field(default=1, description="Uses in total; null = unlimited.")
    max_uses_per_member: int | None = strawberry.field(default=None, description="Uses per member.")
    valid_from: dt.datetime | None = strawberry.field(default=None, description="Valid from.")
    valid_until: dt.datetime | None = strawberry.field(default=None, description="Valid until (exclusive).")
    channel: str = strawberry.field(default="", description="Where it goes, e.g. 'email' (40 characters).")

    def to_domain(self) -> CouponInput:
        """The service's input."""
        return CouponInput(
            promotion_id=decode_global_id(self.promotion_id, "Promotion") or 0,
            code=self.code,
            customer_external_id=self.customer_id,
            max_uses=self.max_uses,
            max_uses_per_member=self.max_uses_per_member,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            channel=self.channel,
        )


@strawberry.input(description="A batch of coupons from a pattern.")
class CouponBatchGenerateInput:
    """Input of couponBatchGenerate."""

    promotion_id: strawberry.ID = strawberry.field(description="Global id of the promotion they unlock.")
    name: str = strawberry.field(description="Name of the batch.")
    count: int = strawberry.field(description="1-100,000 codes.")
    prefix: str = strawberry.field(default="", description="Up to 20 of A-Z 0-9 - _.")
    length: int = strawberry.field(default=8, description="Random symbols, 4-32.")
    alphabet: str = strawberry.field(default=DEFAULT_ALPHABET, description="Symbols to draw from.")
    max_uses: int | None = strawberry.field(default=1, description="Uses of each code; null = unlimited.")
    max_uses_per_member: int | None = strawberry.field(default=None, description="Uses per member of each code.")
    valid_from: dt.datetime | None = strawberry.field(default=None, description="Valid from.")
    valid_until: dt.datetime | None = strawberry.field(default=None, description="Valid until (exclusive).")
    channel: str = strawberry.field(default="", description="Where they go.")

    def to_domain(self) -> BatchInput:
        """The service's input."""
        return BatchInput(
            settings=CouponInput(
                promotion_id=decode_global_id(self.promotion_id, "Promotion") or 0,
                max_uses=self.max_uses,
                max_uses_per_member=self.max_uses_per_member,
                valid_from=self.valid_from,
                valid_until=self.valid_until,
                channel=self.channel,
            ),
            name=self.name,
            count=self.count,
            prefix=self.prefix,
            length=self.length,
            alphabet=self.alphabet,
        )


@strawberry.type(description="Result of couponCreate and couponVoid.")
class CouponPayload:
    """The coupon, or coded errors."""

    coupon: Coupon | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[CheckoutError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of couponBatchGenerate.")
class CouponBatchPayload:
    """The batch, or coded errors."""

    batch: CouponBatch | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[CheckoutError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type
class CheckoutMutation:
    """Tills and shop checkouts price and commit baskets; owners and managers run promotions and coupons."""

    @strawberry.mutation(
        description=(
            "Price a basket: tier discount, promotions, coupons, points as payment, and the points it will earn; "
            f"stores the quote for a few minutes and changes nothing else. {CHECKOUT_CODES}."
        )
    )
    @handle_domain_errors(CheckoutQuotePayload, CheckoutError)
    def checkout_quote(
        self, info: Info, input: Annotated[CheckoutQuoteInput, strawberry.argument(description="The basket.")]
    ) -> CheckoutQuotePayload:
        """Call ``checkout_quote``."""
        quote = checkout_quote(user=current_user(info), data=input.to_domain())
        return CheckoutQuotePayload(quote=cast(CheckoutQuote, quote))

    @strawberry.mutation(
        description=(
            "Commit a quote with the order, exactly once: uses of coupons and promotions recorded, points spent from "
            "the lots that expire first. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT, QUOTE_INVALID, "
            "QUOTE_EXPIRED, QUOTE_STALE (prices changed: quote again), QUOTE_ALREADY_COMMITTED, IDEMPOTENCY_CONFLICT."
        )
    )
    @handle_domain_errors(CheckoutCommitPayload, CheckoutError)
    def checkout_commit(
        self, info: Info, input: Annotated[CheckoutCommitInput, strawberry.argument(description="Quote and key.")]
    ) -> CheckoutCommitPayload:
        """Call ``checkout_commit``."""
        result = checkout_commit(
            user=current_user(info),
            token=input.quote_token,
            idempotency_key=input.idempotency_key,
            order_external_id=input.order_id,
        )
        return CheckoutCommitPayload(commit=cast(CheckoutCommit, result.commit), replayed=result.replayed)

    @strawberry.mutation(
        description=(
            "Add a promotion (capability promotions:write: owner or manager). Codes: NOT_AUTHENTICATED, "
            "PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(PromotionPayload, CheckoutError)
    def promotion_create(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[PromotionInputType, strawberry.argument(description="Settings.")],
    ) -> PromotionPayload:
        """Call ``promotion_create``."""
        promotion = promotion_create(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
        )
        return PromotionPayload(promotion=cast(Promotion, promotion))

    @strawberry.mutation(
        description="Replace a promotion's settings; active: false archives it. Codes as promotionCreate."
    )
    @handle_domain_errors(PromotionPayload, CheckoutError)
    def promotion_update(
        self,
        info: Info,
        promotion_id: ID_ARG,
        input: Annotated[PromotionInputType, strawberry.argument(description="New settings.")],
    ) -> PromotionPayload:
        """Call ``promotion_update``."""
        promotion = promotion_update(
            user=current_user(info),
            promotion_id=decode_global_id(promotion_id, "Promotion") or 0,
            data=input.to_domain(),
        )
        return PromotionPayload(promotion=cast(Promotion, promotion))

    @strawberry.mutation(
        description=(
            "Create one coupon (capability promotions:write). Codes: NOT_AUTHENTICATED, NOT_FOUND (also for a "
            "promotion the caller may not manage), INVALID_INPUT, CODE_TAKEN."
        )
    )
    @handle_domain_errors(CouponPayload, CheckoutError)
    def coupon_create(
        self, info: Info, input: Annotated[CouponCreateInput, strawberry.argument(description="The coupon.")]
    ) -> CouponPayload:
        """Call ``coupon_create``."""
        return CouponPayload(coupon=cast(Coupon, coupon_create(user=current_user(info), data=input.to_domain())))

    @strawberry.mutation(
        description=(
            "Generate a batch of coupons from a pattern, in one transaction (capability promotions:write). Codes as "
            "couponCreate; INVALID_INPUT also for a pattern with too few possible codes for the batch."
        )
    )
    @handle_domain_errors(CouponBatchPayload, CheckoutError)
    def coupon_batch_generate(
        self, info: Info, input: Annotated[CouponBatchGenerateInput, strawberry.argument(description="The batch.")]
    ) -> CouponBatchPayload:
        """Call ``coupon_batch_generate``."""
        batch = coupon_batch_generate(user=current_user(info), data=input.to_domain())
        return CouponBatchPayload(batch=cast(CouponBatch, batch))

    @strawberry.mutation(
        description="Void a coupon; its uses stay (capability promotions:write). Codes: NOT_AUTHENTICATED, NOT_FOUND "
        "(also for a coupon the caller may not manage)."
    )
    @handle_domain_errors(CouponPayload, CheckoutError)
    def coupon_void(self, info: Info, coupon_id: ID_ARG) -> CouponPayload:
        """Call ``coupon_void``."""
        coupon = coupon_void(user=current_user(info), coupon_id=decode_global_id(coupon_id, "Coupon") or 0)
        return CouponPayload(coupon=cast(Coupon, coupon))
