"""shop.customerAnalytics: hand-computed figures on a fixed history, a fixed query count, refused periods.

The history (``history`` below) is one New York shop (UTC-5 all winter) with the standard ladder
(Bronze 0 / Silver 100 / Gold 250 / Platinum 500) on *calendar-year* spend, points available at
once, and three rewards: Cap 50 points, Mug 100, Vase 500. Every movement goes through the real
services, in business-time order; times are 17:00 UTC = 12:00 in New York unless noted. The
period is 1 December 2025 .. 31 January 2026, so the months are December and January and the
month before is November.

=========  ======================================================================================
2024-06-03 G1: G buys 150.00 -> G enrols (Bronze) and moves up to Silver at once
Nov 10     A1: A buys 120.00 -> A enrols (Bronze) and moves up to Silver at once
Nov 15     A redeems a Mug (100 points)
Nov 20     B1: B buys 40.00 -> B enrols (Bronze)
Nov 25     F1: F buys 300.00 -> F enrols (Bronze) and moves up to Gold at once
Dec  1     F1 refunded (no longer a visit): F's 2025 spend back to 0, Gold -> Bronze at once
Dec  2     a cashier takes A's Mug (used)
Dec  5     B2: B buys 300.00 -> 340 spent in 2025: Bronze -> Gold
Dec  6     B redeems a Mug (100)
Dec 10     A2: A buys 2 x 10.00 + 1 x 30.00 = 50.00
Dec 11     A redeems a Cap (50)
Dec 12     A2 partly returned: 1 unit of line 1 (10.00) -> kept 40.00
Dec 14     A cancels the Cap (50 points back)
Dec 15     N1: N buys 20.00 -> N enrols (Bronze)
Dec 20     X1: X buys 25.00; never processed, so X never joins (a non-member)
Jan  1     00:00 New York: requalification for 2026 on 2025 spend: A 160.00 keeps Silver, B 340.00
           keeps Gold, G 0.00 moves down Silver -> Bronze (F and N hold the entry tier: left alone)
Jan  5     N2: N buys 80.00
Jan  6     expiry job: B's Mug of Dec 6 (30-day code) expired, 100 points back
Jan  8     B redeems a Mug (100), left issued
Jan 10     A3: A buys 30.00
Jan 20     M1: M buys 150.00 -> M enrols (Bronze) and moves up to Silver at once
=========  ======================================================================================
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from crm.analytics import CUSTOMER_ANALYTICS_QUERIES, customer_analytics
from crm.errors import CrmError
from loyalty.models import LoyaltyProgram, TierChange
from loyalty.services.lifecycle import tiers_requalify_due
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from rewards.services.redemptions import redemption_cancel, redemption_consume, redemptions_expire, reward_redeem
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, ShopFactory, order_input, shop_with_program, staff
from tests.rewards.conftest import reward

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
START, END = dt.date(2025, 12, 1), dt.date(2026, 1, 31)

QUERY = """query($slug: String!, $from: Date!, $to: Date!) {
  shop(slug: $slug) { customerAnalytics(from: $from, to: $to) {
    from to timezone currency
    retention { month membersActiveBefore membersActive membersNew membersRetained membersChurned
                retentionRate churnRate }
    tierMoves { month upgrades downgrades distribution { tierId name position members } }
    rewards { rewardId name issued used cancelled expired pointsSpent members }
    tiers { tierId name position orders members revenue averageOrderValue visitsPerMember }
    revenue { memberOrders memberCustomers memberRevenue memberAverageOrderValue nonMemberOrders
              nonMemberCustomers nonMemberRevenue nonMemberAverageOrderValue memberRevenueShare }
  } }
}"""


def noon(month: int, day: int) -> dt.datetime:
    """12:00 in New York (17:00 UTC) on ``day`` of ``month`` (November and December 2025, then January 2026)."""
    return dt.datetime(2026 if month == 1 else 2025, month, day, 17, tzinfo=dt.UTC)


def _event(shop, customer, order_id, status, at, *, process=True, **fields):
    fields.setdefault("lines", "items" in fields or "amount" in fields)
    event = order_event_record(
        data=order_input(shop, order_id, status, customer=customer, at=at, **fields),
        idempotency_key=f"{order_id}:{status}:{at.isoformat()}",
        actor=None,
    ).event
    if process:
        order_event_process(event_id=event.pk, broadcast=False)


def _calendar_shop():
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window="calendar_year", pending_days=0)
    return shop


@pytest.fixture
def history():
    shop = _calendar_shop()
    a, b, f, g, n, x, m = (CustomerFactory() for _ in range(7))
    cashier = staff(shop, StaffRole.CASHIER)
    cap, mug = reward(shop, name="Cap", points_cost=50), reward(shop, name="Mug", points_cost=100)
    reward(shop, name="Vase", points_cost=500)

    _event(shop, g, "G1", "delivered", dt.datetime(2024, 6, 3, 17, tzinfo=dt.UTC), amount="150.00")
    _event(shop, a, "A1", "delivered", noon(11, 10), amount="120.00")
    a_mug = reward_redeem(user=a.user, reward_id=mug.pk, idempotency_key="a-mug", now=noon(11, 15)).redemption
    _event(shop, b, "B1", "delivered", noon(11, 20), amount="40.00")
    _event(shop, f, "F1", "delivered", noon(11, 25), amount="300.00")
    _event(shop, f, "F1", "refunded", noon(12, 1))
    redemption_consume(user=cashier, shop_id=shop.pk, code=a_mug.code, now=noon(12, 2))
    _event(shop, b, "B2", "delivered", noon(12, 5), amount="300.00")
    reward_redeem(user=b.user, reward_id=mug.pk, idempotency_key="b-mug-1", now=noon(12, 6))
    _event(shop, a, "A2", "delivered", noon(12, 10), items=((2, "10.00"), (1, "30.00")))
    a_cap = reward_redeem(user=a.user, reward_id=cap.pk, idempotency_key="a-cap", now=noon(12, 11)).redemption
    _event(shop, a, "A2", "partially_returned", noon(12, 12), returned=((1, 1),))
    redemption_cancel(user=a.user, redemption_id=a_cap.pk, now=noon(12, 14))
    _event(shop, n, "N1", "delivered", noon(12, 15), amount="20.00")
    _event(shop, x, "X1", "delivered", noon(12, 20), amount="25.00", process=False)
    tiers_requalify_due(now=dt.datetime(2026, 1, 1, tzinfo=NY), broadcast=False)
    _event(shop, n, "N2", "delivered", noon(1, 5), amount="80.00")
    assert redemptions_expire(now=noon(1, 6)) == 1
    reward_redeem(user=b.user, reward_id=mug.pk, idempotency_key="b-mug-2", now=noon(1, 8))
    _event(shop, a, "A3", "delivered", noon(1, 10), amount="30.00")
    _event(shop, m, "M1", "delivered", noon(1, 20), amount="150.00")
    return shop


def _tiers_now(shop) -> list[tuple[str | None, str]]:
    return list(
        TierChange.objects.filter(account__program__shop=shop)
        .order_by("created_at", "pk")
        .values_list("from_tier__name", "to_tier__name")
    )


def test_the_history_moves_tiers_as_described(history):
    # the tier history the figures below are computed from (enrolments, moves, requalifications)
    assert _tiers_now(history) == [
        (None, "Bronze"),  # G enrols, 2024
        ("Bronze", "Silver"),  # G: 150.00
        (None, "Bronze"),  # A enrols, Nov 10
        ("Bronze", "Silver"),  # A: 120.00
        (None, "Bronze"),  # B enrols, Nov 20
        (None, "Bronze"),  # F enrols, Nov 25
        ("Bronze", "Gold"),  # F: 300.00
        ("Gold", "Bronze"),  # F1 refunded, Dec 1
        ("Bronze", "Gold"),  # B: 340.00, Dec 5
        (None, "Bronze"),  # N enrols, Dec 15
        ("Silver", "Bronze"),  # Jan 1, requalified (account by account): G moves down
        ("Silver", "Silver"),  # A keeps Silver
        ("Gold", "Gold"),  # B keeps Gold
        (None, "Bronze"),  # M enrols, Jan 20
        ("Bronze", "Silver"),  # M: 150.00
    ]


def test_figures_equal_the_hand_computation(history):
    result = customer_analytics(shop_id=history.pk, start=START, end=END)
    assert (result.timezone, result.currency) == ("America/New_York", "USD")

    # Visits (delivered, not cancelled/returned/refunded) of members by month:
    #   November: A (A1), B (B1)            -- F1 was refunded: not a visit; G last came in 2024
    #   December: A (A2, partly returned), B (B2), N (N1)
    #   January:  A (A3), N (N2), M (M1)
    # December: base {A, B} = 2, all back: retained 2, churned 0, 1.0000 / 0.0000; new: N
    # January: base {A, B, N} = 3, back {A, N}: retained 2, churned 1 (B), 2/3 = 0.6667, 1/3 = 0.3333;
    # active {A, N, M} = 3; new: M
    assert [
        (
            r.month,
            r.members_active_before,
            r.members_active,
            r.members_new,
            r.members_retained,
            r.members_churned,
            r.retention_rate,
            r.churn_rate,
        )
        for r in result.retention
    ] == [
        (dt.date(2025, 12, 1), 2, 3, 1, 2, 0, Decimal("1.0000"), Decimal("0.0000")),
        (dt.date(2026, 1, 1), 3, 3, 1, 2, 1, Decimal("0.6667"), Decimal("0.3333")),
    ]

    # Tier moves: December: B Bronze -> Gold (up), F Gold -> Bronze (down, its order refunded).
    # January: M Bronze -> Silver (up), G Silver -> Bronze (down, requalified on 0.00 spent in 2025);
    # A Silver -> Silver and B Gold -> Gold (requalified, kept) are neither; enrolments neither.
    # End of December (before the 1 January requalification): A Silver, B Gold, F Bronze, G Silver,
    # N Bronze. End of January: A Silver, B Gold, F Bronze, G Bronze, N Bronze, M Silver.
    assert [
        (t.month, t.upgrades, t.downgrades, [(d.name, d.position, d.members) for d in t.distribution])
        for t in result.tier_moves
    ] == [
        (dt.date(2025, 12, 1), 1, 1, [("Bronze", 0, 2), ("Silver", 1, 2), ("Gold", 2, 1), ("Platinum", 3, 0)]),
        (dt.date(2026, 1, 1), 1, 1, [("Bronze", 0, 3), ("Silver", 1, 2), ("Gold", 2, 1), ("Platinum", 3, 0)]),
    ]

    # Rewards in the period (Dec 1 .. Jan 31), catalogue order (by points cost):
    #   Cap: A's issued Dec 11, cancelled Dec 14: spent 50 - 50 back = 0; 1 member
    #   Mug: issued B Dec 6 and B Jan 8 (A's of Nov 15 is before the period); used: A's on Dec 2;
    #        expired: B's on Jan 6, 100 back: spent 200 - 100 = 100; members: B only
    #   Vase: nothing
    assert [(r.name, r.issued, r.used, r.cancelled, r.expired, r.points_spent, r.members) for r in result.rewards] == [
        ("Cap", 1, 0, 1, 0, 0, 1),
        ("Mug", 2, 1, 0, 1, 100, 1),
        ("Vase", 0, 0, 0, 0, 0, 0),
    ]

    # Member orders in the period by tier now (A Silver, B Gold, F Bronze, G Bronze, N Bronze, M Silver):
    #   Bronze: N1 20.00 + N2 80.00 = 100.00, 2 orders, 1 member (F and G had none): AOV 50.00, 2.00 visits
    #   Silver: A2 kept 40.00 (50.00 - 10.00 returned) + A3 30.00 + M1 150.00 = 220.00, 3 orders,
    #           2 members: AOV 73.33, 1.50 visits
    #   Gold: B2 300.00, 1 order, 1 member: AOV 300.00, 1.00 visit
    #   Platinum: nothing
    assert [
        (t.name, t.position, t.orders, t.members, t.revenue, t.average_order_value, t.visits_per_member)
        for t in result.tiers
    ] == [
        ("Bronze", 0, 2, 1, Decimal("100.00"), Decimal("50.00"), Decimal("2.00")),
        ("Silver", 1, 3, 2, Decimal("220.00"), Decimal("73.33"), Decimal("1.50")),
        ("Gold", 2, 1, 1, Decimal("300.00"), Decimal("300.00"), Decimal("1.00")),
        ("Platinum", 3, 0, 0, Decimal("0.00"), None, None),
    ]

    # Revenue impact: members 6 orders, 4 members, 620.00, AOV 103.33; X (never joined): 1 order,
    # 25.00, AOV 25.00; member share 620 / 645 = 0.96124 -> 0.9612
    revenue = result.revenue
    assert (
        revenue.member_orders,
        revenue.member_customers,
        revenue.member_revenue,
        revenue.member_average_order_value,
    ) == (6, 4, Decimal("620.00"), Decimal("103.33"))
    assert (
        revenue.non_member_orders,
        revenue.non_member_customers,
        revenue.non_member_revenue,
        revenue.non_member_average_order_value,
    ) == (1, 1, Decimal("25.00"), Decimal("25.00"))
    assert revenue.member_revenue_share == Decimal("0.9612")


def test_a_period_inside_a_month_reads_whole_months_for_the_monthly_figures(history):
    # 10..12 December: the monthly figures are December's whole; the period figures only those days
    result = customer_analytics(shop_id=history.pk, start=dt.date(2025, 12, 10), end=dt.date(2025, 12, 12))
    assert [(r.month, r.members_retained, r.members_new) for r in result.retention] == [(dt.date(2025, 12, 1), 2, 1)]
    assert [(t.upgrades, t.downgrades) for t in result.tier_moves] == [(1, 1)]
    # A2 (Dec 10, kept 40.00) is the only visit; the Cap was issued on the 11th (cancelled the 14th)
    assert (result.revenue.member_orders, result.revenue.member_revenue) == (1, Decimal("40.00"))
    assert next((r.name, r.issued, r.cancelled, r.points_spent) for r in result.rewards) == ("Cap", 1, 0, 50)


def test_the_api_gives_the_same_figures_to_the_owner(history):
    body = gql(
        login(staff(history, StaffRole.OWNER)), QUERY, {"slug": history.slug, "from": "2025-12-01", "to": "2026-01-31"}
    )
    assert "errors" not in body, body
    got = body["data"]["shop"]["customerAnalytics"]
    assert (got["from"], got["to"], got["currency"]) == ("2025-12-01", "2026-01-31", "USD")
    assert got["retention"][1] == {
        "month": "2026-01-01",
        "membersActiveBefore": 3,
        "membersActive": 3,
        "membersNew": 1,
        "membersRetained": 2,
        "membersChurned": 1,
        "retentionRate": "0.6667",
        "churnRate": "0.3333",
    }
    assert [(t["upgrades"], t["downgrades"]) for t in got["tierMoves"]] == [(1, 1), (1, 1)]
    assert got["rewards"][1]["pointsSpent"] == 100
    assert got["tiers"][3]["averageOrderValue"] is None
    assert (got["revenue"]["memberRevenue"], got["revenue"]["memberRevenueShare"]) == ("620.00", "0.9612")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 1), "to"),  # ends before it starts
        (dt.date(2025, 1, 31), dt.date(2027, 1, 1), "to"),  # touches 25 months; 24 is the most
        (dt.date(1969, 12, 31), dt.date(1970, 1, 31), "from"),  # before 1970
        (dt.date(2999, 12, 1), dt.date(3000, 1, 1), "to"),  # after 2999 (the Date scalar refuses it too)
    ],
)
def test_bad_periods_are_refused_before_any_query(start, end, field, django_assert_num_queries):
    shop = shop_with_program()
    with django_assert_num_queries(0), pytest.raises(CrmError) as raised:
        customer_analytics(shop_id=shop.pk, start=start, end=end)
    assert (raised.value.code.value, raised.value.field) == ("INVALID_INPUT", field)
    body = gql(login(staff(shop)), QUERY, {"slug": shop.slug, "from": start.isoformat(), "to": end.isoformat()})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("INVALID_INPUT", field)]


def test_24_months_quiet_and_a_shop_without_program():
    shop = shop_with_program()
    result = customer_analytics(shop_id=shop.pk, start=dt.date(2025, 1, 31), end=dt.date(2026, 12, 1))
    assert len(result.retention) == len(result.tier_moves) == 24
    assert (result.retention[0].retention_rate, result.retention[0].churn_rate) == (None, None)
    assert (result.revenue.member_average_order_value, result.revenue.member_revenue_share) == (None, None)
    with pytest.raises(CrmError) as raised:
        customer_analytics(shop_id=ShopFactory().pk, start=START, end=END)
    assert raised.value.code.value == "NOT_FOUND"


def _grow(shop, members: int) -> None:
    """``members`` members: each buys in November and December, redeems a Mug, and every other one in January."""
    mug = reward(shop, name="Mug", points_cost=100)
    for number in range(members):
        customer = CustomerFactory()
        _event(shop, customer, f"G{number}-1", "delivered", noon(11, 10), amount="150.00")
        _event(shop, customer, f"G{number}-2", "delivered", noon(12, 10), amount="150.00")
        reward_redeem(user=customer.user, reward_id=mug.pk, idempotency_key=f"g{number}", now=noon(12, 11))
        if number % 2:
            _event(shop, customer, f"G{number}-3", "delivered", noon(1, 10), amount="10.00")
        _event(shop, CustomerFactory(), f"Y{number}", "delivered", noon(12, 12), process=False, amount="5.00")


@pytest.mark.parametrize("members", [3, 30])
def test_the_query_count_does_not_grow_with_members(members, django_assert_num_queries):
    shop = _calendar_shop()
    _grow(shop, members)
    # program and shop, tiers, retention, tier moves, tier distribution, rewards, orders
    assert CUSTOMER_ANALYTICS_QUERIES == 7
    with django_assert_num_queries(CUSTOMER_ANALYTICS_QUERIES):
        result = customer_analytics(shop_id=shop.pk, start=START, end=END)
    assert [(r.members_retained, r.members_churned) for r in result.retention] == [
        (members, 0),
        (members // 2, members - members // 2),
    ]
    assert (result.rewards[0].issued, result.revenue.non_member_orders) == (members, members)
    client = login(staff(shop, StaffRole.MANAGER))
    # session, user, shop by slug, staff role, then the selector's 7
    with django_assert_num_queries(4 + CUSTOMER_ANALYTICS_QUERIES):
        body = gql(client, QUERY, {"slug": shop.slug, "from": "2025-12-01", "to": "2026-01-31"})
    assert body["data"]["shop"]["customerAnalytics"]["revenue"]["memberOrders"] == members + members // 2
