"""GraphQL types of the loyalty app, and its parts of the composite ``Shop`` and ``MemberAccount``.

``Shop``, ``MemberAccount`` and ``Viewer`` gather fields from several apps, so they are composed
in ``config.graphql.nodes`` (the composition root) from one *part* per app: this module gives
``ShopLoyaltyPart`` and ``AccountLoyaltyPart``; parts are never in the schema themselves.
References to the composite types go through ``strawberry.lazy`` (see ``SHOP`` below), so no
app imports a higher one. ``Order`` lives here because it shows loyalty fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from config.graphql.context import current_user
from config.graphql.errors import permission_denied
from config.graphql.ids import decode_global_id
from loyalty import models
from loyalty.filters import members_filtered
from loyalty.selectors import tier_progress
from marketplace import models as mp
from marketplace.models import StaffRole
from marketplace.selectors import staff_role

#: The composite node types, resolved lazily from the composition root.
NODES = "config.graphql.nodes"
SHOP = Annotated["Shop", strawberry.lazy(NODES)]  # noqa: F821  (resolved lazily)
MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy(NODES)]  # noqa: F821


@strawberry_django.type(models.Tier, description="One level of a shop's program, lowest first.")
class Tier(relay.Node):
    """One level of a program: members whose qualifying value reaches ``threshold`` hold it."""

    name: str = strawberry_django.field(description="Display name, e.g. Gold.")
    position: int = strawberry_django.field(description="0 for the entry tier, then upwards.")
    threshold: Decimal = strawberry_django.field(
        description="Qualifying value needed: currency of the shop (spend basis) or points (points basis)."
    )
    multiplier: Decimal = strawberry_django.field(description="Points multiplier applied to earnings (>= 1).")
    discount_percent: Decimal = strawberry_django.field(description="Discount members of this tier get, 0-100.")
    benefits: list[str] = strawberry_django.field(description="Benefits listed for the tier.")
    color: str = strawberry_django.field(description="Badge colour as #RRGGBB.")


TierBasis = strawberry.enum(models.TierBasis, name="TierBasis", description="What counts towards tier thresholds.")


TierWindow = strawberry.enum(
    models.TierWindow, name="TierWindow", description="Period over which the qualifying value is summed."
)


@strawberry.type(description="One changed setting: old and new value as text.")
class SettingChange:
    """A field's change."""

    field: str = strawberry.field(description="The setting, as the API spells it.")
    old: str | None = strawberry.field(description="Value before.")
    new: str | None = strawberry.field(description="Value after.")


@strawberry_django.type(models.ProgramChange, description="Who changed a program's settings, when, and what.")
class ProgramChange(relay.Node):
    """An audit record of programUpdate."""

    changed_at: dt.datetime = strawberry_django.field(description="When.")

    @strawberry_django.field(description="Username of the staff member.", select_related=["changed_by"])
    def changed_by(self) -> str:
        """The staff member's username."""
        return cast(models.ProgramChange, self).changed_by.get_username()

    @strawberry_django.field(description="The settings that changed.")
    def changes(self) -> list[SettingChange]:
        """Each changed field with its old and new value."""
        return [
            SettingChange(field=name, old=values["old"], new=values["new"])
            for name, values in sorted(cast(models.ProgramChange, self).changes.items())
        ]


@strawberry_django.type(
    models.LoyaltyProgram, description="A shop's loyalty program: how points are earned and tiers qualify."
)
class Program(relay.Node):
    """Public description of a program."""

    name: str = strawberry_django.field(description="Program name.")
    description: str = strawberry_django.field(description="Free text shown to members.")
    points_per_currency_unit: Decimal = strawberry_django.field(
        description="Points earned per one unit of the shop's currency of goods (before tier multipliers)."
    )
    minimum_order_amount: Decimal = strawberry_django.field(
        description="Orders with less goods than this (shop currency) earn nothing."
    )
    expiry_months: int | None = strawberry_django.field(
        description="Months after becoming available that points expire; null = they never expire."
    )
    tier_basis: TierBasis = strawberry_django.field(description="What counts towards tiers.")
    tier_window: TierWindow = strawberry_django.field(description="Over which period tiers qualify.")
    active: bool = strawberry_django.field(description="Whether orders earn points now.")
    tiers: list[Tier] = strawberry_django.field(description="The tiers, lowest first.")
    downgrade_policy: str = strawberry_django.field(description="When members may move down: never or requalification.")
    downgrade_grace_days: int = strawberry_django.field(description="Days after the window before a downgrade applies.")
    welcome_bonus_points: int = strawberry_django.field(description="Points given on enrolment.")
    birthday_bonus_points: int = strawberry_django.field(description="Points given once a year on the birthday.")
    point_value: Decimal = strawberry_django.field(description="What one point is worth in the shop's currency.")

    @strawberry_django.connection(
        DjangoListConnection[ProgramChange],
        description="Audit of setting changes, newest first (the shop's owner or manager). Errors: PERMISSION_DENIED.",
    )
    def changes(self, info: Info) -> list[models.ProgramChange]:
        """The program's audit records, for its owner or manager only."""
        program = cast(models.LoyaltyProgram, self)
        if staff_role(user=current_user(info), shop_id=program.shop_id) not in (StaffRole.OWNER, StaffRole.MANAGER):
            raise permission_denied("Only the shop's owner or manager can read its program's history.")
        return models.ProgramChange.objects.filter(program=program)  # type: ignore[return-value]

    @strawberry_django.field(
        description="Days after delivery before earned points become available.",
        select_related=["shop"],
    )
    def pending_days(self) -> int:
        """``pending_days`` or else the shop's return window (days)."""
        return cast(models.LoyaltyProgram, self).effective_pending_days


@strawberry.input(description="Filters of shop.members; every field optional.")
class MemberFilterInput:
    """Member filters (balances in points, dates with a time zone)."""

    tier_id: strawberry.ID | None = strawberry.field(default=None, description="Only this tier (global id).")
    joined_after: dt.datetime | None = strawberry.field(default=None, description="Enrolled at or after.")
    joined_before: dt.datetime | None = strawberry.field(default=None, description="Enrolled before.")
    balance_min: int | None = strawberry.field(default=None, description="Available points at least.")
    balance_max: int | None = strawberry.field(default=None, description="Available points at most.")
    last_activity_after: dt.datetime | None = strawberry.field(default=None, description="Last movement at or after.")
    last_activity_before: dt.datetime | None = strawberry.field(default=None, description="Last movement before.")
    search: str | None = strawberry.field(default=None, description="Name, e-mail or phone contains (up to 100).")


@strawberry_django.type(mp.Shop, name="ShopLoyaltyPart", description="Loyalty part of Shop (not in the schema).")
class ShopLoyaltyPart(relay.Node):
    """A shop: its public face and its program."""

    name: str = strawberry_django.field(description="Display name.")
    slug: str = strawberry_django.field(description="Unique URL-safe name; use it with `shop(slug:)`.")
    currency: str = strawberry_django.field(description="ISO 4217 currency of all the shop's amounts.")
    timezone: str = strawberry_django.field(description="IANA time zone of the shop's days and rules.")
    return_window_days: int = strawberry_django.field(description="Days after delivery an order may be returned.")
    is_demo: bool = strawberry_django.field(description="True for demo data.")
    program: Program | None = strawberry_django.field(description="The shop's loyalty program, if it runs one.")

    @strawberry_django.connection(
        DjangoListConnection[MEMBER_ACCOUNT],
        description=(
            "The shop's members, filtered and sorted (any staff role of the shop). Errors: PERMISSION_DENIED, "
            "INVALID_INPUT (extensions.fields names each bad filter)."
        ),
    )
    def members(
        self,
        info: Info,
        filter: Annotated[MemberFilterInput | None, strawberry.argument(description="Filters; all optional.")] = None,
        order_by: Annotated[
            str, strawberry.argument(description="joined, available, lifetime or last_activity; a leading - reverses.")
        ] = "-joined",
    ) -> list[models.MemberAccount]:
        """Check the caller's role, then let the FilterSet filter."""
        shop = cast(mp.Shop, self)
        if staff_role(user=current_user(info), shop_id=shop.pk) is None:
            raise permission_denied("Only the shop's staff can see its members.")
        data = {}
        if filter is not None:
            for name, value in vars(filter).items():
                if value is None or value is strawberry.UNSET:
                    continue
                data[name] = decode_global_id(value, "Tier") or 0 if name == "tier_id" else value
            if "tier_id" in data:
                data["tier"] = data.pop("tier_id")
        accounts, errors = members_filtered(shop_id=shop.pk, data=data, order_by=order_by)
        if accounts is None:
            raise GraphQLError("Invalid member filters.", extensions={"code": "INVALID_INPUT", "fields": errors})
        return accounts  # type: ignore[return-value]


EntryKind = strawberry.enum(models.EntryKind, name="EntryKind", description="Kind of ledger movement.")


SourceType = strawberry.enum(models.SourceType, name="SourceType", description="What caused a ledger entry.")


@strawberry.type(description="An earning rule that added points to an entry or a preview, and how many.")
class AppliedRule:
    """A rule and its contribution in points."""

    rule_id: strawberry.ID = strawberry.field(description="Global id of the earning rule.")
    name: str = strawberry.field(description="The rule's name when it applied.")
    points: int = strawberry.field(description="Points it added.")


@strawberry.type(description="What caused a ledger entry: a kind and, for orders, the shop's order id.")
class EntrySource:
    """The source of a ledger entry."""

    type: SourceType = strawberry.field(description="Kind of source.")
    id: str = strawberry.field(description="Id of the source within its kind (internal), may be empty.")
    order_external_id: str | None = strawberry.field(description="The shop's order id, for order sources.")


@strawberry_django.type(models.PointsEntry, description="One movement of points; the ledger is append-only.")
class PointsEntry(relay.Node):
    """A ledger line with its reason, shown on the member's history."""

    kind: EntryKind = strawberry_django.field(description="Kind of movement.")
    points: int = strawberry_django.field(
        description="Signed points moved (earn +N pending, release +N now available, reverse -N)."
    )
    available_after: int = strawberry_django.field(description="Available points after this entry.")
    pending_after: int = strawberry_django.field(description="Pending points after this entry.")
    reason: str = strawberry_django.field(description="Human-readable reason.")
    created_at: dt.datetime = strawberry_django.field(description="When the movement took effect.")

    @strawberry_django.field(description="Earning rules that added points to this entry (earnings only).")
    def applied_rules(self) -> list[AppliedRule]:
        """The rules stored on the entry when it was posted."""
        return [
            AppliedRule(
                rule_id=strawberry.ID(str(relay.GlobalID("EarningRule", str(r["id"])))),
                name=r["name"],
                points=r["points"],
            )
            for r in cast(models.PointsEntry, self).applied_rules
        ]

    @strawberry_django.field(
        description="What caused the entry.",
        select_related=["order"],
    )
    def source(self) -> EntrySource:
        """The entry's source, with the order's external id when it came from an order."""
        entry = cast(models.PointsEntry, self)
        return EntrySource(
            type=models.SourceType(entry.source_type),
            id=entry.source_id,
            order_external_id=entry.order.external_id if entry.order_id else None,
        )


@strawberry.type(description="Where a member stands towards the next tier.")
class TierProgress:
    """Progress figures in the program's basis (shop currency or points)."""

    current_tier: Tier | None = strawberry.field(description="Tier held now.")
    next_tier: Tier | None = strawberry.field(description="Next tier up; null at the top.")
    qualifying_value: Decimal = strawberry.field(description="Value counted so far in the current window.")
    next_threshold: Decimal | None = strawberry.field(description="Threshold of the next tier; null at the top.")
    remaining: Decimal | None = strawberry.field(description="Still needed for the next tier; null at the top.")
    fraction: float = strawberry.field(
        description="Share of the way from the current tier's threshold to the next, 0..1 (1 at the top)."
    )
    window_ends_at: dt.datetime | None = strawberry.field(
        description="End of the qualifying window (calendar-year programs); null for lifetime and rolling."
    )


@strawberry_django.type(
    models.MemberAccount, name="AccountLoyaltyPart", description="Loyalty part of MemberAccount (not in the schema)."
)
class AccountLoyaltyPart(relay.Node):
    """Balances, tier and history of one member in one shop."""

    points_available: int = strawberry_django.field(description="Points that can be redeemed now.")
    points_pending: int = strawberry_django.field(
        description="Points earned on delivered orders still inside the return window."
    )
    lifetime_points: int = strawberry_django.field(description="Points earned ever, net of reversed earnings.")
    enrolled_at: dt.datetime = strawberry_django.field(description="When the member joined the program.")
    tier: Tier | None = strawberry_django.field(description="Tier held now.")
    program: Program = strawberry_django.field(description="The program of this account.")
    entries: DjangoListConnection[PointsEntry] = strawberry_django.connection(
        description="Ledger history, newest first."
    )

    @strawberry_django.field(
        description="The shop of this account.",
        select_related=["program__shop"],
    )
    def shop(self) -> SHOP:
        """The account's shop (through its program)."""
        return cast(models.MemberAccount, self).program.shop

    @strawberry_django.field(
        description="Progress towards the next tier.",
        select_related=["tier", "program__shop"],
        prefetch_related=["program__tiers"],
    )
    def tier_progress(self) -> TierProgress:
        """Current and next tier, qualifying value, remaining, fraction and window end."""
        progress = tier_progress(account=cast(models.MemberAccount, self))
        return TierProgress(
            current_tier=cast(Tier, progress.current_tier),
            next_tier=cast(Tier, progress.next_tier),
            qualifying_value=progress.qualifying_value,
            next_threshold=progress.next_threshold,
            remaining=progress.remaining,
            fraction=progress.fraction,
            window_ends_at=progress.window_ends_at,
        )


OrderStatus = strawberry.enum(mp.OrderStatus, name="OrderStatus", description="Lifecycle status of an order.")


@strawberry_django.type(mp.OrderLine, description="One line of an order.")
class OrderLine:
    """Quantity x unit price in the order's currency."""

    line_no: int = strawberry_django.field(description="Position in the order, from 1.")
    description: str = strawberry_django.field(description="What was bought.")
    quantity: int = strawberry_django.field(description="Units (>= 1).")
    unit_price: Decimal = strawberry_django.field(description="Price of one unit, order currency.")


@strawberry_django.type(mp.Order, description="One shop's order.")
class Order(relay.Node):
    """An order as recorded by the shop, with its status."""

    external_id: str = strawberry_django.field(description="The shop's own id of the order.")
    status: OrderStatus = strawberry_django.field(description="Current status.")
    currency: str = strawberry_django.field(description="ISO 4217 currency of the amounts.")
    goods_amount: Decimal = strawberry_django.field(description="Sum of the lines; what earns points.")
    shipping_amount: Decimal = strawberry_django.field(description="Shipping; earns nothing.")
    placed_at: dt.datetime = strawberry_django.field(description="When the order was placed.")
    delivered_at: dt.datetime | None = strawberry_django.field(description="When it was delivered, if it was.")
    shop: SHOP = strawberry_django.field(description="The shop.")
    lines: list[OrderLine] = strawberry_django.field(description="The order's lines.")
