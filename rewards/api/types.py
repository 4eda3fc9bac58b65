"""GraphQL types of the rewards app and its parts of ``Shop``, ``MemberAccount`` and ``Viewer``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from api_core.context import ViewerIdentity, current_user
from api_core.ids import decode_global_id
from api_core.permissions import requires
from loyalty import models as loyalty_models
from loyalty.api.types import MEMBER_ACCOUNT, SHOP, Tier
from marketplace import models as mp
from marketplace.permissions import Capability
from rewards import models
from rewards.codes import code_display
from rewards.errors import RewardErrorCode as DomainRewardErrorCode
from rewards.selectors import (
    active_rewards_prefetch,
    catalogue_managed,
    limited_redemptions_prefetch,
    rewards_for_account,
    shop_catalogue,
)

RewardKind = models.RewardKind
strawberry.enum(RewardKind, name="RewardKind", description="What a reward gives.")
RewardStatus = models.RewardStatus
strawberry.enum(RewardStatus, name="RewardStatus", description="Active or archived.")
LimitPeriod = models.LimitPeriod
strawberry.enum(LimitPeriod, name="LimitPeriod", description="Period of a per-member limit.")
RedemptionStatus = models.RedemptionStatus
strawberry.enum(RedemptionStatus, name="RedemptionStatus", description="Lifecycle of a redemption code.")
RewardErrorCode = DomainRewardErrorCode
strawberry.enum(RewardErrorCode, name="RewardErrorCode", description="Why a rewards operation was refused.")


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
        """The stored translations as a list, by language.

        Rows stored before their shape was checked may hold anything: texts that are not strings
        read as empty, languages whose entry is not a map are left out.
        """
        stored = cast(models.Reward, self).translations
        if not isinstance(stored, dict):
            return []

        def text(texts: dict[str, object], key: str) -> str:
            value = texts.get(key, "")
            return value if isinstance(value, str) else ""

        return [
            RewardTranslation(language=str(lang), name=text(texts, "name"), description=text(texts, "description"))
            for lang, texts in sorted(stored.items())
            if isinstance(texts, dict)
        ]

    @strawberry_django.field(description="ISO 4217 currency of value (the shop's).", select_related=["program__shop"])
    def currency(self) -> str:
        """The shop's currency."""
        return cast(models.Reward, self).program.shop.currency


@strawberry.type(description="Who a redemption code belongs to, as the till shows it.")
class RedemptionHolder:
    """The member's name and tier: what a cashier needs to hand over the reward, and nothing more."""

    display_name: str = strawberry.field(description="The member's display name (may be empty).")
    tier: Tier | None = strawberry.field(description="The member's tier now in the code's shop.")


@strawberry_django.type(models.Redemption, description="A redemption: points spent on a reward and its code.")
class Redemption(relay.Node):
    """What a member got for their points, and the code to show at the till."""

    status: RedemptionStatus = strawberry_django.field(description="Issued, used, cancelled or expired.")
    points: int = strawberry_django.field(description="Points it cost.")
    reward: Reward = strawberry_django.field(description="The reward (also when since archived).")
    shop: SHOP = strawberry_django.field(description="Where the code can be used.")
    account: MEMBER_ACCOUNT = strawberry_django.field(
        description=(
            "The member account that paid: balances, history and contact details, so only for its member and the "
            "shop's staff who read members (capability members:read); the till shows `holder`. Errors: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        select_related=["account"],
        extensions=[
            requires(
                Capability.READ_MEMBERS,
                message="Only the member and the shop's owner or manager see the account; the till shows holder.",
                member_of=lambda redemption: redemption.account.customer_id,
            )
        ],
    )
    issued_at: dt.datetime = strawberry_django.field(description="When it was redeemed.")
    expires_at: dt.datetime = strawberry_django.field(description="When an unused code expires.")
    used_at: dt.datetime | None = strawberry_django.field(description="When it was used at the till.")
    order_external_id: str = strawberry_django.field(description="The shop's order it was used on (may be empty).")
    cancelled_at: dt.datetime | None = strawberry_django.field(description="When it was cancelled.")
    expired_at: dt.datetime | None = strawberry_django.field(description="When it expired.")

    @strawberry_django.field(
        description="Who the code belongs to, as the till shows it: the member's name and tier (anyone who sees the "
        "redemption).",
        select_related=["account__customer", "account__tier"],
    )
    def holder(self) -> RedemptionHolder:
        """The paying member's display name and current tier (from the joined account)."""
        account = cast(models.Redemption, self).account
        return RedemptionHolder(display_name=account.customer.display_name, tier=cast(Tier | None, account.tier))

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
    """Availability of every catalogue reward for ``account`` (no query when prefetched by the field's hints)."""
    return [
        AccountReward(
            reward=cast(Reward, reward),
            affordable=problem is None,
            reason_unavailable=RewardErrorCode(problem.code.value) if problem else None,
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
        """The catalogue narrowed by :func:`rewards.selectors.shop_catalogue` (the viewer's affordability)."""
        program = getattr(cast(mp.Shop, self), "program", None)
        if program is None:
            return []
        rewards = shop_catalogue(
            program=program,
            now=timezone.now(),
            kind=kind.value if kind is not None else None,
            tier_id=(decode_global_id(tier_id, "Tier") or 0) if tier_id is not None else None,
            affordable=affordable,
            user=current_user(info),
        )
        return cast(list[Reward], rewards)

    @strawberry_django.field(
        description=(
            "The whole catalogue for the shop's owner and manager, to edit: archived and future or past-dated "
            "rewards included, in display order (capability catalogue:write). Errors: NOT_AUTHENTICATED, "
            "PERMISSION_DENIED."
        ),
        extensions=[
            requires(Capability.EDIT_CATALOGUE, message="Only the shop's owner or manager can see the whole catalogue.")
        ],
    )
    def reward_catalogue(
        self,
        status: Annotated[RewardStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[Reward]:
        """Every reward of the shop's program (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
        program = getattr(shop, "program", None)
        if program is None:
            return []
        return cast(list[Reward], list(catalogue_managed(program_id=program.pk, status=status)))

    @strawberry_django.connection(
        DjangoListConnection[Redemption],
        description=(
            "Redemptions at this shop, newest first (capability till:use: any staff role of the shop). "
            "Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[requires(Capability.USE_TILL, message="Only the shop's staff can see its redemptions.")],
    )
    def redemptions(
        self,
        status: Annotated[RedemptionStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[models.Redemption]:
        """The shop's redemptions (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
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

    @strawberry_django.field(
        description="The shop's catalogue for this member: redeemable rewards first.",
        select_related=["tier", "program__shop"],
        prefetch_related=[lambda info: active_rewards_prefetch(), lambda info: limited_redemptions_prefetch()],
    )
    def rewards(self) -> list[AccountReward]:
        """Every catalogue reward with ``affordable`` and ``reasonUnavailable``, from the page-wide prefetch."""
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
