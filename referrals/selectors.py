"""Referral reads that matter: a member's referrals, a shop's list and its analytics.

Reads never write: a member's code is created by ``referrals.services`` when they join a program
whose referrals are enabled, or when the shop enables them; a read that finds none says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Model, Prefetch, Q, QuerySet, Sum

from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, SourceType
from marketplace.models import Order, OrderStatus
from referrals.models import Referral, ReferralCode, ReferralProgram, ReferralStatus


def code_normalise(raw: str) -> str:
    """What people type to the stored form: upper case, no spaces or dashes, I/L -> 1, O -> 0."""
    cleaned = "".join(ch for ch in raw.upper() if ch not in " -_\t")
    return cleaned.translate(str.maketrans("ILO", "110"))


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


#: Relations of a member account that :func:`account_referral_code` reads: join them
#: (``select_related``) to spare it a query each.
ACCOUNT_CODE_JOINS = ("program__shop", "program__referral_settings", "referral_code")
#: Attribute that :func:`referrals_made_prefetch` fills on each account's referral code.
REFERRALS_MADE = "referrals_made"


def referrals_made_prefetch() -> Prefetch:
    """Prefetch, for member accounts, of the referrals made with each one's code, newest first
    (friend, code and shop joined), into ``account.referral_code.referrals_made``.

    One query for any number of accounts (none when no account has a code); join
    ``referral_code`` first (:data:`ACCOUNT_CODE_JOINS`) or Django loads the codes in one more.
    """
    return Prefetch("referral_code__referrals", queryset=_referrals_made(), to_attr=REFERRALS_MADE)


def _referrals_made() -> QuerySet[Referral]:
    """Referrals newest first with friend, code and shop joined (lazy)."""
    return Referral.objects.select_related("referee", "code", "program__shop").order_by("-applied_at", "-pk")


@dataclass(frozen=True)
class ReferralCodeSummary:
    """A member's code in one shop: the account (program and shop loaded), the code, the
    referrals made with it (newest first) and the referrer bonus points they earned (completed
    referrals only, in points)."""

    account: MemberAccount
    code: ReferralCode
    referrals: list[Referral]
    points_earned: int


@dataclass(frozen=True)
class ViewerReferralsSummary:
    """A customer's referrals in every shop: their codes (one per shop whose referrals are
    enabled, oldest account first), the referrals they received as a friend (newest first),
    and the bonus points earned on both sides (completed referrals only)."""

    codes: list[ReferralCodeSummary]
    received: list[Referral]
    points_earned: int


def _related_or_none(instance: Model, name: str) -> Model | None:
    """``instance.<name>`` for a reverse one-to-one that may be absent (cached when joined, else one query)."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def account_referral_code(*, account: MemberAccount) -> ReferralCodeSummary | None:
    """The member's code in the account's shop with its referrals, or ``None`` when the shop's
    referrals are off (or never set) or the member has no code (codes are created by the
    services, never here).

    Never writes. No query when the account came with :data:`ACCOUNT_CODE_JOINS` joined and
    :func:`referrals_made_prefetch`; otherwise one per missing piece (program and shop, settings,
    code, referrals: at most five).
    """
    settings = _related_or_none(account.program, "referral_settings")
    if not isinstance(settings, ReferralProgram) or not settings.enabled:
        return None
    code = _related_or_none(account, "referral_code")
    if not isinstance(code, ReferralCode):
        return None
    made = getattr(code, REFERRALS_MADE, None)
    if made is None:
        made = list(_referrals_made().filter(code=code))
    earned = sum(r.referrer_points for r in made if r.status == ReferralStatus.COMPLETED)
    return ReferralCodeSummary(account=account, code=code, referrals=made, points_earned=earned)


def viewer_referrals(*, customer_id: int | None) -> ViewerReferralsSummary:
    """The customer's referral codes, the referrals made with them and received, and points earned.

    ``customer_id`` ``None`` (a staff-only login) gives an empty summary without a query.
    Otherwise three queries whatever the number of accounts: the accounts with an enabled
    program and a code (program, shop, settings and code joined), the referrals made with those
    codes (skipped when there is none), and the referrals received. Never writes.
    """
    if customer_id is None:
        return ViewerReferralsSummary(codes=[], received=[], points_earned=0)
    accounts = (
        MemberAccount.objects.filter(
            customer_id=customer_id, program__referral_settings__enabled=True, referral_code__isnull=False
        )
        .select_related(*ACCOUNT_CODE_JOINS)
        .prefetch_related(referrals_made_prefetch())
        .order_by("pk")
    )
    codes = [summary for summary in (account_referral_code(account=a) for a in accounts) if summary is not None]
    received = list(
        Referral.objects.filter(referee_id=customer_id)
        .select_related("referee", "code", "program__shop")
        .order_by("-applied_at", "-pk")
    )
    earned = sum(summary.points_earned for summary in codes) + sum(
        r.referee_points for r in received if r.status == ReferralStatus.COMPLETED
    )
    return ViewerReferralsSummary(codes=codes, received=received, points_earned=earned)


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
    """Codes shared (issued: every member of a program with referrals enabled has one), referrals
    applied / completed / expired / reversed, bonus points issued (net of reversals) and revenue
    from referred customers (goods of their delivered orders in the shop not fully returned,
    completed referrals only)."""
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


def on_order_replay_check(sender: object, *, program: LoyaltyProgram, **kwargs: object) -> str | None:
    """Receiver of ``loyalty.signals.order_replay_check``: a reason when ``program`` has referrals.

    Referral codes are given at enrolment (``post_save``) and referrals complete on a delivered
    order (``order_points_posted``); the set-based importer sends neither, so a program whose
    referrals are enabled, or that has any referral, is replayed event by event. Two queries.
    """
    if ReferralProgram.objects.filter(program=program, enabled=True).exists():
        return "referrals are enabled"
    if Referral.objects.filter(program=program).exists():
        return "the program has referrals"
    return None
