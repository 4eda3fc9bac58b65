"""Referral reads that matter: a member's referrals, a shop's list and its analytics."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from loyalty.models import EntryKind, LoyaltyProgram, PointsEntry, SourceType
from marketplace.models import Order, OrderStatus
from referrals.models import Referral, ReferralCode, ReferralStatus


def code_normalise(raw: str) -> str:
    """What people type to the stored form: upper case, no spaces or dashes, I/L -> 1, O -> 0."""
    cleaned = "".join(ch for ch in raw.upper() if ch not in " -_\t")
    return cleaned.translate(str.maketrans({"I": "1", "L": "1", "O": "0"}))


def referral_code_find(raw: str) -> ReferralCode | None:
    """The referral code a shared link or typed text names, with its shop, when the shop's referrals
    are enabled; ``None`` for an unknown code or a shop with referrals off (one query).

    Used by the link landing page (``/r/<code>``) to learn the shop before ``referralApply``.
    Over-long input (more than 32 characters) is refused before any query.
    """
    if len(raw) > 32:
        return None
    return (
        ReferralCode.objects.select_related("account__program__shop")
        .filter(code=code_normalise(raw), account__program__referral_settings__enabled=True)
        .first()
    )


def referrals_made(code: ReferralCode) -> QuerySet[Referral]:
    """Referrals made with ``code``, newest first."""
    return Referral.objects.filter(code=code).select_related("referee").order_by("-applied_at", "-pk")


def program_referrals(program: LoyaltyProgram, status: str | None = None) -> QuerySet[Referral]:
    """The program's referrals (optionally of one status), newest first."""
    rows = Referral.objects.filter(program=program).select_related("code__account__customer", "referee")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-applied_at", "-pk")


@dataclass(frozen=True)
class ReferralAnalytics:
    """Referral figures of one program (all time)."""

    codes_shared: int
    applied: int
    completed: int
    expired: int
    reversed: int
    bonus_points_issued: int
    referred_revenue: Decimal


def referral_analytics(program: LoyaltyProgram) -> ReferralAnalytics:
    """Codes shared (created), referrals applied / completed / expired / reversed, bonus points issued
    (net of reversals) and revenue from referred customers (goods of their delivered orders in
    the shop not fully returned, completed referrals only)."""
    counts = Referral.objects.filter(program=program).aggregate(
        applied=Count("pk"),
        completed=Count("pk", filter=Q(status=ReferralStatus.COMPLETED)),
        expired=Count("pk", filter=Q(status=ReferralStatus.EXPIRED)),
        reversed=Count("pk", filter=Q(status=ReferralStatus.REVERSED)),
    )
    points = PointsEntry.objects.filter(
        account__program=program, source_type=SourceType.REFERRAL, kind__in=[EntryKind.BONUS, EntryKind.REVERSE]
    ).aggregate(total=Sum("points"))["total"]
    referees = Referral.objects.filter(program=program, status=ReferralStatus.COMPLETED).values("referee_id")
    revenue = (
        Order.objects.filter(shop_id=program.shop_id, customer_id__in=referees, delivered_at__isnull=False)
        .exclude(status__in=[OrderStatus.RETURNED, OrderStatus.REFUNDED])
        .aggregate(total=Sum("goods_amount"))["total"]
    )
    return ReferralAnalytics(
        codes_shared=ReferralCode.objects.filter(account__program=program).count(),
        applied=counts["applied"] or 0,
        completed=counts["completed"] or 0,
        expired=counts["expired"] or 0,
        reversed=counts["reversed"] or 0,
        bonus_points_issued=points or 0,
        referred_revenue=revenue or Decimal("0.00"),
    )
