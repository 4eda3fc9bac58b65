"""Referrals' part of the GraphQL schema: a friend applies a code; owners set the program.

Resolvers are thin: they decode ids, call one service and map :class:`ReferralError` to the
payload's coded errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import PayloadError, handle_domain_errors
from api_core.ids import decode_global_id
from referrals.api.types import SHOP, Referral, ReferralCodeLookup, ReferralErrorCode, ReferralSettings, _settings
from referrals.errors import ReferralErrorCode as DomainReferralErrorCode
from referrals.selectors import referral_code_find
from referrals.services import ReferralSettingsInput, referral_apply, referral_settings_save


@strawberry.type(description="A refused referral operation; nothing was changed.")
class ReferralError(PayloadError):
    """One reason a referral operation was refused."""

    codes = DomainReferralErrorCode
    code: ReferralErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="Result of referralApply.")
class ReferralApplyPayload:
    """The open referral, or coded errors."""

    referral: Referral | None = strawberry.field(default=None, description="The referral; null when refused.")
    errors: list[ReferralError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.input(description="Referral settings; omitted fields keep their value.")
class ReferralSettingsInputType:
    """Input of referralSettingsUpdate."""

    enabled: bool | None = strawberry.field(default=None, description="Turn referrals on or off.")
    referrer_bonus_points: int | None = strawberry.field(default=None, description="Points for the referrer, >= 0.")
    referee_bonus_points: int | None = strawberry.field(default=None, description="Points for the friend, >= 0.")
    min_order_amount: Decimal | None = strawberry.field(
        default=None, description="Goods amount of the qualifying first order, >= 0."
    )
    open_days: int | None = strawberry.field(default=None, description="Days a referral stays open, >= 1.")
    monthly_cap: int | None = strawberry.field(
        default=None, description="Completed referrals per referrer per month, >= 0."
    )
    clear_monthly_cap: bool = strawberry.field(default=False, description="True to remove the monthly cap.")


@strawberry.type(description="Result of referralSettingsUpdate.")
class ReferralSettingsPayload:
    """The saved settings, or coded errors."""

    settings: ReferralSettings | None = strawberry.field(default=None, description="The settings; null when refused.")
    errors: list[ReferralError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")]


@strawberry.type
class ReferralsQuery:
    """Public read side of referrals: what a shared link points at."""

    @strawberry.field(
        description=(
            "The shop of a shared referral code (public; the link /r/<code> lands here before referralApply). "
            "Null for an unknown code or a shop whose referrals are off; the member holding it is never shown."
        )
    )
    def referral_code(
        self, code: Annotated[str, strawberry.argument(description="The code; case, spaces and dashes are forgiven.")]
    ) -> ReferralCodeLookup | None:
        """Call ``referral_code_find``."""
        found = referral_code_find(code)
        if found is None:
            return None
        return ReferralCodeLookup(code=found.code, shop=cast(SHOP, found.account.program.shop))


@strawberry.type
class ReferralsMutation:
    """Friends apply codes; owners and managers set the referral program."""

    @strawberry.mutation(
        description=(
            "Apply a friend's referral code in a shop (a customer with no delivered order there yet). Codes: "
            "NOT_AUTHENTICATED, NOT_A_CUSTOMER, CODE_UNKNOWN, DISABLED, CODE_EXPIRED, OWN_CODE, SAME_CONTACT, "
            "ALREADY_REFERRED, ALREADY_CUSTOMER, CAP_REACHED."
        )
    )
    @handle_domain_errors(ReferralApplyPayload, ReferralError)
    def referral_apply(
        self,
        info: Info,
        shop_id: ID_ARG,
        code: Annotated[str, strawberry.argument(description="The code; case, spaces and dashes are forgiven.")],
    ) -> ReferralApplyPayload:
        """Call ``referral_apply``."""
        referral = referral_apply(user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, code=code)
        return ReferralApplyPayload(referral=cast(Referral, referral))

    @strawberry.mutation(
        description=(
            "Change a shop's referral settings (owner or manager). Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, "
            "NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(ReferralSettingsPayload, ReferralError)
    def referral_settings_update(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[ReferralSettingsInputType, strawberry.argument(description="The new settings.")],
    ) -> ReferralSettingsPayload:
        """Call ``referral_settings_save``."""
        data = ReferralSettingsInput(
            enabled=input.enabled,
            referrer_bonus_points=input.referrer_bonus_points,
            referee_bonus_points=input.referee_bonus_points,
            min_order_amount=input.min_order_amount,
            open_days=input.open_days,
            monthly_cap=input.monthly_cap,
            clear_monthly_cap=input.clear_monthly_cap,
        )
        saved = referral_settings_save(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=data
        )
        return ReferralSettingsPayload(settings=_settings(saved.program))
