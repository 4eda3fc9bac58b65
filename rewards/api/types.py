"""GraphQL types of the rewards app and its parts of ``Shop``, ``MemberAccount`` and ``Viewer``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from django.db.models import Q, Subquery
from django.utils import timezone
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from config.graphql.context import ViewerIdentity, current_user, require_shop_role
from config.graphql.ids import decode_global_id
from loyalty import models as loyalty_models
from loyalty.api.types import MEMBER_ACCOUNT, SHOP, Tier
from marketplace import models as mp
from marketplace.models import StaffRole
from marketplace.selectors import customer_for_user
from rewards import models
from rewards.codes import code_display
from rewards.errors import RewardErrorCode as DomainRewardErrorCode
from rewards.selectors import catalogue, catalogue_managed, rewards_for_account

RewardKind = strawberry.enum(models.RewardKind, name="RewardKind", description="What a reward gives.")
RewardStatus = strawberry.enum(models.RewardStatus, name="RewardStatus", description="Active or archived.")
LimitPeriod = strawberry.enum(models.LimitPeriod, name="LimitPeriod", description="Period of a per-member limit.")
RedemptionStatus = strawberry.enum(
    models.RedemptionStatus, name="RedemptionStatus", description="Lifecycle of a redemption code."
)
RewardErrorCode = strawberry.enum(
    DomainRewardErrorCode, name="RewardErrorCode", description="Why a rewards operation was refused."
)


@strawberry.type(description="A reward's name and description in one language.")
class RewardTranslation:
    """One translation."""

    language: str = strawberry.field(description="Language code, e.g. fa.")
    name: str = strawberry.field(description="Translated name (may be empty).")
    description: str = strawberry.field(description="Translated description (may be empty).")


@strawberry_django.type(models.Reward, description="An item of a shop's rewards catalogue.")
class Reward(relay.Node):
    """A reward members can redeem with points."""

    name: str = strawberry_django.field(description="Name (default language).")
    description: str = strawberry_django.field(description="Description (default language).")
    kind: RewardKind = strawberry_django.field(description="What it gives.")
    value: Decimal | None = strawberry_django.field(
        description="Amount in the shop's currency (fixed amount) or percent (percentage); null otherwise."
    )
    points_cost: int = strawberry_django.field(description="Points a redemption costs.")
    min_tier: Tier | None = strawberry_django.field(description="Lowest tier that may redeem it; null = any.")
    stock: int | None = strawberry_django.field(description="Units left; null = unlimited.")
    per_member_limit: int | None = strawberry_django.field(
        description="Redemptions per member per period; null = none."
    )
    limit_period: LimitPeriod = strawberry_django.field(description="Period of the per-member limit.")
    valid_from: dt.datetime | None = strawberry_django.field(description="Offered from; null = always.")
    valid_until: dt.datetime | None = strawberry_django.field(description="Offered until (exclusive); null = always.")
    status: RewardStatus = strawberry_django.field(description="Active or archived.")
    image_url: str = strawberry_django.field(description="Picture URL (may be empty).")
    sort_order: int = strawberry_django.field(description="Display order, lowest first.")
    code_lifetime_days: int = strawberry_django.field(description="Days a redemption code stays valid.")
    refund_on_expiry: bool = strawberry_django.field(description="Whether points come back when a code expires unused.")

    @strawberry_django.field(description="Translations of name and description.", only=["translations"])
    def translations(self) -> list[RewardTranslation]:
        """The stored translations as a list, by language."""
        stored = cast(models.Reward, self).translations or {}
        return [
            RewardTranslation(language=lang, name=texts.get("name", ""), description=texts.get("description", ""))
            for lang, texts in sorted(stored.items())
        ]

    @strawberry_django.field(description="ISO 4217 currency of value (the shop's).", select_related=["program__shop"])
    def currency(self) -> str:
        """The shop's currency."""
        return cast(models.Reward, self).program.shop.currency


@strawberry_django.type(models.Redemption, description="A redemption: points spent on a reward and its code.")
class Redemption(relay.Node):
    """What a member got for their points, and the code to show at the till."""

    status: RedemptionStatus = strawberry_django.field(description="Issued, used, cancelled or expired.")
    points: int = strawberry_django.field(description="Points it cost.")
    reward: Reward = strawberry_django.field(description="The reward (also when since archived).")
    shop: SHOP = strawberry_django.field(description="Where the code can be used.")
    account: MEMBER_ACCOUNT = strawberry_django.field(description="The member account that paid.")
    issued_at: dt.datetime = strawberry_django.field(description="When it was redeemed.")
    expires_at: dt.datetime = strawberry_django.field(description="When an unused code expires.")
    used_at: dt.datetime | None = strawberry_django.field(description="When it was used at the till.")
    order_external_id: str = strawberry_django.field(description="The shop's order it was used on (may be empty).")
    cancelled_at: dt.datetime | None = strawberry_django.field(description="When it was cancelled.")
    expired_at: dt.datetime | None = strawberry_django.field(description="When it expired.")

    @strawberry_django.field(description="The code, grouped for reading aloud (e.g. 7Q2M-ZK4D-XR920).", only=["code"])
    def code(self) -> str:
        """Display form of the stored canonical code."""
        return code_display(cast(models.Redemption, self).code)


@strawberry.type(description="A reward as one member sees it: can they redeem it now, and if not, why.")
class AccountReward:
    """A catalogue reward with its availability for the account."""

    reward: Reward = strawberry.field(description="The reward.")
    affordable: bool = strawberry.field(description="True when the member can redeem it now.")
    reason_unavailable: RewardErrorCode | None = strawberry.field(
        description="Why not (TIER_REQUIRED, LIMIT_REACHED, INSUFFICIENT_POINTS, ...); null when affordable."
    )
    message: str = strawberry.field(description="Human-readable form of the reason (empty when affordable).")


def _account_rewards(account: loyalty_models.MemberAccount) -> list[AccountReward]:
    """Availability of every catalogue reward for ``account`` (two queries)."""
    return [
        AccountReward(
            reward=cast(Reward, reward),
            affordable=problem is None,
            reason_unavailable=problem.code if problem else None,
            message=problem.message if problem else "",
        )
        for reward, problem in rewards_for_account(account=account, now=timezone.now())
    ]


@strawberry_django.type(mp.Shop, name="ShopRewardsPart", description="Rewards part of Shop (not in the schema).")
class ShopRewardsPart(relay.Node):
    """The shop's catalogue and, for its staff, its redemptions."""

    @strawberry_django.field(
        description="The public catalogue: active rewards within their validity, in display order."
    )
    def rewards(
        self,
        info: Info,
        kind: Annotated[RewardKind | None, strawberry.argument(description="Only this kind.")] = None,
        tier_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only rewards this tier (global id) may redeem.")
        ] = None,
        affordable: Annotated[
            bool | None,
            strawberry.argument(
                description="Only rewards the logged-in member can (true) or cannot (false) redeem now."
            ),
        ] = None,
    ) -> list[Reward]:
        """Filter the catalogue by kind, tier and affordability for the viewer."""
        shop = cast(mp.Shop, self)
        program = getattr(shop, "program", None)
        if program is None:
            return []
        rewards = catalogue(program_id=program.pk, now=timezone.now())
        if kind is not None:
            rewards = rewards.filter(kind=kind)
        if tier_id is not None:
            position = program.tiers.filter(pk=decode_global_id(tier_id, "Tier") or 0).values_list(
                "position", flat=True
            )
            rewards = rewards.filter(Q(min_tier__isnull=True) | Q(min_tier__position__lte=Subquery(position[:1])))
        listed = list(rewards)
        if affordable is None:
            return cast(list[Reward], listed)
        customer = customer_for_user(user=current_user(info))
        account = (
            loyalty_models.MemberAccount.objects.filter(customer=customer, program=program)
            .select_related("tier")
            .first()
        )
        if account is None:  # an anonymous caller or a non-member can afford nothing
            return [] if affordable else cast(list[Reward], listed)
        redeemable = {item.reward.pk for item in _account_rewards(account) if item.affordable}
        return cast(list[Reward], [reward for reward in listed if (reward.pk in redeemable) == affordable])

    @strawberry_django.field(
        description=(
            "The whole catalogue for the shop's owner and manager, to edit: archived and future or past-dated "
            "rewards included, in display order. Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        )
    )
    def reward_catalogue(
        self,
        info: Info,
        status: Annotated[RewardStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[Reward]:
        """Every reward of the shop's program, for its editors."""
        shop = cast(mp.Shop, self)
        require_shop_role(
            info,
            shop_id=shop.pk,
            message="Only the shop's owner or manager can see the whole catalogue.",
            roles=(StaffRole.OWNER, StaffRole.MANAGER),
        )
        program = getattr(shop, "program", None)
        if program is None:
            return []
        return cast(list[Reward], list(catalogue_managed(program_id=program.pk, status=status)))

    @strawberry_django.connection(
        DjangoListConnection[Redemption],
        description="Redemptions at this shop, newest first (its staff only). Errors: PERMISSION_DENIED.",
    )
    def redemptions(
        self,
        info: Info,
        status: Annotated[RedemptionStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[models.Redemption]:
        """The shop's redemptions for its staff."""
        shop = cast(mp.Shop, self)
        require_shop_role(info, shop_id=shop.pk, message="Only the shop's staff can see its redemptions.")
        redemptions = models.Redemption.objects.filter(shop_id=shop.pk)
        if status is not None:
            redemptions = redemptions.filter(status=status)
        return redemptions  # type: ignore[return-value]


@strawberry_django.type(
    loyalty_models.MemberAccount,
    name="AccountRewardsPart",
    description="Rewards part of MemberAccount (not in the schema).",
)
class AccountRewardsPart(relay.Node):
    """What the member can redeem in this shop."""

    @strawberry_django.field(description="The shop's catalogue for this member: redeemable rewards first.")
    def rewards(self) -> list[AccountReward]:
        """Every catalogue reward with ``affordable`` and ``reasonUnavailable``."""
        return _account_rewards(cast(loyalty_models.MemberAccount, self))


@strawberry.type(name="ViewerRewardsPart", description="Rewards part of Viewer (not in the schema).")
class ViewerRewardsPart:
    """The member's codes across all shops."""

    @strawberry_django.connection(
        DjangoListConnection[Redemption], description="The member's redemptions in every shop, newest first."
    )
    def redemptions(
        self,
        status: Annotated[RedemptionStatus | None, strawberry.argument(description="Only this status.")] = None,
        shop_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this shop's (its global id).")
        ] = None,
    ) -> list[models.Redemption]:
        """Redemptions of the viewer's customer record (none for a staff-only login)."""
        customer_id = cast(ViewerIdentity, self).customer_id
        redemptions = models.Redemption.objects.filter(account__customer_id=customer_id or 0)
        if status is not None:
            redemptions = redemptions.filter(status=status)
        if shop_id is not None:
            redemptions = redemptions.filter(account__program__shop_id=decode_global_id(shop_id, "Shop") or 0)
        return redemptions  # type: ignore[return-value]
