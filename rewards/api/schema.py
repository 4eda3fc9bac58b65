"""Rewards' part of the GraphQL schema: redeem, cancel, the till, and the owners' catalogue edits.

Resolvers are thin: they decode ids, call one service and map :class:`RewardError` to the
payload's coded errors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import PayloadError, handle_domain_errors
from api_core.ids import decode_global_id
from rewards.api.types import LimitPeriod, Redemption, Reward, RewardErrorCode, RewardKind
from rewards.errors import RewardErrorCode as DomainRewardErrorCode
from rewards.services import (
    RewardInput,
    redemption_cancel,
    redemption_consume,
    redemption_validate,
    reward_archive,
    reward_create,
    reward_redeem,
    reward_restore,
    reward_update,
)


@strawberry.type(description="A refused rewards operation; nothing was changed.")
class RewardError(PayloadError):
    """One reason a rewards operation was refused."""

    codes = DomainRewardErrorCode
    code: RewardErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.input(description="Which reward to redeem.")
class RewardRedeemInput:
    """Input of rewardRedeem."""

    reward_id: strawberry.ID = strawberry.field(description="Global id of the reward.")


@strawberry.type(description="Result of rewardRedeem.")
class RewardRedeemPayload:
    """The redemption with its code, or coded errors."""

    redemption: Redemption | None = strawberry.field(default=None, description="The redemption; null when refused.")
    replayed: bool = strawberry.field(
        default=False, description="True when this idempotency key was used before (no change)."
    )
    errors: list[RewardError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.input(description="A code typed or scanned at the till of one shop.")
class RedemptionCodeInput:
    """Input of redemptionValidate and redemptionConsume."""

    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop at whose till the code is shown.")
    code: str = strawberry.field(description="The code; case, spaces, dashes and look-alike letters are forgiven.")
    order_external_id: str = strawberry.field(default="", description="The shop's order it is used on (consume only).")


@strawberry.type(description="Result of a till operation or a cancellation.")
class RedemptionPayload:
    """The redemption, or coded errors."""

    redemption: Redemption | None = strawberry.field(default=None, description="The redemption; null when refused.")
    errors: list[RewardError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.input(description="Which redemption to cancel.")
class RedemptionCancelInput:
    """Input of redemptionCancel."""

    redemption_id: strawberry.ID = strawberry.field(description="Global id of the redemption.")


@strawberry.input(description="A reward's settings, as an owner or manager sets them.")
class RewardInputType:
    """Settings of rewardCreate / rewardUpdate."""

    name: str = strawberry.field(description="Name, 1-200 characters.")
    kind: RewardKind = strawberry.field(description="What it gives.")
    points_cost: int = strawberry.field(description="Points it costs, 1 to 1,000,000,000.")
    description: str = strawberry.field(default="", description="Description.")
    # Nullable with a null default rather than ``JSON! = {}``: graphql-core cannot print a JSON
    # object default in introspection (every GraphiQL load logged a TypeError). Null means none.
    translations: JSON | None = strawberry.field(
        default=None,
        description=(
            'Per language (up to 20): {"fa": {"name": "...", "description": "..."}}, texts of at most 200 '
            "(name) and 2000 (description) characters; null: none; any other shape is INVALID_INPUT."
        ),
    )
    value: Decimal | None = strawberry.field(
        default=None, description="Shop currency (fixed amount, > 0) or percent (percentage, 0-100]."
    )
    min_tier_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the lowest tier.")
    stock: int | None = strawberry.field(default=None, description="Units available; null = unlimited.")
    per_member_limit: int | None = strawberry.field(default=None, description="Per member per period; null = none.")
    limit_period: LimitPeriod = strawberry.field(default=LimitPeriod.EVER, description="Period of the limit.")
    valid_from: dt.datetime | None = strawberry.field(default=None, description="Offered from.")
    valid_until: dt.datetime | None = strawberry.field(default=None, description="Offered until (exclusive).")
    image_url: str = strawberry.field(default="", description="Picture URL (http or https).")
    sort_order: int = strawberry.field(default=0, description="Display order.")
    code_lifetime_days: int = strawberry.field(default=30, description="Days a code stays valid, 1-3650.")
    refund_on_expiry: bool = strawberry.field(default=True, description="Points come back when a code expires.")

    def to_domain(self) -> RewardInput:
        """The service's input (tier id decoded; an unknown tier id fails validation)."""
        min_tier = decode_global_id(self.min_tier_id, "Tier") if self.min_tier_id else None
        return RewardInput(
            name=self.name,
            kind=self.kind.value,
            points_cost=self.points_cost,
            description=self.description,
            translations=(
                {}
                if self.translations is None
                else self.translations
                if isinstance(self.translations, dict)
                else {"?": {}}
            ),
            value=self.value,
            min_tier_id=(min_tier or 0) if self.min_tier_id else None,
            stock=self.stock,
            per_member_limit=self.per_member_limit,
            limit_period=self.limit_period.value,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            image_url=self.image_url,
            sort_order=self.sort_order,
            code_lifetime_days=self.code_lifetime_days,
            refund_on_expiry=self.refund_on_expiry,
        )


@strawberry.type(description="Result of rewardCreate, rewardUpdate and rewardArchive.")
class RewardPayload:
    """The reward as saved, or coded errors."""

    reward: Reward | None = strawberry.field(default=None, description="The reward; null when refused.")
    errors: list[RewardError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id.")]


@strawberry.type
class RewardsMutation:
    """Members redeem and cancel; staff validate and consume at the till; owners edit the catalogue."""

    @strawberry.mutation(
        description=(
            "Spend available points on a reward (the member). Idempotent per member on idempotencyKey. Codes: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, REWARD_INACTIVE, TIER_REQUIRED, LIMIT_REACHED, "
            "INSUFFICIENT_POINTS, OUT_OF_STOCK, IDEMPOTENCY_CONFLICT, INVALID_INPUT."
        )
    )
    @handle_domain_errors(RewardRedeemPayload, RewardError)
    def reward_redeem(
        self,
        info: Info,
        input: Annotated[RewardRedeemInput, strawberry.argument(description="The reward.")],
        idempotency_key: Annotated[str, strawberry.argument(description="Unique per redemption for this member.")],
    ) -> RewardRedeemPayload:
        """Call ``reward_redeem``."""
        result = reward_redeem(
            user=current_user(info),
            reward_id=decode_global_id(input.reward_id, "Reward") or 0,
            idempotency_key=idempotency_key,
        )
        return RewardRedeemPayload(redemption=cast(Redemption, result.redemption), replayed=result.replayed)

    @strawberry.mutation(
        description=(
            "What a code is for, without changing anything (capability till:use: any staff role of the shop). "
            "Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, RATE_LIMITED, CODE_INVALID, CODE_ALREADY_USED, "
            "CODE_CANCELLED, CODE_EXPIRED."
        )
    )
    @handle_domain_errors(RedemptionPayload, RewardError)
    def redemption_validate(
        self, info: Info, input: Annotated[RedemptionCodeInput, strawberry.argument(description="Shop and code.")]
    ) -> RedemptionPayload:
        """Call ``redemption_validate``."""
        found = redemption_validate(
            user=current_user(info), shop_id=decode_global_id(input.shop_id, "Shop") or 0, code=input.code
        )
        return RedemptionPayload(redemption=cast(Redemption, found))

    @strawberry.mutation(
        description="Mark a code used, exactly once (capability till:use). Codes as redemptionValidate."
    )
    @handle_domain_errors(RedemptionPayload, RewardError)
    def redemption_consume(
        self, info: Info, input: Annotated[RedemptionCodeInput, strawberry.argument(description="Shop and code.")]
    ) -> RedemptionPayload:
        """Call ``redemption_consume``."""
        used = redemption_consume(
            user=current_user(info),
            shop_id=decode_global_id(input.shop_id, "Shop") or 0,
            code=input.code,
            order_external_id=input.order_external_id,
        )
        return RedemptionPayload(redemption=cast(Redemption, used))

    @strawberry.mutation(
        description=(
            "Cancel an issued redemption; its points come back (the member, or the shop's staff with till:use). Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, NOT_CANCELLABLE."
        )
    )
    @handle_domain_errors(RedemptionPayload, RewardError)
    def redemption_cancel(
        self, info: Info, input: Annotated[RedemptionCancelInput, strawberry.argument(description="The redemption.")]
    ) -> RedemptionPayload:
        """Call ``redemption_cancel``."""
        cancelled = redemption_cancel(
            user=current_user(info), redemption_id=decode_global_id(input.redemption_id, "Redemption") or 0
        )
        return RedemptionPayload(redemption=cast(Redemption, cancelled))

    @strawberry.mutation(
        description=(
            "Add a reward to a shop's catalogue (owner or manager). Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, "
            "NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(RewardPayload, RewardError)
    def reward_create(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[RewardInputType, strawberry.argument(description="The reward's settings.")],
    ) -> RewardPayload:
        """Call ``reward_create``."""
        reward = reward_create(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
        )
        return RewardPayload(reward=cast(Reward, reward))

    @strawberry.mutation(description="Change a reward's settings (owner or manager). Codes as rewardCreate.")
    @handle_domain_errors(RewardPayload, RewardError)
    def reward_update(
        self,
        info: Info,
        reward_id: ID_ARG,
        input: Annotated[RewardInputType, strawberry.argument(description="The reward's new settings.")],
    ) -> RewardPayload:
        """Call ``reward_update``."""
        reward = reward_update(
            user=current_user(info), reward_id=decode_global_id(reward_id, "Reward") or 0, data=input.to_domain()
        )
        return RewardPayload(reward=cast(Reward, reward))

    @strawberry.mutation(
        description="Take a reward out of the catalogue; past redemptions still show it. Codes as rewardUpdate."
    )
    @handle_domain_errors(RewardPayload, RewardError)
    def reward_archive(self, info: Info, reward_id: ID_ARG) -> RewardPayload:
        """Call ``reward_archive``."""
        reward = reward_archive(user=current_user(info), reward_id=decode_global_id(reward_id, "Reward") or 0)
        return RewardPayload(reward=cast(Reward, reward))

    @strawberry.mutation(
        description=(
            "Put an archived reward back in the catalogue (owner or manager); its validity window still applies. "
            "Codes as rewardUpdate."
        )
    )
    @handle_domain_errors(RewardPayload, RewardError)
    def reward_restore(self, info: Info, reward_id: ID_ARG) -> RewardPayload:
        """Call ``reward_restore``."""
        reward = reward_restore(user=current_user(info), reward_id=decode_global_id(reward_id, "Reward") or 0)
        return RewardPayload(reward=cast(Reward, reward))
