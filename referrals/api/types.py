"""GraphQL types of the referrals app and its parts of ``Shop``, ``MemberAccount`` and ``Viewer``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info

from config.graphql.context import ViewerIdentity, require_shop_role
from loyalty import models as loyalty_models
from marketplace import models as mp
from marketplace.models import StaffRole
from referrals import models
from referrals.errors import ReferralErrorCode as DomainReferralErrorCode
from referrals.selectors import program_referrals, referral_analytics
from referrals.services import referral_code_for, referral_link, referral_settings

SHOP = Annotated["Shop", strawberry.lazy("config.graphql.nodes")]  # noqa: F821  (resolved lazily)

ReferralStatus = strawberry.enum(
    models.ReferralStatus, name="ReferralStatus", description="Open, completed, expired or reversed."
)
ReferralErrorCode = strawberry.enum(
    DomainReferralErrorCode, name="ReferralErrorCode", description="Why a referral operation was refused."
)


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
            "Referral codes issued to members. A code is issued when the member first opens their referrals "
            "(or staff open the member); where it is then shared is not tracked."
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


def _code_of(account: loyalty_models.MemberAccount) -> ReferralCode | None:
    """The account's code (created on first read) when the program's referrals are enabled."""
    found = referral_settings(account.program)
    if found is None or not found.enabled:
        return None
    code = referral_code_for(account)
    made = list(models.Referral.objects.filter(code=code).select_related("referee", "code", "program__shop"))
    made.sort(key=lambda r: (r.applied_at, r.pk), reverse=True)
    return ReferralCode(
        code=code.code,
        link=referral_link(code.code),
        shop_id=strawberry.ID(relay.to_base64("Shop", account.program.shop_id)),
        shop_name=account.program.shop.name,
        referrals=cast(list[Referral], made),
        points_earned=sum(r.referrer_points for r in made if r.status == models.ReferralStatus.COMPLETED),
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
        description="Referrals in this shop, newest first (its staff). Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
    )
    def referrals(
        self,
        info: Info,
        status: Annotated[ReferralStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> list[Referral]:
        """The shop's referrals for its staff."""
        shop = cast(mp.Shop, self)
        require_shop_role(info, shop_id=shop.pk, message="Only the shop's staff can see its referrals.")
        program = getattr(shop, "program", None)
        if program is None:
            return []
        return cast(list[Referral], list(program_referrals(program, status.value if status else None)))

    @strawberry_django.field(
        description="Referral figures (owner or manager). Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
    )
    def referral_analytics(self, info: Info) -> ReferralAnalytics | None:
        """Codes shared, applied, completed, bonus points issued, revenue from referred customers."""
        shop = cast(mp.Shop, self)
        require_shop_role(
            info,
            shop_id=shop.pk,
            message="Only the shop's owner or manager see referral analytics.",
            roles=(StaffRole.OWNER, StaffRole.MANAGER),
        )
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
        description="The member's code and link in this shop (created on first read); null when referrals are off."
    )
    def referral_code(self) -> ReferralCode | None:
        """The code with its referrals."""
        return _code_of(cast(loyalty_models.MemberAccount, self))


@strawberry.type(name="ViewerReferralsPart", description="Referrals part of Viewer (not in the schema).")
class ViewerReferralsPart:
    """The member's referrals across all shops."""

    @strawberry.field(description="The viewer's referral codes, referrals made and received, and points earned.")
    def referrals(self) -> ViewerReferrals:
        """Empty for a staff-only login."""
        customer_id = cast(ViewerIdentity, self).customer_id or 0
        accounts = loyalty_models.MemberAccount.objects.filter(customer_id=customer_id).select_related("program__shop")
        codes = [code for code in (_code_of(account) for account in accounts.order_by("pk")) if code is not None]
        received = list(
            models.Referral.objects.filter(referee_id=customer_id)
            .select_related("referee", "code", "program__shop")
            .order_by("-applied_at", "-pk")
        )
        earned = sum(code.points_earned for code in codes) + sum(
            r.referee_points for r in received if r.status == models.ReferralStatus.COMPLETED
        )
        return ViewerReferrals(codes=codes, received=cast(list[Referral], received), points_earned=earned)
