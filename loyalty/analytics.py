"""Shop analytics for the owner's dashboard: members, points, liability, breakage and a time series.

One selector, :func:`shop_analytics`, aggregated in SQL: it runs a fixed number of queries
(:data:`ANALYTICS_QUERIES`) whatever the number of members, ledger entries, orders or days.
Figures over a period read *business* time (``PointsEntry.created_at``, ``enrolled_at``,
``delivered_at``) between local midnights of the shop's time zone; liability, breakage and the
tier distribution are the state *now* (the accounts' cached balances).

Which ledger kinds count where (points are signed on the entries; every figure is an integer):

==================  =========================================================================
points_issued       sum of EARN + BONUS (earned on orders, bonuses)
points_reversed     -sum of REVERSE (earnings taken back by returns and refunds)
points_redeemed     -(sum of REDEEM + sum of REFUND): redemptions net of those given back
                    (code cancelled or expired unused), the same netting as ``points_redeemed``
                    on the account
points_expired      -sum of EXPIRE
points_adjusted     sum of ADJUST, signed (staff corrections either way)
==================  =========================================================================

RELEASE entries (pending becoming available) move no points in or out and count nowhere.

Breakage follows the practice of IFRS 15 (B46) / ASC 606-10-55-48: the share of outstanding
points expected never to be redeemed is estimated from the historical pattern, here the
*ultimate breakage rate* ``lifetime expired / (lifetime expired + lifetime redeemed)`` over the
shop's accounts, applied to the outstanding points.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, Tier
from marketplace.models import Order

#: Longest period, in days (inclusive), that one call may cover.
MAX_RANGE_DAYS = 366
#: Bounds of ``top`` (how many top members to list).
TOP_MIN, TOP_MAX = 1, 20
#: Days before the end of the period in which a member must have earned or redeemed to be active.
ACTIVE_DAYS = 90
#: Queries :func:`shop_analytics` runs: program and shop, tiers, accounts, entries by bucket,
#: enrolments by bucket, orders by bucket, top members.
ANALYTICS_QUERIES = 7

ISSUED_KINDS = (EntryKind.EARN, EntryKind.BONUS)
REDEEMED_KINDS = (EntryKind.REDEEM, EntryKind.REFUND)
#: Kinds that show a member acting (buying or redeeming), for ``members_active``.
ACTIVITY_KINDS = (EntryKind.EARN, EntryKind.REDEEM)

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


class Granularity(enum.StrEnum):
    """Bucket size of the time series: a local calendar day, or an ISO week starting on Monday."""

    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class TierCount:
    """Members holding one tier now."""

    tier_id: int
    name: str
    position: int
    members: int


@dataclass(frozen=True)
class TopMember:
    """A member ranked by points issued to them (EARN + BONUS) in the period."""

    account_id: int
    display_name: str
    tier_name: str | None
    points: int


@dataclass(frozen=True)
class SeriesBucket:
    """One day or week of the series (``start`` is the local date it begins); zeros when idle."""

    start: dt.date
    points_issued: int = 0
    points_reversed: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    points_adjusted: int = 0
    members_new: int = 0
    orders_delivered: int = 0
    revenue: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ShopAnalytics:
    """The dashboard figures of one shop over ``start``..``end`` (inclusive local dates).

    Period figures: ``members_new``, ``points_*``, ``redemption_rate``, ``orders_count``,
    ``average_order_value``, ``top_members``, ``series``. As of the end of the period:
    ``members_total``, ``members_active``. As of now: ``tier_distribution``, ``liability_*``,
    ``breakage_*``. Money is ``Decimal`` in ``currency`` with 2 places (ROUND_HALF_UP); rates are
    ``Decimal`` with 4 places, ``None`` when undefined.
    """

    start: dt.date
    end: dt.date
    granularity: Granularity
    timezone: str
    currency: str
    point_value: Decimal
    generated_at: dt.datetime
    members_total: int
    members_new: int
    members_active: int
    tier_distribution: tuple[TierCount, ...]
    points_issued: int
    points_reversed: int
    points_redeemed: int
    points_expired: int
    points_adjusted: int
    liability_points: int
    liability_points_available: int
    liability_points_pending: int
    liability_amount: Decimal
    redemption_rate: Decimal | None
    breakage_rate: Decimal | None
    breakage_points_estimate: int
    breakage_amount_estimate: Decimal
    orders_count: int
    revenue: Decimal
    average_order_value: Decimal | None
    top_members: tuple[TopMember, ...]
    series: tuple[SeriesBucket, ...]


def _invalid(message: str, field: str) -> LoyaltyError:
    return LoyaltyError(LoyaltyErrorCode.INVALID_INPUT, message, field)


def _validate(start: dt.date, end: dt.date, granularity: str, top: int) -> Granularity:
    """The granularity as an enum; raise ``LoyaltyError(INVALID_INPUT)`` for a bad argument."""
    if end < start:
        raise _invalid("The period ends before it starts.", "to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise _invalid(f"The period may cover at most {MAX_RANGE_DAYS} days.", "to")
    try:
        parsed = Granularity(str(granularity).lower())
    except ValueError:
        raise _invalid("Granularity is day or week.", "granularity") from None
    if isinstance(top, bool) or not TOP_MIN <= top <= TOP_MAX:
        raise _invalid(f"Top lists {TOP_MIN} to {TOP_MAX} members.", "top")
    return parsed


def _bucket_starts(start: dt.date, end: dt.date, granularity: Granularity) -> list[dt.date]:
    """Local dates every bucket of ``start``..``end`` begins on (weeks begin on the Monday)."""
    if granularity == Granularity.DAY:
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    monday = start - dt.timedelta(days=start.weekday())
    return [monday + dt.timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]


def _bucket_date(value: dt.date | dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The local date of a truncated value (TruncWeek gives a local midnight, TruncDate a date)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).date() if timezone.is_aware(value) else value.date()
    return value


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def shop_analytics(
    *,
    shop_id: int,
    start: dt.date,
    end: dt.date,
    granularity: str,
    now: dt.datetime | None = None,
    top: int = 5,
) -> ShopAnalytics:
    """The analytics of a shop's program over the local calendar days ``start``..``end`` inclusive.

    The period is [``start`` 00:00, ``end`` + 1 day 00:00) in the shop's time zone
    (``Shop.timezone``), so an entry at 23:30 in New York counts on that New York day whatever
    its UTC date. Definitions:

    - ``members_total``: accounts enrolled before the end of the period; ``members_new``:
      enrolled inside it; ``members_active``: accounts with an earning (EARN) or a redemption
      (REDEEM) in the 90 days before the end of the period (by entries, so a past period is
      read as it was, and system movements such as releases and expiries do not count).
    - ``tier_distribution``: members holding each tier of the program now, every tier (zero
      included), lowest first.
    - ``points_*``: see the module docstring for the kinds; ``redemption_rate`` =
      redeemed / issued over the period (4 places; ``None`` when nothing was issued).
    - ``liability_points``: available + pending points of all accounts now (also split);
      ``liability_amount`` = points x ``point_value``, 2 places, ROUND_HALF_UP.
    - ``breakage_rate``: lifetime expired / (lifetime expired + lifetime redeemed) over the
      accounts (``None`` when both are 0); ``breakage_points_estimate`` =
      floor(rate x liability points), computed on the exact fraction; its amount in currency.
    - ``orders_count`` / ``revenue`` / ``average_order_value``: members' orders (the customer
      has an account in the program) whose ``delivered_at`` is in the period, whatever their
      status now; goods only (no shipping); the average is ``None`` without orders.
    - ``top_members``: up to ``top`` accounts by points issued (EARN + BONUS) in the period,
      ties by account id; members with nothing issued are not listed.
    - ``series``: one bucket per local day or ISO week (Monday) covering the period, empty
      buckets included; a week's figures count only the days inside the period.

    Raises ``LoyaltyError(INVALID_INPUT)`` (field ``to``: end before start or more than 366
    days; ``granularity``: not day or week; ``top``: not 1..20) before any query, and
    ``LoyaltyError(NOT_FOUND)`` when the shop runs no program. Read-only; runs exactly
    :data:`ANALYTICS_QUERIES` queries.
    """
    grain = _validate(start, end, granularity, top)
    now = now or timezone.now()
    program = LoyaltyProgram.objects.select_related("shop").filter(shop_id=shop_id).first()
    if program is None:
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "The shop runs no loyalty program.", None)
    shop = program.shop
    tz = zoneinfo.ZoneInfo(shop.timezone)
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    active_from = end_at - dt.timedelta(days=ACTIVE_DAYS)
    trunc = TruncDate if grain == Granularity.DAY else TruncWeek

    accounts = MemberAccount.objects.filter(program=program)
    tiers = list(_tier_counts(program))
    totals = accounts.aggregate(
        total=Count("pk", filter=Q(enrolled_at__lt=end_at)),
        new=Count("pk", filter=Q(enrolled_at__gte=start_at, enrolled_at__lt=end_at)),
        active=Count(
            "pk",
            filter=Q(
                Exists(
                    PointsEntry.objects.filter(
                        account=OuterRef("pk"),
                        kind__in=ACTIVITY_KINDS,
                        created_at__gte=active_from,
                        created_at__lt=end_at,
                    )
                )
            ),
        ),
        available=Sum("points_available"),
        pending=Sum("points_pending"),
        expired=Sum("points_expired"),
        redeemed=Sum("points_redeemed"),
    )
    entry_rows = (
        PointsEntry.objects.filter(account__program=program, created_at__gte=start_at, created_at__lt=end_at)
        .annotate(bucket=trunc("created_at", tzinfo=tz))
        .values("bucket")
        .annotate(
            issued=Sum("points", filter=Q(kind__in=ISSUED_KINDS)),
            reversed=Sum("points", filter=Q(kind=EntryKind.REVERSE)),
            redeemed=Sum("points", filter=Q(kind__in=REDEEMED_KINDS)),
            expired=Sum("points", filter=Q(kind=EntryKind.EXPIRE)),
            adjusted=Sum("points", filter=Q(kind=EntryKind.ADJUST)),
        )
        .order_by("bucket")
    )
    enrol_rows = (
        accounts.filter(enrolled_at__gte=start_at, enrolled_at__lt=end_at)
        .annotate(bucket=trunc("enrolled_at", tzinfo=tz))
        .values("bucket")
        .annotate(new=Count("pk"))
        .order_by("bucket")
    )
    order_rows = (
        Order.objects.filter(
            shop_id=shop.pk,
            delivered_at__gte=start_at,
            delivered_at__lt=end_at,
            customer__accounts__program=program,
        )
        .annotate(bucket=trunc("delivered_at", tzinfo=tz))
        .values("bucket")
        .annotate(orders=Count("pk"), revenue=Sum("goods_amount"))
        .order_by("bucket")
    )
    buckets: dict[dt.date, dict] = {day: {} for day in _bucket_starts(start, end, grain)}
    for entry_row in entry_rows:
        buckets[_bucket_date(entry_row["bucket"], tz)].update(
            points_issued=entry_row["issued"] or 0,
            points_reversed=-(entry_row["reversed"] or 0),
            points_redeemed=-(entry_row["redeemed"] or 0),
            points_expired=-(entry_row["expired"] or 0),
            points_adjusted=entry_row["adjusted"] or 0,
        )
    for enrol_row in enrol_rows:
        buckets[_bucket_date(enrol_row["bucket"], tz)]["members_new"] = enrol_row["new"]
    for order_row in order_rows:
        buckets[_bucket_date(order_row["bucket"], tz)].update(
            orders_delivered=order_row["orders"], revenue=_money(order_row["revenue"] or Decimal("0"))
        )
    series = tuple(SeriesBucket(start=day, **figures) for day, figures in buckets.items())
    top_members = _top_members(program, start_at, end_at, top)

    issued = sum(b.points_issued for b in series)
    redeemed = sum(b.points_redeemed for b in series)
    orders_count = sum(b.orders_delivered for b in series)
    revenue = sum((b.revenue for b in series), Decimal("0.00"))
    available, pending = totals["available"] or 0, totals["pending"] or 0
    outstanding = available + pending
    lifetime_expired, lifetime_redeemed = totals["expired"] or 0, totals["redeemed"] or 0
    settled = lifetime_expired + lifetime_redeemed
    breakage_points = lifetime_expired * outstanding // settled if settled else 0
    return ShopAnalytics(
        start=start,
        end=end,
        granularity=grain,
        timezone=shop.timezone,
        currency=shop.currency,
        point_value=program.point_value,
        generated_at=now,
        members_total=totals["total"],
        members_new=totals["new"],
        members_active=totals["active"],
        tier_distribution=tuple(tiers),
        points_issued=issued,
        points_reversed=sum(b.points_reversed for b in series),
        points_redeemed=redeemed,
        points_expired=sum(b.points_expired for b in series),
        points_adjusted=sum(b.points_adjusted for b in series),
        liability_points=outstanding,
        liability_points_available=available,
        liability_points_pending=pending,
        liability_amount=_money(outstanding * program.point_value),
        redemption_rate=_rate(redeemed, issued),
        breakage_rate=_rate(lifetime_expired, settled),
        breakage_points_estimate=breakage_points,
        breakage_amount_estimate=_money(breakage_points * program.point_value),
        orders_count=orders_count,
        revenue=revenue,
        average_order_value=_money(revenue / orders_count) if orders_count else None,
        top_members=top_members,
        series=series,
    )


def _tier_counts(program: LoyaltyProgram) -> list[TierCount]:
    """Every tier of the program, lowest first, with the members holding it now (one query)."""
    holders = (
        MemberAccount.objects.filter(tier=OuterRef("pk")).order_by().values("tier").annotate(n=Count("pk")).values("n")
    )
    rows = (
        Tier.objects.filter(program=program)
        .annotate(members=Coalesce(Subquery(holders, output_field=IntegerField()), Value(0)))
        .order_by("position")
        .values_list("pk", "name", "position", "members")
    )
    return [
        TierCount(tier_id=pk, name=name, position=position, members=members) for pk, name, position, members in rows
    ]


def _top_members(
    program: LoyaltyProgram, start_at: dt.datetime, end_at: dt.datetime, top: int
) -> tuple[TopMember, ...]:
    """Up to ``top`` accounts by points issued in [start_at, end_at), ties by account id (one query)."""
    rows = (
        PointsEntry.objects.filter(
            account__program=program, kind__in=ISSUED_KINDS, created_at__gte=start_at, created_at__lt=end_at
        )
        .values("account_id", "account__customer__display_name", "account__tier__name")
        .annotate(points=Sum("points"))
        .order_by("-points", "account_id")[:top]
    )
    return tuple(
        TopMember(
            account_id=row["account_id"],
            display_name=row["account__customer__display_name"],
            tier_name=row["account__tier__name"],
            points=row["points"],
        )
        for row in rows
    )
