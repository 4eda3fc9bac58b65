"""GraphQL types of the loyalty app, and its parts of the composite ``Shop`` and ``MemberAccount``.

``Shop``, ``MemberAccount`` and ``Viewer`` gather fields from several apps, so they are composed
in ``config.nodes`` (the composition root) from one *part* per app: this module gives
``ShopLoyaltyPart`` and ``AccountLoyaltyPart``; parts are never in the schema themselves.
References to the composite types go through ``strawberry.lazy`` (see ``SHOP`` below), so no
app imports a higher one. A shop's own fields, orders and customers are marketplace's
(``marketplace.api.types``). Staff-only fields declare their capability with
``api_core.permissions.requires`` (the table is ``marketplace.permissions``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from django.db.models import Exists, OuterRef, Q, QuerySet
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from api_core.context import caller_of, current_user
from api_core.errors import coded_error, domain_error
from api_core.fields import column
from api_core.ids import decode_global_id
from api_core.permissions import requires
from loyalty import models
from loyalty.api.analytics import AnalyticsGranularity, ShopAnalytics, shop_analytics_resolve
from loyalty.api.occasions import Occasion, upcoming_occasions_resolve
from loyalty.errors import LoyaltyError as LoyaltyDomainError
from loyalty.filters import members_filtered
from loyalty.reasons import reason_text
from loyalty.selectors import (
    expiring_points,
    member_detail,
    open_lots_prefetch,
    pending_releases,
    shop_entries,
    tier_progress,
)
from loyalty.services.tier_admin import TierPlacement, tier_preview
from marketplace import models as mp
from marketplace.api.types import NODES, SHOP, MemberProfile
from marketplace.permissions import Capability, memberships_with

MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821  (resolved lazily by strawberry)


@strawberry.type(description="A text in one language.")
class Translation:
    """A translated text, e.g. a tier's name in Persian."""

    language: str = strawberry.field(description="BCP 47 language code, e.g. fa or en-GB.")
    text: str = strawberry.field(description="The text in that language.")


@strawberry_django.type(models.Tier, description="One level of a shop's program, lowest first.")
class Tier(relay.Node):
    """One level of a program: members whose qualifying value reaches ``threshold`` hold it."""

    name: str = column(description="Display name, e.g. Gold.")
    position: int = column(description="0 for the entry tier, then upwards.")
    threshold: Decimal = column(
        description="Qualifying value needed: currency of the shop (spend basis) or points (points basis)."
    )
    multiplier: Decimal = column(description="Points multiplier applied to earnings (>= 1).")
    discount_percent: Decimal = column(description="Discount members of this tier get, 0-100.")
    benefits: list[str] = column(description="Benefits listed for the tier.")
    color: str = column(description="Badge colour as #RRGGBB.")

    @strawberry_django.field(description="The name in other languages, by language code.")
    def name_translations(self) -> list[Translation]:
        """Stored translations, sorted by language."""
        stored = cast(models.Tier, self).name_translations or {}
        return [Translation(language=language, text=text) for language, text in sorted(stored.items())]


TierBasis = models.TierBasis
strawberry.enum(TierBasis, name="TierBasis", description="What counts towards tier thresholds.")


TierWindow = models.TierWindow
strawberry.enum(TierWindow, name="TierWindow", description="Period over which the qualifying value is summed.")


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


EarningRuleKind = models.RuleKind
strawberry.enum(EarningRuleKind, name="EarningRuleKind", description="How an earning rule adds points.")


@strawberry_django.type(
    models.EarningRule,
    description=(
        "A campaign: extra points for orders that meet all its conditions, read in the shop's time zone "
        "(an empty condition always holds)."
    ),
)
class EarningRule(relay.Node):
    """An earning rule as members and the shop's console see it.

    Visible to everyone while ``active``; inactive rules only to the shop's owner or manager
    (``get_queryset``, one ``EXISTS`` per query, so lists of programs stay one query).
    """

    name: str = strawberry_django.field(description="Name shown to members and on ledger entries.")
    kind: EarningRuleKind = strawberry_django.field(description="Multiplier or fixed bonus.")
    multiplier: Decimal | None = strawberry_django.field(
        description="Points multiplier of the lines it covers (1-20), for multiplier rules; else null."
    )
    bonus_points: int | None = strawberry_django.field(description="Points added once, for fixed-bonus rules.")
    starts_at: dt.datetime | None = strawberry_django.field(description="Applies to orders at or after; null = always.")
    ends_at: dt.datetime | None = strawberry_django.field(description="Applies to orders before; null = open-ended.")
    days_of_week: list[int] = strawberry_django.field(
        description="Weekdays in the shop's time zone, 0 (Monday) to 6; empty = every day."
    )
    start_time: dt.time | None = strawberry_django.field(
        description="Local time of day it starts (inclusive, shop's time zone); null = all day."
    )
    end_time: dt.time | None = strawberry_django.field(description="Local time of day it ends (exclusive).")
    tiers: list[Tier] = strawberry_django.field(description="Only members of these tiers; empty = every tier.")
    min_order_amount: Decimal | None = strawberry_django.field(
        description="Only orders with at least this much goods (shop currency); null = any."
    )
    priority: int = strawberry_django.field(description="Higher applies first (-1000 to 1000).")
    stackable: bool = strawberry_django.field(description="Whether it combines with other rules.")
    active: bool = strawberry_django.field(description="Whether it applies at all (inactive: owner and manager only).")
    created_at: dt.datetime = strawberry_django.field(description="When it was created.")

    @strawberry_django.field(
        description="Only orders with a line in these categories (a multiplier covers those lines); empty = any.",
        prefetch_related=["categories"],
    )
    def category_slugs(self) -> list[str]:
        """Slugs of the rule's categories, sorted."""
        return sorted(category.slug for category in cast(models.EarningRule, self).categories.all())

    @strawberry_django.field(
        description=(
            "Global ids of the shop's segments whose members it rewards (a static segment's list, a dynamic "
            "one's last snapshot); empty = every member."
        ),
        only=["segment_ids"],
    )
    def segment_ids(self) -> list[strawberry.ID]:
        """The rule's segments as ``Segment`` global ids (crm's type; loyalty keeps only the ids)."""
        return [strawberry.ID(relay.to_base64("Segment", pk)) for pk in cast(models.EarningRule, self).segment_ids]

    @classmethod
    def get_queryset(cls, queryset: QuerySet[models.EarningRule], info: Info, **kwargs) -> QuerySet[models.EarningRule]:
        """Active rules, and inactive ones of shops where the caller may edit the program; by priority."""
        user = current_user(info)
        visible = Q(active=True)
        if user.is_authenticated:
            visible |= Q(
                Exists(
                    memberships_with(Capability.EDIT_PROGRAM).filter(
                        user_id=user.pk, shop_id=OuterRef("program__shop_id")
                    )
                )
            )
        return queryset.filter(visible).order_by("-priority", "pk")


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
    welcome_bonus_points: int = strawberry_django.field(
        description="Points given on enrolment, and again on each membership anniversary; 0 = none."
    )
    birthday_bonus_points: int = strawberry_django.field(
        description="Points given once a year on the birthday, in the member's calendar; 0 = none."
    )
    point_value: Decimal = strawberry_django.field(description="What one point is worth in the shop's currency.")
    points_payment_max_percent: Decimal = strawberry_django.field(
        description="Largest share (percent) of a basket after discounts that points may pay at checkout; 0 = never."
    )
    points_payment_min_points: int = strawberry_django.field(
        description="Fewest points a member may spend at one checkout (docs/checkout.md)."
    )
    earning_rules: list[EarningRule] = strawberry_django.field(
        description=(
            "Earning rules (campaigns), highest priority first: the active ones for everyone, the inactive ones "
            "too for the shop's owner or manager."
        )
    )

    @strawberry_django.connection(
        DjangoListConnection[ProgramChange],
        description=(
            "Audit of setting changes, newest first (capability program:write: owner or manager). "
            "Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[
            requires(
                Capability.EDIT_PROGRAM, message="Only the shop's owner or manager can read its program's history."
            )
        ],
    )
    def changes(self) -> list[models.ProgramChange]:
        """The program's audit records (the capability is checked by the field's extension)."""
        program = cast(models.LoyaltyProgram, self)
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


@strawberry.input(description="One rung of a proposed tier ladder: an existing tier by id, or a new one by name.")
class TierPlacementInput:
    """A tier and its threshold in a proposed ladder (lowest first)."""

    tier_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of an existing tier.")
    name: str | None = strawberry.field(default=None, description="Name of a new tier (previews only).")
    threshold: Decimal = strawberry.field(description="Qualifying value needed (shop currency or points).")


@strawberry.type(description="A tier of a proposed ladder: how many members hold it now and right after the change.")
class TierPreviewRow:
    """One row of a tier preview."""

    tier_id: strawberry.ID | None = strawberry.field(description="Global id; null for a new tier.")
    name: str = strawberry.field(description="The tier's name.")
    threshold: Decimal = strawberry.field(description="Proposed threshold.")
    members_now: int = strawberry.field(description="Members holding the tier now.")
    members_after: int = strawberry.field(description="Members holding it right after the change.")


@strawberry.type(description="How many members a proposed tier ladder moves (on their current qualifying values).")
class TierPreview:
    """Result of shop.tierPreview; nothing is saved."""

    members: int = strawberry.field(description="Members of the program.")
    upgraded: int = strawberry.field(description="Members who move up at once.")
    moved_from_deleted: int = strawberry.field(
        description="Members whose tier the proposal drops; they move to the tier their value earns."
    )
    below_threshold: int = strawberry.field(
        description="Members who would qualify only for a lower tier; they keep theirs per the downgrade policy."
    )
    unchanged: int = strawberry.field(description="Members who stay where they are.")
    downgrade_policy: str = strawberry.field(description="The program's downgrade policy (never or requalification).")
    tiers: list[TierPreviewRow] = strawberry.field(description="The proposed ladder, lowest first.")


def tier_placements(placements: list[TierPlacementInput]) -> list[TierPlacement]:
    """The service's placements from the API's (an undecodable tier id becomes id 0: not a tier)."""
    return [
        TierPlacement(
            tier_id=(decode_global_id(p.tier_id, "Tier") or 0) if p.tier_id else None,
            threshold=p.threshold,
            name=p.name or "",
        )
        for p in placements
    ]


@strawberry_django.type(mp.Shop, name="ShopLoyaltyPart", description="Loyalty part of Shop (not in the schema).")
class ShopLoyaltyPart(relay.Node):
    """A shop: its public face and its program."""

    program: Program | None = strawberry_django.field(description="The shop's loyalty program, if it runs one.")

    @strawberry_django.field(
        description=(
            "One member of the shop by account id, with ledger and tier history (capability members:read: owner "
            "or manager); null when the id is not a member of this shop. Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[requires(Capability.READ_MEMBERS, message="Only the shop's owner or manager can see its members.")],
    )
    def member(
        self, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the account.")]
    ) -> MEMBER_ACCOUNT | None:
        """The account if it belongs to this shop's program (the capability is checked by the extension)."""
        shop = cast(mp.Shop, self)
        return member_detail(shop_id=shop.pk, account_id=decode_global_id(id, "MemberAccount") or 0)

    @strawberry_django.field(
        description=(
            "Count the members a proposed tier ladder would move, before saving it (capability program:write: "
            "owner or manager). Errors: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field), "
            "NOT_FOUND."
        ),
        # No field extension: the service checks program:write itself (one query, not two).
    )
    def tier_preview(
        self,
        info: Info,
        tiers: Annotated[
            list[TierPlacementInput],
            strawberry.argument(
                description="The whole proposed ladder, lowest first; tiers left out count as deleted."
            ),
        ],
    ) -> TierPreview:
        """Call ``tier_preview``; domain errors become coded GraphQL errors."""
        try:
            preview = tier_preview(
                user=current_user(info), shop_id=cast(mp.Shop, self).pk, placements=tier_placements(tiers)
            )
        except LoyaltyDomainError as error:
            raise domain_error(error) from error
        return TierPreview(
            members=preview.members,
            upgraded=preview.upgraded,
            moved_from_deleted=preview.moved_from_deleted,
            below_threshold=preview.below_threshold,
            unchanged=preview.unchanged,
            downgrade_policy=preview.downgrade_policy,
            tiers=[
                TierPreviewRow(
                    tier_id=strawberry.ID(str(relay.GlobalID("Tier", str(row.tier_id)))) if row.tier_id else None,
                    name=row.name,
                    threshold=row.threshold,
                    members_now=row.members_now,
                    members_after=row.members_after,
                )
                for row in preview.tiers
            ],
        )

    @strawberry_django.connection(
        DjangoListConnection[MEMBER_ACCOUNT],
        description=(
            "The shop's members, filtered and sorted (capability members:read: owner or manager). Errors: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field names the first bad filter, "
            "extensions.fields each of them)."
        ),
        extensions=[requires(Capability.READ_MEMBERS, message="Only the shop's owner or manager can see its members.")],
    )
    def members(
        self,
        info: Info,
        filter: Annotated[MemberFilterInput | None, strawberry.argument(description="Filters; all optional.")] = None,
        order_by: Annotated[
            str, strawberry.argument(description="joined, available, lifetime or last_activity; a leading - reverses.")
        ] = "-joined",
    ) -> list[models.MemberAccount]:
        """Let the FilterSet filter (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
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
            # ``field`` as everywhere; ``fields`` keeps every bad filter for existing clients.
            error = coded_error("Invalid member filters.", code="INVALID_INPUT", field=next(iter(errors), None))
            error.extensions["fields"] = errors  # type: ignore[index]
            raise error
        return accounts  # type: ignore[return-value]

    @strawberry_django.field(
        description=(
            "Loyalty analytics over local days `from`..`to` (capability analytics:read: owner or manager; see "
            "docs/api.md). Errors: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field), "
            "NOT_FOUND (no program)."
        ),
        extensions=[
            requires(Capability.READ_ANALYTICS, message="Only the shop's owner or manager can see its analytics.")
        ],
        only=["pk"],
    )
    def analytics(
        self,
        from_: Annotated[dt.date, strawberry.argument(name="from", description="First day, in the shop's time zone.")],
        to: Annotated[dt.date, strawberry.argument(description="Last day (inclusive); 366 days in all at most.")],
        granularity: Annotated[
            AnalyticsGranularity, strawberry.argument(description="Bucket size of the series.")
        ] = AnalyticsGranularity.DAY,
        top: Annotated[int, strawberry.argument(description="How many top members to list, 1 to 20.")] = 5,
    ) -> ShopAnalytics:
        """Call ``shop_analytics_resolve`` (the capability is checked by the field's extension)."""
        return shop_analytics_resolve(
            shop_id=cast(mp.Shop, self).pk, start=from_, end=to, granularity=granularity, top=top
        )

    @strawberry_django.field(
        description=(
            "Birthdays and membership anniversaries on the shop's next `days` local days (today included), by "
            "date, of members who agreed to be contacted (capability members:read: owner or manager; see "
            "docs/lifecycle.md). Errors: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field days)."
        ),
        only=["pk", "timezone"],
        extensions=[
            requires(
                Capability.READ_MEMBERS, message="Only the shop's owner or manager can see its members' occasions."
            )
        ],
    )
    def upcoming_occasions(
        self,
        days: Annotated[int, strawberry.argument(description="How many days ahead, 1 to 90.")] = 30,
    ) -> list[Occasion]:
        """Call ``upcoming_occasions_resolve`` (the capability is checked by the field's extension)."""
        return upcoming_occasions_resolve(shop=cast(mp.Shop, self), days=days)


EntryKind = models.EntryKind
strawberry.enum(EntryKind, name="EntryKind", description="Kind of ledger movement.")


SourceType = models.SourceType
strawberry.enum(SourceType, name="SourceType", description="What caused a ledger entry.")


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

    kind: EntryKind = column(description="Kind of movement.")
    points: int = column(description="Signed points moved (earn +N pending, release +N now available, reverse -N).")
    available_after: int = column(description="Available points after this entry.")
    pending_after: int = column(description="Pending points after this entry.")

    @strawberry_django.field(
        description=(
            "Human-readable reason. With `language` ('en' or 'fa'), in that language (Persian digits, reward and "
            "event names in Persian); entries posted before reasons had codes read as stored."
        ),
        only=["reason", "reason_code", "reason_params"],
    )
    def reason(
        self,
        language: Annotated[
            str | None, strawberry.argument(description="'en' or 'fa'; null: the stored English text.")
        ] = None,
    ) -> str:
        """``loyalty.reasons.reason_text`` of the entry."""
        entry = cast(models.PointsEntry, self)
        return reason_text(entry.reason_code, entry.reason_params, stored=entry.reason, language=language)

    @strawberry_django.field(
        description="The reason's code (docs/ledger.md, 'Reasons'); empty for older entries.", only=["reason_code"]
    )
    def reason_code(self) -> str:
        """The stored code."""
        return cast(models.PointsEntry, self).reason_code

    unrecovered_points: int = column(
        description="For a reversal: points it should have taken but the member had already spent (written off)."
    )
    created_at: dt.datetime = column(description="When the movement took effect.")
    account: MEMBER_ACCOUNT = strawberry_django.field(description="The member account the points moved on.")

    @strawberry_django.field(
        description=(
            "Username of the staff member who made this adjustment. Only the shop's staff who read members "
            "(capability members:read) see it: null for members, for everyone else and for entries no staff member "
            "made."
        ),
        select_related=["staff_user", "account__program"],
    )
    def adjusted_by(self, info: Info) -> str | None:
        """The acting staff member, for the shop's staff only (the caller's roles: one query per operation)."""
        entry = cast(models.PointsEntry, self)
        if entry.staff_user_id is None:
            return None
        if entry.staff_user is None or not caller_of(info).can(Capability.READ_MEMBERS, entry.account.program.shop_id):
            return None
        return entry.staff_user.get_username()

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
            order_external_id=entry.order.external_id if entry.order is not None else None,
        )


@strawberry_django.type(mp.Shop, name="ShopActivityPart", description="Activity part of Shop (not in the schema).")
class ShopActivityPart(relay.Node):
    """The shop's ledger history for its staff; defined after ``PointsEntry``, which it lists."""

    @strawberry_django.connection(
        DjangoListConnection[PointsEntry],
        description=(
            "The shop's newest ledger entries across its members, newest first (capability activity:read: owner "
            "or manager): the history behind the live activity feed (shopActivity), to fill it on load or after a "
            "reconnect. Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[
            requires(Capability.READ_ACTIVITY, message="Only the shop's owner or manager can see its activity.")
        ],
    )
    def activity(self) -> list[models.PointsEntry]:
        """Page through ``shop_entries`` (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
        return shop_entries(shop_id=shop.pk)  # type: ignore[return-value]


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


@strawberry_django.type(models.TierChange, description="One change of a member's tier, with its reason.")
class TierChange(relay.Node):
    """A row of the tier history."""

    from_tier: Tier | None = strawberry_django.field(description="Tier before; null on enrolment.")
    to_tier: Tier = strawberry_django.field(description="Tier after.")
    qualifying_value: Decimal = strawberry_django.field(description="Qualifying value at the change.")
    reason: str = strawberry_django.field(description="Why the tier changed.")
    created_at: dt.datetime = strawberry_django.field(description="When.")


@strawberry.type(description="Points on one day, in the shop's time zone (a release or an expiry schedule).")
class PointsOnDate:
    """E.g. "120 points expire on 2027-03-05" or "80 pending points become available on 2026-06-19"."""

    date: dt.date = strawberry.field(description="The day, in the shop's time zone.")
    points: int = strawberry.field(description="Points on that day.")


#: Most dates ``expiringPoints(limit)`` lists.
EXPIRING_DATES_MAX = 12


@strawberry_django.type(
    models.MemberAccount, name="AccountLoyaltyPart", description="Loyalty part of MemberAccount (not in the schema)."
)
class AccountLoyaltyPart(relay.Node):
    """Balances, tier and history of one member in one shop."""

    points_available: int = column(description="Points that can be redeemed now.")
    points_pending: int = column(description="Points earned on delivered orders still inside the return window.")
    lifetime_points: int = column(description="Points earned ever, net of reversed earnings.")
    enrolled_at: dt.datetime = column(description="When the member joined the program.")
    tier: Tier | None = strawberry_django.field(description="Tier held now.")
    program: Program = strawberry_django.field(description="The program of this account.")
    entries: DjangoListConnection[PointsEntry] = strawberry_django.connection(
        description="Ledger history, newest first."
    )
    points_redeemed: int = column(description="Points spent on rewards, net of refunds.")
    points_expired: int = column(description="Points that expired unused.")
    qualifying_value: Decimal = column(
        description="Value counted towards tiers at the last evaluation (shop currency or points)."
    )
    last_activity_at: dt.datetime | None = column(description="Last points movement.")
    member: MemberProfile = strawberry_django.field(
        field_name="customer", description="Who the member is (name, e-mail, phone)."
    )

    @strawberry_django.field(description="Tier history, newest first.", prefetch_related=["tier_changes"])
    def tier_history(self) -> list[TierChange]:
        """The account's tier changes, newest first (from the prefetch)."""
        changes = cast(models.MemberAccount, self).tier_changes.all()
        newest_first = sorted(changes, key=lambda change: (change.created_at, change.pk), reverse=True)
        return cast(list[TierChange], newest_first)

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

    @strawberry_django.field(
        description=(
            "Pending points by the day they become available (shop's time zone), soonest first; "
            "they add up to pointsPending."
        ),
        select_related=["program__shop"],
        prefetch_related=[lambda info: open_lots_prefetch()],
    )
    def pending_releases(self) -> list[PointsOnDate]:
        """From the page-wide prefetch of open lots (one query for all accounts)."""
        return [
            PointsOnDate(date=row.date, points=row.points)
            for row in pending_releases(account=cast(models.MemberAccount, self))
        ]

    @strawberry_django.field(
        description=(
            '"N points expire on D": available points by the day they expire (shop\'s time zone), soonest '
            "first, for the next `limit` days that have any. Errors: INVALID_INPUT (extensions.field limit)."
        ),
        select_related=["program__shop"],
        prefetch_related=[lambda info: open_lots_prefetch()],
    )
    def expiring_points(
        self,
        limit: Annotated[int, strawberry.argument(description=f"How many dates, 1 to {EXPIRING_DATES_MAX}.")] = 3,
    ) -> list[PointsOnDate]:
        """From the page-wide prefetch of open lots (one query for all accounts)."""
        if not 1 <= limit <= EXPIRING_DATES_MAX:
            raise GraphQLError(
                f"limit must be 1 to {EXPIRING_DATES_MAX}.", extensions={"code": "INVALID_INPUT", "field": "limit"}
            )
        return [
            PointsOnDate(date=row.date, points=row.points)
            for row in expiring_points(account=cast(models.MemberAccount, self), limit=limit)
        ]
