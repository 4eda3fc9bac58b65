"""GraphQL types of the referrals app and its parts of ``Shop``, ``MemberAccount`` and ``Viewer``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry import relay

from api_core.context import ViewerIdentity
from api_core.permissions import requires
from loyalty import models as loyalty_models
from marketplace import models as mp
from marketplace.api.types import SHOP
from marketplace.permissions import Capability
from referrals import models
from referrals.errors import ReferralErrorCode as DomainReferralErrorCode
from referrals.selectors import (
    ACCOUNT_CODE_JOINS,
    ReferralCodeSummary,
    account_referral_code,
    program_referrals,
    referral_analytics,
    referrals_made_prefetch,
    viewer_referrals,
)
from referrals.services import referral_link, referral_settings

ReferralStatus = models.ReferralStatus
strawberry.enum(ReferralStatus, name="ReferralStatus", description="Open, completed, expired or reversed.")
ReferralErrorCode = DomainReferralErrorCode
strawberry.enum(ReferralErrorCode, name="ReferralErrorCode", description="Why a referral operation was refused.")


@strawberry_django.type(models.Referral, description="A friend who applied a member's referral code in one shop.")
class Referral:
    """One referral and what it gave."""

    status: ReferralStatus = strawberry_django.field(description="Open, completed, expired or reversed.")
    applied_at: dt.datetime = strawberry_django.field(description="When the friend applied the code.")
    expires_at: dt.datetime = strawberry_django.field(description="When it expires if still open.")
    completed_at: dt.datetime | None = strawberry_django.field(
        description="When the friend's first order completed it."
    )
    closed_at: dt.datetime | None = strawberry_django.field(description="When it expired or was reversed.")
    referrer_points: int = strawberry_django.field(description="Bonus points posted to the member who referred.")
    referee_points: int = strawberry_django.field(description="Bonus points posted to the friend.")

    @strawberry_django.field(description="The friend's display name.", select_related=["referee"])
    def friend_name(self) -> str:
        """Display name of the referee (may be empty)."""
        return cast(models.Referral, self).referee.display_name

    @strawberry_django.field(description="The code that was applied.", select_related=["code"])
    def code(self) -> str:
        """The referrer's code."""
        return cast(models.Referral, self).code.code

    @strawberry_django.field(description="Name of the shop of the referral.", select_related=["program__shop"])
    def shop_name(self) -> str:
        """The shop's display name."""
        return cast(models.Referral, self).program.shop.name


@strawberry.type(description="A member's referral code in one shop and its shareable link.")
class ReferralCode:
    """The code to share."""

    code: str = strawberry.field(description="The code: 8 Crockford base32 symbols, random.")
    link: str = strawberry.field(
        description="Shareable link (relative, /r/<code>); the dashboard opens the apply form."
    )
    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop.")
    shop_name: str = strawberry.field(description="Name of the shop.")
    referrals: list[Referral] = strawberry.field(description="Referrals made with this code, newest first.")
    points_earned: int = strawberry.field(description="Referrer bonus points earned with it (completed referrals).")


@strawberry.type(description="What a shared referral link names: the shop where its code can be applied.")
class ReferralCodeLookup:
    """Public face of a referral code: the shop, never the member who holds it."""

    code: str = strawberry.field(description="The code in its stored form (8 Crockford base32 symbols).")
    shop: SHOP = strawberry.field(description="The shop in which the code can be applied (referralApply).")


@strawberry.type(description="A shop's referral settings.")
class ReferralSettings:
    """Settings of the shop's referral program."""

    enabled: bool = strawberry.field(description="Whether codes can be applied and referrals complete.")
    referrer_bonus_points: int = strawberry.field(description="Points for the member who referred.")
    referee_bonus_points: int = strawberry.field(description="Points for the friend.")
    min_order_amount: Decimal = strawberry.field(description="Goods amount the friend's first order must reach.")
    open_days: int = strawberry.field(description="Days an applied referral stays open.")
    monthly_cap: int | None = strawberry.field(description="Completed referrals per referrer per month; null = none.")


@strawberry.type(description="Referral figures of one shop (all time).")
class ReferralAnalytics:
    """What referrals brought."""

    codes_shared: int = strawberry.field(
        description=(
            "Referral codes issued to members. A member gets a code on joining a program whose referrals are "
            "enabled, and every member does when the shop enables referrals; where it is then shared is not "
            "tracked."
        )
    )
    applied: int = strawberry.field(description="Codes applied by friends (referrals of every status).")
    completed: int = strawberry.field(description="Referrals completed by a qualifying order.")
    expired: int = strawberry.field(description="Referrals that expired open.")
    reversed: int = strawberry.field(description="Referrals reversed by a return.")
    bonus_points_issued: int = strawberry.field(description="Referral bonus points posted, net of reversals.")
    referred_revenue: Decimal = strawberry.field(
        description="Goods of delivered, not returned orders of referred (completed) customers, shop currency."
    )


def _settings(program: loyalty_models.LoyaltyProgram) -> ReferralSettings | None:
    found = referral_settings(program)
    if found is None:
        return None
    return ReferralSettings(
        enabled=found.enabled,
        referrer_bonus_points=found.referrer_bonus_points,
        referee_bonus_points=found.referee_bonus_points,
        min_order_amount=found.min_order_amount,
        open_days=found.open_days,
        monthly_cap=found.monthly_cap,
    )


def _code_of(summary: ReferralCodeSummary | None) -> ReferralCode | None:
    """The GraphQL form of a code read by ``referrals.selectors`` (``None`` stays ``None``)."""
    if summary is None:
        return None
    program = summary.account.program
    return ReferralCode(
        code=summary.code.code,
        link=referral_link(summary.code.code),
        shop_id=strawberry.ID(relay.to_base64("Shop", program.shop_id)),
        shop_name=program.shop.name,
        referrals=cast(list[Referral], summary.referrals),
        points_earned=summary.points_earned,
    )


@strawberry.type(description="The viewer's referrals in every shop.")
class ViewerReferrals:
    """Codes to share, referrals made with them and referrals received."""

    codes: list[ReferralCode] = strawberry.field(description="One code per shop whose referrals are enabled.")
    received: list[Referral] = strawberry.field(description="Codes the viewer applied as a friend.")
    points_earned: int = strawberry.field(description="Referral bonus points earned in every shop (both sides).")


@strawberry_django.type(mp.Shop, name="ShopReferralsPart", description="Referrals part of Shop (not in the schema).")
class ShopReferralsPart(relay.Node):
    """The shop's referral offer and, for its staff, referrals and analytics."""

    @strawberry_django.field(description="The shop's referral settings (public: the offer); null when never set.")
    def referral_settings(self) -> ReferralSettings | None:
        """The saved settings."""
        program = getattr(cast(mp.Shop, self), "program", None)
        return _settings(program) if program is not None else None

    @strawberry_django.field(
        description=(
            "Referrals in this shop, newest first (capability members:read: owner or manager). Errors: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[
            requires(Capability.READ_MEMBERS, message="Only the shop's owner or manager can see its referrals.")
        ],
    )
    def referrals(
        self,
        status: Annotated[ReferralStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[Referral]:
        """The shop's referrals (the capability is checked by the field's extension)."""
        shop = cast(mp.Shop, self)
        program = getattr(shop, "program", None)
        if program is None:
            return []
        return cast(list[Referral], list(program_referrals(program, status.value if status else None)))

    @strawberry_django.field(
        description=(
            "Referral figures (capability analytics:read: owner or manager). Errors: NOT_AUTHENTICATED, "
            "PERMISSION_DENIED."
        ),
        extensions=[
            requires(Capability.READ_ANALYTICS, message="Only the shop's owner or manager see referral analytics.")
        ],
    )
    def referral_analytics(self) -> ReferralAnalytics | None:
        """Codes shared, applied, completed, bonus points issued, revenue from referred customers."""
        shop = cast(mp.Shop, self)
        program = getattr(shop, "program", None)
        if program is None:
            return None
        figures = referral_analytics(program)
        return ReferralAnalytics(**figures.__dict__)


@strawberry_django.type(
    loyalty_models.MemberAccount,
    name="AccountReferralsPart",
    description="Referrals part of MemberAccount (not in the schema).",
)
class AccountReferralsPart(relay.Node):
    """The member's referral code in this shop."""

    @strawberry_django.field(
        description=(
            "The member's code and link in this shop (issued when they joined, or when the shop enabled "
            "referrals); null when referrals are off, or when no code was issued (a read never creates one)."
        ),
        select_related=list(ACCOUNT_CODE_JOINS),
        prefetch_related=[lambda info: referrals_made_prefetch()],
    )
    def referral_code(self) -> ReferralCode | None:
        """The code with its referrals, from the page-wide joins and prefetch (never created here)."""
        return _code_of(account_referral_code(account=cast(loyalty_models.MemberAccount, self)))


@strawberry.type(name="ViewerReferralsPart", description="Referrals part of Viewer (not in the schema).")
class ViewerReferralsPart:
    """The member's referrals across all shops."""

    @strawberry.field(description="The viewer's referral codes, referrals made and received, and points earned.")
    def referrals(self) -> ViewerReferrals:
        """Empty for a staff-only login; three queries whatever the accounts (``viewer_referrals``)."""
        found = viewer_referrals(customer_id=cast(ViewerIdentity, self).customer_id)
        codes = [code for code in (_code_of(summary) for summary in found.codes) if code is not None]
        return ViewerReferrals(
            codes=codes, received=cast(list[Referral], found.received), points_earned=found.points_earned
        )
