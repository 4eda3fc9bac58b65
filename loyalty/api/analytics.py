"""GraphQL types of ``Shop.analytics`` and its resolver: the owner's dashboard figures.

The types mirror the frozen dataclasses of :mod:`loyalty.analytics` field by field, so the
resolver returns the selector's result as it is (strawberry reads attributes by name). This
module does not import ``loyalty.api.types`` (which imports it for the ``Shop`` field).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import strawberry
from strawberry import relay

from api_core.errors import domain_error
from loyalty import analytics as domain
from loyalty.errors import LoyaltyError

AnalyticsGranularity = domain.Granularity
strawberry.enum(
    AnalyticsGranularity,
    name="AnalyticsGranularity",
    description="Bucket size of the analytics series: a local day, or an ISO week starting on Monday.",
)


@strawberry.type(description="Members holding one tier of the program now.")
class AnalyticsTierCount:
    """One row of the tier distribution."""

    name: str = strawberry.field(description="Tier name.")
    position: int = strawberry.field(description="0 for the entry tier, then upwards.")
    members: int = strawberry.field(description="Members holding the tier now.")

    @strawberry.field(description="Global id of the tier.")
    def tier_id(self) -> strawberry.ID:
        """The tier's relay id."""
        return strawberry.ID(str(relay.GlobalID("Tier", str(cast(domain.TierCount, self).tier_id))))


@strawberry.type(description="A member ranked by points issued to them (earned plus bonus) in the period.")
class AnalyticsTopMember:
    """One row of the top members."""

    display_name: str = strawberry.field(description="The customer's display name (may be empty).")
    tier_name: str | None = strawberry.field(description="Name of the tier held now; null without tiers.")
    points: int = strawberry.field(description="Points issued to the member in the period (EARN + BONUS).")

    @strawberry.field(description="Global id of the member account.")
    def account_id(self) -> strawberry.ID:
        """The account's relay id."""
        return strawberry.ID(str(relay.GlobalID("MemberAccount", str(cast(domain.TopMember, self).account_id))))


@strawberry.type(description="One day or week of the analytics series; zeros when nothing happened.")
class AnalyticsBucket:
    """Figures of one bucket, with the same definitions as the period totals."""

    start: dt.date = strawberry.field(
        description="Local date the bucket begins (the Monday for weeks; may precede the period's start)."
    )
    points_issued: int = strawberry.field(description="Points earned plus bonuses (EARN + BONUS).")
    points_reversed: int = strawberry.field(description="Earned points taken back by returns (-REVERSE).")
    points_redeemed: int = strawberry.field(description="Points redeemed net of refunds (-(REDEEM + REFUND)).")
    points_expired: int = strawberry.field(description="Points expired (-EXPIRE).")
    points_adjusted: int = strawberry.field(description="Net staff adjustments, signed (ADJUST).")
    members_new: int = strawberry.field(description="Members enrolled.")
    orders_delivered: int = strawberry.field(description="Members' orders delivered.")
    revenue: Decimal = strawberry.field(description="Goods amount of those orders, shop currency, 2 places.")


@strawberry.type(
    description=(
        "A shop's loyalty analytics over local calendar days `from`..`to` (inclusive, shop time zone). "
        "Period figures read business time; tiers, liability and breakage are as of now."
    )
)
class ShopAnalytics:
    """The dashboard figures; money in ``currency`` with 2 places, rates with 4."""

    start: dt.date = strawberry.field(name="from", description="First local day of the period.")
    end: dt.date = strawberry.field(name="to", description="Last local day of the period (inclusive).")
    granularity: AnalyticsGranularity = strawberry.field(description="Bucket size of `series`.")
    timezone: str = strawberry.field(description="IANA time zone the days are read in (the shop's).")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount here.")
    point_value: Decimal = strawberry.field(description="What one point is worth in `currency` (the program's).")
    generated_at: dt.datetime = strawberry.field(description="When the figures were computed (the 'now').")
    members_total: int = strawberry.field(description="Members enrolled before the end of the period.")
    members_new: int = strawberry.field(description="Members enrolled during the period.")
    members_active: int = strawberry.field(
        description="Members who earned on an order or redeemed a reward in the 90 days before the end of the period."
    )
    tier_distribution: list[AnalyticsTierCount] = strawberry.field(
        description="Members per tier now: every tier of the program, zero counts included, lowest first."
    )
    points_issued: int = strawberry.field(description="Points earned plus bonuses in the period (EARN + BONUS).")
    points_reversed: int = strawberry.field(
        description="Earned points taken back by returns and refunds of orders in the period (-REVERSE)."
    )
    points_redeemed: int = strawberry.field(
        description="Points redeemed in the period net of those given back (-(REDEEM + REFUND))."
    )
    points_expired: int = strawberry.field(description="Points expired in the period (-EXPIRE).")
    points_adjusted: int = strawberry.field(description="Net staff adjustments in the period, signed (ADJUST).")
    liability_points: int = strawberry.field(
        description="Outstanding points now: available plus pending over all members."
    )
    liability_points_available: int = strawberry.field(description="Outstanding points that are available now.")
    liability_points_pending: int = strawberry.field(description="Outstanding points still pending now.")
    liability_amount: Decimal = strawberry.field(
        description="Outstanding points x point value, in `currency`, 2 places (half up)."
    )
    redemption_rate: Decimal | None = strawberry.field(
        description="Points redeemed / points issued in the period, 4 places; null when nothing was issued."
    )
    breakage_rate: Decimal | None = strawberry.field(
        description=(
            "Historical ultimate breakage: lifetime expired / (lifetime expired + lifetime redeemed) over all "
            "members, 4 places; null when both are 0 (IFRS 15 / ASC 606 practice)."
        )
    )
    breakage_points_estimate: int = strawberry.field(
        description="Outstanding points expected never to be redeemed: floor(breakage rate x liability points)."
    )
    breakage_amount_estimate: Decimal = strawberry.field(
        description="The breakage estimate in `currency` (points x point value, 2 places)."
    )
    orders_count: int = strawberry.field(description="Members' orders delivered in the period (any status now).")
    revenue: Decimal = strawberry.field(description="Goods amount of those orders, `currency` (no shipping).")
    average_order_value: Decimal | None = strawberry.field(
        description="Revenue / orders count, 2 places (half up); null without orders."
    )
    top_members: list[AnalyticsTopMember] = strawberry.field(
        description="Up to `top` members by points issued in the period, ties by account; none with 0 issued."
    )
    series: list[AnalyticsBucket] = strawberry.field(
        description="One bucket per local day or week covering the period, in order, empty buckets included."
    )


def shop_analytics_resolve(
    *, shop_id: int, start: dt.date, end: dt.date, granularity: domain.Granularity, top: int
) -> ShopAnalytics:
    """Compute the shop's analytics; the caller's ``analytics:read`` capability is checked by the field.

    Errors (``extensions.code``): INVALID_INPUT with ``extensions.field`` for a bad argument,
    NOT_FOUND when the shop runs no program.
    """
    try:
        result = domain.shop_analytics(shop_id=shop_id, start=start, end=end, granularity=granularity, top=top)
    except LoyaltyError as error:
        raise domain_error(error) from error
    return cast(ShopAnalytics, result)
