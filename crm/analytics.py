"""Customer analytics for the owner: retention and churn, tier moves, rewards, tiers and members' revenue.

One selector, :func:`customer_analytics`, aggregated in SQL: it runs a fixed number of queries
(:data:`CUSTOMER_ANALYTICS_QUERIES`) whatever the number of members, orders, tier changes,
redemptions or months. Like ``loyalty.analytics.shop_analytics`` it reads *business* time
(``delivered_at``, ``enrolled_at``, ``TierChange.created_at``, the redemption's ``issued_at`` /
``used_at`` / ``cancelled_at`` / ``expired_at`` and its ledger entries' ``created_at``) between
local midnights of the shop's time zone (``Shop.timezone``).

Two kinds of window:

- **Period figures** (rewards, tiers, revenue impact) cover the local days ``start``..``end``
  inclusive: [``start`` 00:00, ``end`` + 1 day 00:00) in the shop's zone.
- **Monthly figures** (retention, tier moves) cover every *whole* local calendar month the period
  touches (a period from 15 January covers all of January), because a cohort compared on part of
  a month with a whole previous month would read as churn. At most :data:`MAX_MONTHS` months.

Definitions (counts are ``int``; money is ``Decimal`` in the shop's currency, 2 places, half up;
rates are ``Decimal`` with 4 places, ``None`` when the base is 0):

**Visit.** An order of the customer in the shop that was delivered (``delivered_at`` set) and is
now DELIVERED or PARTIALLY_RETURNED: cancelled, returned and refunded orders are not visits (the
same rule as the member statistics, ``crm.services.stats.VISIT_STATUSES``). A visit belongs to
the local day, and month, of its ``delivered_at``.

**Revenue.** The goods a visit kept: ``goods_amount`` minus the returned units of its lines
(``unit_price x returned_quantity``); shipping is not revenue. This is the net spend of the
member statistics (``crm.services.stats``), so a partly returned order counts what was kept.

**Retention and churn per month.** Month-over-month retention as customer analytics defines it:
the customer retention rate is "the number of customers active at some point in the past and
still active, divided by the total number of customers at the same point in the past" (Cambashi,
*Customer Retention Rate*, https://cambashi-insights.com/encyclopedia/customer-retention-rate/),
taken month to month ("MoM retention ... the percentage of customers that are retained from month
to month; it's the opposite of your churn rate", Peel Insights, https://www.peelinsights.com/glossary/mom-retention).
A shop is a non-contractual setting where nobody announces they left (Fader & Hardie,
*Probability Models for Customer-Base Analysis*, Journal of Interactive Marketing 23, 2009), so
*active in a month* means *a visit in that month* and churn is read as "active last month, not
this month". Calendar months, not a rolling 30 or 90 days, so that the months add up and match
the period's other monthly figures. For each month M:

- ``members_active_before``: members (accounts of the shop's program, whatever their status)
  with at least one visit in month M-1 — the base of the month;
- ``members_active``: members with at least one visit in M;
- ``members_new``: members enrolled (``enrolled_at``) in M;
- ``members_retained``: members with a visit in M-1 and in M;
- ``members_churned``: ``members_active_before - members_retained`` (a visit in M-1, none in M);
- ``retention_rate`` = retained / active before; ``churn_rate`` = churned / active before
  (they add up to 1; both ``None`` when nobody was active in M-1).

A member who comes back after a gap is active in M without being retained (reactivated); the
difference ``members_active - members_retained`` counts them with the new members' first visits.

**Tier moves per month.** From the tier history (``loyalty.models.TierChange``) of the program's
members, changes whose ``created_at`` falls in the month: an *upgrade* moves to a tier of higher
``position`` than the one left, a *downgrade* to a lower one. Enrolment in the entry tier (no
tier left) is neither, nor is a requalification that keeps the tier (a change to the same
position). A refund that takes back the spend a tier was reached with moves the member down at
once; a requalification at the end of a window moves them down then. Positions are the tiers'
positions now (archived tiers keep theirs).
``distribution``: members per tier at the end of the month (the end of the local month, even
when it is still to come): each member holds the tier of their last change before that instant
(ties broken by the change's id); every current tier is listed, zero included, lowest first, and
an archived tier only while someone held it.

**Redemptions per reward** (every reward of the program, archived ones too, in catalogue order),
in the period: ``issued`` (``issued_at``), ``used`` (``used_at``), ``cancelled``
(``cancelled_at``), ``expired`` (``expired_at``) — each counted on the day it happened, so a code
issued before the period and used in it counts as used only; ``points_spent``: points of the codes
issued in the period minus points given back in it (the REFUND entries of cancelled codes and of
codes expired with ``refund_on_expiry``), the same netting as ``points_redeemed`` in
``loyalty.analytics``; ``members``: distinct members who were issued a code of it in the period.

**Member order.** A visit whose customer has an account in the shop's program enrolled at or
before its ``delivered_at``. Patron enrols a customer on their first order event, so the order
that enrolled them earned points and is a member order; orders delivered before the customer
joined, and orders of customers who never joined, are non-member orders.

**Orders per tier** (member orders delivered in the period, grouped by the member's tier *now*):
``orders``, ``members`` (distinct), ``revenue``, ``average_order_value`` = revenue / orders
(``None`` without orders), ``visits_per_member`` = orders / members (2 places, ``None`` without
members). Every current tier is listed, zero included, lowest first; then archived tiers and
"no tier" (a program without tiers) when they have orders.

**Revenue impact** (visits delivered in the period): member and non-member ``orders``,
``customers`` (distinct), ``revenue`` and ``average_order_value``, and
``member_revenue_share`` = member revenue / all revenue. The per-tier orders add up to the member
orders.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from crm.errors import CrmError, CrmErrorCode
from crm.services.stats import VISIT_STATUSES
from loyalty.models import LoyaltyProgram, MemberAccount, Tier, TierChange
from marketplace.models import MONEY_DIGITS, MONEY_PLACES, Order, OrderLine
from rewards.models import Reward

#: Most local calendar months one call may touch.
MAX_MONTHS = 24
#: Earliest and latest days a period may name (order times start in 1970; the end keeps the
#: month arithmetic and time-zone conversions far from Python's date range).
EARLIEST_DAY, LATEST_DAY = dt.date(1970, 1, 1), dt.date(2999, 12, 31)
#: Queries :func:`customer_analytics` runs: program and shop, tiers, retention, tier moves,
#: tier distribution, redemptions per reward, orders by membership and tier.
CUSTOMER_ANALYTICS_QUERIES = 7

CENT = Decimal(1).scaleb(-MONEY_PLACES)
RATE_PLACES = Decimal("0.0001")
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=MONEY_DIGITS + 6, decimal_places=MONEY_PLACES)


@dataclass(frozen=True)
class MonthRetention:
    """Retention and churn of one local calendar month (``month`` is its first day)."""

    month: dt.date
    members_active_before: int
    members_active: int
    members_new: int
    members_retained: int
    members_churned: int
    retention_rate: Decimal | None
    churn_rate: Decimal | None


@dataclass(frozen=True)
class TierHolders:
    """Members holding one tier at an instant."""

    tier_id: int
    name: str
    position: int
    members: int


@dataclass(frozen=True)
class MonthTierMoves:
    """Tier upgrades and downgrades of one local calendar month and the distribution at its end."""

    month: dt.date
    upgrades: int
    downgrades: int
    distribution: tuple[TierHolders, ...]


@dataclass(frozen=True)
class RewardRedemptions:
    """What happened to one reward's codes in the period."""

    reward_id: int
    name: str
    issued: int
    used: int
    cancelled: int
    expired: int
    points_spent: int
    members: int


@dataclass(frozen=True)
class TierOrders:
    """Member orders of the period by the member's tier now (``tier_id`` ``None``: no tier)."""

    tier_id: int | None
    name: str | None
    position: int | None
    orders: int
    members: int
    revenue: Decimal
    average_order_value: Decimal | None
    visits_per_member: Decimal | None


@dataclass(frozen=True)
class RevenueImpact:
    """Revenue of the period's visits from members and from non-members."""

    member_orders: int
    member_customers: int
    member_revenue: Decimal
    member_average_order_value: Decimal | None
    non_member_orders: int
    non_member_customers: int
    non_member_revenue: Decimal
    non_member_average_order_value: Decimal | None
    member_revenue_share: Decimal | None


@dataclass(frozen=True)
class CustomerAnalytics:
    """The customer analytics of one shop; see the module docstring for every definition."""

    start: dt.date
    end: dt.date
    timezone: str
    currency: str
    retention: tuple[MonthRetention, ...]
    tier_moves: tuple[MonthTierMoves, ...]
    rewards: tuple[RewardRedemptions, ...]
    tiers: tuple[TierOrders, ...]
    revenue: RevenueImpact


def _invalid(message: str, field: str) -> CrmError:
    return CrmError(CrmErrorCode.INVALID_INPUT, message, field)


def _month_count(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def customer_analytics(*, shop_id: int, start: dt.date, end: dt.date) -> CustomerAnalytics:
    """The customer analytics of a shop over the local days ``start``..``end`` inclusive.

    Period figures cover those days, monthly figures the whole local months they touch (module
    docstring). Raises ``CrmError(INVALID_INPUT)`` before any query when ``end`` is before
    ``start`` or the period touches more than :data:`MAX_MONTHS` months (field ``to``), or leaves
    :data:`EARLIEST_DAY` .. :data:`LATEST_DAY` (field ``from`` or ``to``), and
    ``CrmError(NOT_FOUND)`` when the shop runs no program. Read-only, no lock; runs exactly
    :data:`CUSTOMER_ANALYTICS_QUERIES` queries.
    """
    if end < start:
        raise _invalid("The period ends before it starts.", "to")
    if start < EARLIEST_DAY:
        raise _invalid(f"The period starts on {EARLIEST_DAY.isoformat()} or later.", "from")
    if end > LATEST_DAY:
        raise _invalid(f"The period ends on {LATEST_DAY.isoformat()} or earlier.", "to")
    if _month_count(start, end) > MAX_MONTHS:
        raise _invalid(f"The period may touch at most {MAX_MONTHS} calendar months.", "to")
    program = LoyaltyProgram.objects.select_related("shop").filter(shop_id=shop_id).first()
    if program is None:
        raise CrmError(CrmErrorCode.NOT_FOUND, "The shop runs no loyalty program.", None)
    shop = program.shop
    tz = zoneinfo.ZoneInfo(shop.timezone)

    def local(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

    start_at, end_at = local(start), local(end + dt.timedelta(days=1))
    months = [_month_add(start.replace(day=1), n) for n in range(_month_count(start, end))]
    # bounds[k] .. bounds[k + 1] is months[k - 1]; bounds[0] starts the month before the first
    bounds = [local(_month_add(months[0], n - 1)) for n in range(len(months) + 2)]
    tiers = list(Tier.all_objects.filter(program=program).order_by("position", "pk"))

    retention = _retention(program, months, bounds)
    tier_moves = _tier_moves(program, months, bounds, tiers)
    rewards = _rewards(program, start_at, end_at)
    tier_rows, revenue = _orders(program, start_at, end_at, tiers)
    return CustomerAnalytics(
        start=start,
        end=end,
        timezone=shop.timezone,
        currency=shop.currency,
        retention=retention,
        tier_moves=tier_moves,
        rewards=rewards,
        tiers=tier_rows,
        revenue=revenue,
    )


def _visits(shop_id: int) -> QuerySet[Order]:
    """The shop's visits: delivered and still delivered or partly returned."""
    return Order.objects.filter(shop_id=shop_id, status__in=VISIT_STATUSES, delivered_at__isnull=False)


def _retention(program: LoyaltyProgram, months: list[dt.date], bounds: list[dt.datetime]) -> tuple[MonthRetention, ...]:
    """Month-over-month retention of the program's members (one query over the accounts)."""
    visited = [
        Exists(
            _visits(program.shop_id).filter(
                customer_id=OuterRef("customer_id"), delivered_at__gte=bounds[k], delivered_at__lt=bounds[k + 1]
            )
        )
        for k in range(len(months) + 1)
    ]
    figures: dict[str, Count] = {f"active{k}": Count("pk", filter=Q(visited[k])) for k in range(len(months) + 1)}
    for k in range(1, len(months) + 1):
        figures[f"retained{k}"] = Count("pk", filter=Q(visited[k - 1]) & Q(visited[k]))
        figures[f"new{k}"] = Count("pk", filter=Q(enrolled_at__gte=bounds[k], enrolled_at__lt=bounds[k + 1]))
    totals = MemberAccount.objects.filter(program=program).aggregate(**figures)
    rows = []
    for k, month in enumerate(months, start=1):
        before, retained = totals[f"active{k - 1}"], totals[f"retained{k}"]
        churned = before - retained
        rows.append(
            MonthRetention(
                month=month,
                members_active_before=before,
                members_active=totals[f"active{k}"],
                members_new=totals[f"new{k}"],
                members_retained=retained,
                members_churned=churned,
                retention_rate=_ratio(retained, before, RATE_PLACES),
                churn_rate=_ratio(churned, before, RATE_PLACES),
            )
        )
    return tuple(rows)


def _tier_moves(
    program: LoyaltyProgram, months: list[dt.date], bounds: list[dt.datetime], tiers: list[Tier]
) -> tuple[MonthTierMoves, ...]:
    """Upgrades and downgrades per month (one query) and the distribution at each month end (one query)."""
    changes = TierChange.objects.filter(account__program=program)
    up = Q(to_tier__position__gt=F("from_tier__position"))
    down = Q(to_tier__position__lt=F("from_tier__position"))
    moves: dict[str, Count] = {}
    for k in range(1, len(months) + 1):
        within = Q(created_at__gte=bounds[k], created_at__lt=bounds[k + 1])
        moves[f"up{k}"] = Count("pk", filter=within & up)
        moves[f"down{k}"] = Count("pk", filter=within & down)
    counted = changes.filter(from_tier__isnull=False, created_at__gte=bounds[1], created_at__lt=bounds[-1]).aggregate(
        **moves
    )

    held: dict[str, Count] = {}
    for k in range(1, len(months) + 1):
        month_end = bounds[k + 1]
        later = TierChange.objects.filter(account_id=OuterRef("account_id"), created_at__lt=month_end).filter(
            Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
        )
        held[f"end{k}"] = Count("pk", filter=Q(created_at__lt=month_end) & ~Q(Exists(later)))
    held_rows = (
        changes.filter(created_at__lt=bounds[-1])
        .values("to_tier_id")
        .annotate(**held)
        .order_by()
        .values_list("to_tier_id", *held)
    )
    holders: dict[int, tuple[int, ...]] = {tier_id: tuple(counts) for tier_id, *counts in held_rows}
    rows = []
    for k, month in enumerate(months, start=1):
        distribution = []
        for tier in tiers:
            members = holders[tier.pk][k - 1] if tier.pk in holders else 0
            if tier.archived_at is None or members:
                distribution.append(
                    TierHolders(tier_id=tier.pk, name=tier.name, position=tier.position, members=members)
                )
        rows.append(
            MonthTierMoves(
                month=month,
                upgrades=counted[f"up{k}"],
                downgrades=counted[f"down{k}"],
                distribution=tuple(distribution),
            )
        )
    return tuple(rows)


def _rewards(program: LoyaltyProgram, start_at: dt.datetime, end_at: dt.datetime) -> tuple[RewardRedemptions, ...]:
    """Every reward of the program with its codes' fate in the period (one query)."""

    def within(field: str) -> Q:
        return Q(**{f"redemptions__{field}__gte": start_at, f"redemptions__{field}__lt": end_at})

    issued = within("issued_at")
    refunded = Q(redemptions__refund_entry__created_at__gte=start_at, redemptions__refund_entry__created_at__lt=end_at)
    rows = (
        Reward.objects.filter(program=program)
        .annotate(
            issued=Count("redemptions", filter=issued),
            used=Count("redemptions", filter=within("used_at")),
            cancelled=Count("redemptions", filter=within("cancelled_at")),
            expired=Count("redemptions", filter=within("expired_at")),
            spent=Coalesce(Sum("redemptions__points", filter=issued), 0),
            given_back=Coalesce(Sum("redemptions__refund_entry__points", filter=refunded), 0),
            members=Count("redemptions__account", filter=issued, distinct=True),
        )
        .order_by("sort_order", "points_cost", "pk")
        .values_list("pk", "name", "issued", "used", "cancelled", "expired", "spent", "given_back", "members")
    )
    return tuple(
        RewardRedemptions(
            reward_id=pk,
            name=name,
            issued=n_issued,
            used=used,
            cancelled=cancelled,
            expired=expired,
            points_spent=spent - given_back,
            members=members,
        )
        for pk, name, n_issued, used, cancelled, expired, spent, given_back, members in rows
    )


def _orders(
    program: LoyaltyProgram, start_at: dt.datetime, end_at: dt.datetime, tiers: list[Tier]
) -> tuple[tuple[TierOrders, ...], RevenueImpact]:
    """The period's visits by membership and the member's tier now (one query)."""
    account = MemberAccount.objects.filter(
        customer_id=OuterRef("customer_id"), program=program, enrolled_at__lte=OuterRef("delivered_at")
    )
    returned = (
        OrderLine.objects.filter(order_id=OuterRef("pk"), returned_quantity__gt=0)
        .order_by()
        .values("order_id")
        .annotate(total=Sum(ExpressionWrapper(F("unit_price") * F("returned_quantity"), output_field=MONEY)))
        .values("total")
    )
    rows = (
        _visits(program.shop_id)
        .filter(delivered_at__gte=start_at, delivered_at__lt=end_at)
        .annotate(
            member=Exists(account),
            tier=Subquery(account.values("tier_id")[:1]),
            kept=ExpressionWrapper(
                F("goods_amount") - Coalesce(Subquery(returned, output_field=MONEY), Value(ZERO, output_field=MONEY)),
                output_field=MONEY,
            ),
        )
        .values("member", "tier")
        .annotate(orders=Count("pk"), customers=Count("customer_id", distinct=True), revenue=Sum("kept"))
        .order_by()
    )
    by_tier: dict[int | None, tuple[int, int, Decimal]] = {}
    outsiders = (0, 0, ZERO)
    for row in rows:
        figures = (row["orders"], row["customers"], row["revenue"] or ZERO)
        if row["member"]:
            by_tier[row["tier"]] = figures
        else:
            outsiders = figures

    def tier_row(tier_id: int | None, name: str | None, position: int | None) -> TierOrders:
        orders, members, revenue = by_tier.get(tier_id, (0, 0, ZERO))
        return TierOrders(
            tier_id=tier_id,
            name=name,
            position=position,
            orders=orders,
            members=members,
            revenue=_money(revenue),
            average_order_value=_ratio(revenue, orders, CENT),
            visits_per_member=_ratio(orders, members, CENT),
        )

    tier_rows = [
        tier_row(tier.pk, tier.name, tier.position) for tier in tiers if tier.archived_at is None or tier.pk in by_tier
    ]
    if None in by_tier:
        tier_rows.append(tier_row(None, None, None))
    member_orders = sum(orders for orders, _, _ in by_tier.values())
    member_customers = sum(customers for _, customers, _ in by_tier.values())
    member_revenue = _money(sum((revenue for _, _, revenue in by_tier.values()), ZERO))
    other_orders, other_customers, other_revenue = outsiders[0], outsiders[1], _money(outsiders[2])
    return tuple(tier_rows), RevenueImpact(
        member_orders=member_orders,
        member_customers=member_customers,
        member_revenue=member_revenue,
        member_average_order_value=_ratio(member_revenue, member_orders, CENT),
        non_member_orders=other_orders,
        non_member_customers=other_customers,
        non_member_revenue=other_revenue,
        non_member_average_order_value=_ratio(other_revenue, other_orders, CENT),
        member_revenue_share=_ratio(member_revenue, member_revenue + other_revenue, RATE_PLACES),
    )
