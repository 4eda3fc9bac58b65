"""GraphQL types of ``Shop.customerAnalytics`` and the Shop part that adds it (``config.nodes``).

The types mirror the frozen dataclasses of :mod:`crm.analytics` field by field, so the resolver
returns the selector's result as it is (strawberry reads attributes by name). Definitions are in
that module's docstring.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry import relay

from api_core.errors import domain_error
from api_core.permissions import requires
from crm import analytics as domain
from crm.errors import CrmError
from marketplace import models as mp
from marketplace.permissions import Capability


def _global_id(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


@strawberry.type(description="Retention and churn of the program's members in one local calendar month.")
class CustomerRetentionMonth:
    """One month of ``retention``; rates with 4 places, null when nobody was active the month before."""

    month: dt.date = strawberry.field(description="First day of the month (shop time zone).")
    members_active_before: int = strawberry.field(
        description="Members with a visit (a delivered order not cancelled, returned or refunded) the month before."
    )
    members_active: int = strawberry.field(description="Members with a visit in the month.")
    members_new: int = strawberry.field(description="Members enrolled in the month.")
    members_retained: int = strawberry.field(description="Members with a visit the month before and in the month.")
    members_churned: int = strawberry.field(
        description="Members with a visit the month before and none in the month (active before - retained)."
    )
    retention_rate: Decimal | None = strawberry.field(
        description="Retained / active before, 4 places; null when nobody was active the month before."
    )
    churn_rate: Decimal | None = strawberry.field(
        description="Churned / active before (1 - retention rate), 4 places; null when nobody was active before."
    )


@strawberry.type(description="Members holding one tier at the end of a month.")
class CustomerTierHolders:
    """One row of a month's tier distribution."""

    name: str = strawberry.field(description="Tier name.")
    position: int = strawberry.field(description="0 for the entry tier, then upwards.")
    members: int = strawberry.field(description="Members whose last tier change before the month's end was to it.")

    @strawberry.field(description="Global id of the tier.")
    def tier_id(self) -> strawberry.ID:
        """The tier's relay id."""
        return cast(strawberry.ID, _global_id("Tier", cast(domain.TierHolders, self).tier_id))


@strawberry.type(description="Tier upgrades and downgrades in one local calendar month, and the tiers at its end.")
class CustomerTierMonth:
    """One month of ``tierMoves``."""

    month: dt.date = strawberry.field(description="First day of the month (shop time zone).")
    upgrades: int = strawberry.field(description="Tier changes to a higher position in the month.")
    downgrades: int = strawberry.field(description="Tier changes to a lower position in the month.")
    distribution: list[CustomerTierHolders] = strawberry.field(
        description="Members per tier at the end of the month: every current tier, lowest first, zero included."
    )


@strawberry.type(description="What happened to one reward's codes in the period.")
class CustomerRewardRedemptions:
    """One reward of ``rewards``; each count on the day it happened."""

    name: str = strawberry.field(description="Reward name.")
    issued: int = strawberry.field(description="Codes issued in the period.")
    used: int = strawberry.field(description="Codes used at a till in the period.")
    cancelled: int = strawberry.field(description="Codes cancelled in the period.")
    expired: int = strawberry.field(description="Codes expired unused in the period.")
    points_spent: int = strawberry.field(
        description="Points of codes issued in the period minus points given back in it (cancelled or expired)."
    )
    members: int = strawberry.field(description="Distinct members issued a code of the reward in the period.")

    @strawberry.field(description="Global id of the reward.")
    def reward_id(self) -> strawberry.ID:
        """The reward's relay id."""
        return cast(strawberry.ID, _global_id("Reward", cast(domain.RewardRedemptions, self).reward_id))


@strawberry.type(description="Members' orders delivered in the period, by the member's tier now.")
class CustomerTierOrders:
    """One tier of ``tiers``; money in the shop's currency, 2 places."""

    name: str | None = strawberry.field(description="Tier name; null for members without a tier.")
    position: int | None = strawberry.field(description="Tier position; null for members without a tier.")
    orders: int = strawberry.field(description="Member orders (visits) delivered in the period.")
    members: int = strawberry.field(description="Distinct members who placed them.")
    revenue: Decimal = strawberry.field(description="Goods kept (goods amount less returned units), no shipping.")
    average_order_value: Decimal | None = strawberry.field(description="Revenue / orders; null without orders.")
    visits_per_member: Decimal | None = strawberry.field(description="Orders / members; null without members.")

    @strawberry.field(description="Global id of the tier; null for members without a tier.")
    def tier_id(self) -> strawberry.ID | None:
        """The tier's relay id."""
        return _global_id("Tier", cast(domain.TierOrders, self).tier_id)


@strawberry.type(description="Revenue of the period's visits from members and from non-members.")
class CustomerRevenueImpact:
    """A member order's customer had enrolled in the program at or before its delivery."""

    member_orders: int = strawberry.field(description="Visits by customers enrolled at or before the delivery.")
    member_customers: int = strawberry.field(description="Distinct members among them.")
    member_revenue: Decimal = strawberry.field(description="Goods kept on member orders, shop currency.")
    member_average_order_value: Decimal | None = strawberry.field(
        description="Member revenue / member orders; null without member orders."
    )
    non_member_orders: int = strawberry.field(
        description="Visits by customers not (yet) enrolled in the program when delivered."
    )
    non_member_customers: int = strawberry.field(description="Distinct customers among them.")
    non_member_revenue: Decimal = strawberry.field(description="Goods kept on non-member orders, shop currency.")
    non_member_average_order_value: Decimal | None = strawberry.field(
        description="Non-member revenue / non-member orders; null without them."
    )
    member_revenue_share: Decimal | None = strawberry.field(
        description="Member revenue / all revenue, 4 places; null without revenue."
    )


@strawberry.type(
    description=(
        "A shop's customer analytics: period figures over local days `from`..`to`, monthly figures over the "
        "whole calendar months the period touches (shop time zone). Definitions: docs/crm.md, 'Analytics'."
    )
)
class CustomerAnalytics:
    """The owner's customer figures; money in ``currency`` with 2 places, rates with 4."""

    start: dt.date = strawberry.field(name="from", description="First local day of the period.")
    end: dt.date = strawberry.field(name="to", description="Last local day of the period (inclusive).")
    timezone: str = strawberry.field(description="IANA time zone the days and months are read in (the shop's).")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount here.")
    retention: list[CustomerRetentionMonth] = strawberry.field(
        description="Month-over-month retention and churn, one row per calendar month the period touches."
    )
    tier_moves: list[CustomerTierMonth] = strawberry.field(
        description="Tier upgrades, downgrades and distribution, one row per calendar month the period touches."
    )
    rewards: list[CustomerRewardRedemptions] = strawberry.field(
        description="Every reward of the program (archived too), catalogue order, with its codes in the period."
    )
    tiers: list[CustomerTierOrders] = strawberry.field(
        description="Members' orders in the period by current tier: every tier lowest first, zero included."
    )
    revenue: CustomerRevenueImpact = strawberry.field(description="Members' and non-members' revenue in the period.")


@strawberry_django.type(
    mp.Shop, name="ShopCrmAnalyticsPart", description="Crm analytics part of Shop (not in the schema)."
)
class ShopCrmAnalyticsPart(relay.Node):
    """The customer analytics of a shop (owner and manager: analytics:read)."""

    @strawberry_django.field(
        description=(
            "Customer analytics over local days `from`..`to`: retention and churn, tier moves, redemptions per "
            "reward, orders per tier, members' revenue (capability analytics:read: owner or manager). Errors: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field `from` or `to`), "
            "NOT_FOUND (no program)."
        ),
        extensions=[
            requires(Capability.READ_ANALYTICS, message="Only the shop's owner or manager can see its analytics.")
        ],
        only=["pk"],
    )
    def customer_analytics(
        self,
        from_: Annotated[
            dt.date,
            strawberry.argument(
                name="from", description="First day, in the shop's time zone; 1970-01-01 at the earliest."
            ),
        ],
        to: Annotated[
            dt.date,
            strawberry.argument(
                description="Last day (inclusive); 24 calendar months touched at most, 2999-12-31 at the latest."
            ),
        ],
    ) -> CustomerAnalytics:
        """Call the selector (the capability is checked by the field's extension)."""
        try:
            result = domain.customer_analytics(shop_id=cast(mp.Shop, self).pk, start=from_, end=to)
        except CrmError as error:
            raise domain_error(error) from error
        return cast(CustomerAnalytics, result)
