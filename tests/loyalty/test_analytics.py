"""shop.analytics: hand-computed figures on a fixed data set, local-day buckets, roles and a fixed query count.

The data set (``dataset`` below) is one New York shop (UTC-5 until 8 March 2026, UTC-4 after),
point value 0.015 USD, standard tiers (Bronze 0 x1.0 / Silver 100 x1.1 / Gold 250 / Platinum
500, spend basis), points available at once until the last two orders, which stay pending.
Every movement goes through the real services; times are UTC with the local time in the comment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from strawberry import relay

from loyalty.analytics import ANALYTICS_QUERIES, shop_analytics
from loyalty.errors import LoyaltyError
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, SourceType
from loyalty.services.adjustments import points_adjust
from loyalty.services.ledger import Movement, account_lock, points_spend
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from rewards.services.redemptions import redemption_cancel, reward_redeem
from tests.api.graphql import gql, login
from tests.factories import (
    CustomerFactory,
    ShopFactory,
    UserFactory,
    order_input,
    shop_with_program,
    staff,
)
from tests.rewards.conftest import member_with_points, reward

pytestmark = pytest.mark.django_db

ANALYTICS = """query($slug: String!, $from: Date!, $to: Date!, $granularity: AnalyticsGranularity, $top: Int) {
  shop(slug: $slug) { analytics(from: $from, to: $to, granularity: $granularity, top: $top) {
    from to granularity timezone currency pointValue
    membersTotal membersNew membersActive
    tierDistribution { tierId name position members }
    pointsIssued pointsReversed pointsRedeemed pointsExpired pointsAdjusted
    liabilityPoints liabilityPointsAvailable liabilityPointsPending liabilityAmount
    redemptionRate breakageRate breakagePointsEstimate breakageAmountEstimate
    ordersCount revenue averageOrderValue
    topMembers { accountId displayName tierName points }
    series { start pointsIssued pointsReversed pointsRedeemed pointsExpired pointsAdjusted
      membersNew ordersDelivered revenue }
  } } }"""


def utc(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


def deliver(shop, customer, order_id: str, amount: str, at: dt.datetime, *, process: bool = True) -> None:
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at),
        idempotency_key=f"{order_id}:delivered",
        actor=None,
    ).event
    if process:
        order_event_process(event_id=event.pk, broadcast=False)


def give_back(shop, customer, order_id: str, at: dt.datetime) -> None:
    event = order_event_record(
        data=order_input(shop, order_id, "returned", customer=customer, at=at, lines=False),
        idempotency_key=f"{order_id}:returned",
        actor=None,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)


def expire(customer, shop, points: int, at: dt.datetime) -> None:
    """An EXPIRE entry through the ledger (the expiry job is the lifecycle issue's)."""
    account = MemberAccount.objects.get(customer=customer, program__shop=shop)
    with transaction.atomic():
        locked = account_lock(account_ids=[account.pk]).get()
        points_spend(
            account=locked,
            points=points,
            movement=Movement(
                kind=EntryKind.EXPIRE,
                reason="Points expired",
                source_type=SourceType.SYSTEM,
                source_id="",
                idempotency_key=f"expire:{account.pk}:{at.isoformat()}",
                at=at,
            ),
        )


def adjust(owner, customer, shop, points: int, at: dt.datetime) -> None:
    account = MemberAccount.objects.get(customer=customer, program__shop=shop)
    points_adjust(user=owner, account_id=account.pk, points=points, reason="Goodwill", idempotency_key=str(at), now=at)


@pytest.fixture
def dataset():
    """The fixed data set; returns (shop, owner, {name: customer})."""
    shop = shop_with_program(name="Corner Books")
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=0, point_value=Decimal("0.015"))
    owner = staff(shop, StaffRole.OWNER)
    gift = reward(shop, points_cost=100)
    people = {name: CustomerFactory(display_name=name) for name in ("Ana", "Ben", "Cyrus", "Dina", "Ela", "Finn")}
    a, b, c, d, e, f = people.values()
    deliver(shop, e, "e1", "60.00", utc("2025-11-01", "15:00"))  # Ela joins; EARN 60 (Bronze); long inactive
    deliver(shop, a, "a1", "120.00", utc("2026-02-20", "15:00"))  # Ana joins; EARN 120 -> Silver
    deliver(shop, d, "d1", "40.00", utc("2026-03-02", "04:00"))  # local Mar 1 23:00: Dina joins; EARN 40
    deliver(shop, a, "a2", "50.00", utc("2026-03-02", "14:00"))  # Mar 2 09:00: EARN floor(50 x 1.1) = 55
    deliver(shop, b, "b1", "80.00", utc("2026-03-03", "04:30"))  # local Mar 2 23:30: Ben joins; EARN 80
    expire(d, shop, 30, utc("2026-03-03", "12:00"))  # Mar 3 07:00: EXPIRE -30
    adjust(owner, e, shop, 10, utc("2026-03-03", "15:00"))  # Mar 3 10:00: ADJUST +10 (not activity)
    deliver(shop, c, "c1", "300.00", utc("2026-03-04", "05:30"))  # Mar 4 00:30: Cyrus joins; EARN 300 -> Gold
    reward_redeem(user=a.user, reward_id=gift.pk, idempotency_key="r1", now=utc("2026-03-04", "15:00"))  # -100
    taken = reward_redeem(user=c.user, reward_id=gift.pk, idempotency_key="r2", now=utc("2026-03-05", "16:00"))
    redemption_cancel(user=c.user, redemption_id=taken.redemption.pk, now=utc("2026-03-05", "17:00"))  # +100
    adjust(owner, b, shop, 20, utc("2026-03-05", "18:00"))  # Mar 5 13:00: ADJUST +20
    give_back(shop, b, "b1", utc("2026-03-06", "14:00"))  # Mar 6 09:00: REVERSE -80
    adjust(owner, a, shop, -15, utc("2026-03-06", "20:00"))  # Mar 6 15:00: ADJUST -15
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=30)
    deliver(shop, a, "a3", "10.03", utc("2026-03-07", "04:00"))  # local Mar 6 23:00: EARN floor(11.033) = 11 pending
    deliver(shop, a, "a4", "20.00", utc("2026-03-07", "05:30"))  # local Mar 7 00:30: EARN 22 pending
    deliver(shop, f, "f1", "999.00", utc("2026-03-03", "17:00"), process=False)  # Finn: never enrolled
    other = shop_with_program(name="Elsewhere")  # another shop's member and order never count
    member_with_points(other, amounts=("500.00",), start=utc("2026-03-03", "12:00"))
    return shop, owner, people


def _account_id(customer, shop) -> str:
    pk = MemberAccount.objects.get(customer=customer, program__shop=shop).pk
    return str(relay.GlobalID("MemberAccount", str(pk)))


def _bucket(start, issued=0, reversed_=0, redeemed=0, expired=0, adjusted=0, new=0, orders=0, revenue="0.00"):
    return {
        "start": start,
        "pointsIssued": issued,
        "pointsReversed": reversed_,
        "pointsRedeemed": redeemed,
        "pointsExpired": expired,
        "pointsAdjusted": adjusted,
        "membersNew": new,
        "ordersDelivered": orders,
        "revenue": revenue,
    }


# Balances now (cached on the accounts):
#   Ela   available 60 + 10 = 70                          Bronze
#   Ana   available 120 + 55 - 100 - 15 = 60, pending 11 + 22 = 33, redeemed 100   Silver (spend 200.03)
#   Dina  available 40 - 30 = 10, expired 30               Bronze
#   Ben   available 80 + 20 - 80 = 20                      Bronze (spend 0 after the return)
#   Cyrus available 300 - 100 + 100 = 300, redeemed 0      Gold
#   outstanding 460 + 33 = 493; x 0.015 = 7.395 -> 7.40 (half up)
#   breakage 30 / (30 + 100) = 0.230769 -> 0.2308; floor(493 x 30 / 130) = floor(113.77) = 113; x 0.015 = 1.695 -> 1.70
NOW = {
    "timezone": "America/New_York",
    "currency": "USD",
    "pointValue": "0.015000",
    "liabilityPoints": 493,
    "liabilityPointsAvailable": 460,
    "liabilityPointsPending": 33,
    "liabilityAmount": "7.40",
    "breakageRate": "0.2308",
    "breakagePointsEstimate": 113,
    "breakageAmountEstimate": "1.70",
}


def test_figures_equal_the_hand_computed_values(dataset):
    shop, owner, p = dataset
    body = gql(login(owner), ANALYTICS, {"slug": shop.slug, "from": "2026-03-02", "to": "2026-03-06"})
    assert "errors" not in body, body
    got = body["data"]["shop"]["analytics"]
    tiers = got.pop("tierDistribution")
    assert [(t["name"], t["position"], t["members"]) for t in tiers] == [
        ("Bronze", 0, 3),  # Ela, Dina, Ben
        ("Silver", 1, 1),  # Ana
        ("Gold", 2, 1),  # Cyrus
        ("Platinum", 3, 0),
    ]
    assert all(t["tierId"].startswith("VGllcj") for t in tiers)  # base64 of "Tier:"
    assert got == {
        **NOW,
        "from": "2026-03-02",
        "to": "2026-03-06",
        "granularity": "DAY",
        # enrolled before Mar 7 00:00 local: Ela, Ana, Dina (Mar 1 23:00 local), Ben, Cyrus; Finn never
        "membersTotal": 5,
        "membersNew": 2,  # Ben (Mar 2 23:30 local), Cyrus; not Dina (Mar 1 local)
        "membersActive": 4,  # earned or redeemed since Dec 7: Ana, Ben, Cyrus, Dina; Ela only adjusted
        "pointsIssued": 446,  # 55 + 80 + 300 + 11 (not Dina's 40 of Mar 1, nor Ana's 22 of Mar 7)
        "pointsReversed": 80,
        "pointsRedeemed": 100,  # 100 + 100 - 100 refunded
        "pointsExpired": 30,
        "pointsAdjusted": 15,  # 10 + 20 - 15
        "redemptionRate": "0.2242",  # 100 / 446 = 0.22421
        "ordersCount": 4,  # a2, b1 (returned since), c1, a3; not d1/a4 (other days) nor Finn's (no account)
        "revenue": "440.03",
        "averageOrderValue": "110.01",  # 440.03 / 4 = 110.0075 -> half up
        "topMembers": [
            {"accountId": _account_id(p["Cyrus"], shop), "displayName": "Cyrus", "tierName": "Gold", "points": 300},
            {"accountId": _account_id(p["Ben"], shop), "displayName": "Ben", "tierName": "Bronze", "points": 80},
            {"accountId": _account_id(p["Ana"], shop), "displayName": "Ana", "tierName": "Silver", "points": 66},
        ],
        "series": [
            _bucket("2026-03-02", issued=135, new=1, orders=2, revenue="130.00"),  # Ben's 23:30 lands here
            _bucket("2026-03-03", expired=30, adjusted=10),
            _bucket("2026-03-04", issued=300, redeemed=100, new=1, orders=1, revenue="300.00"),
            _bucket("2026-03-05", adjusted=20),  # redeemed 100 and refunded 100 the same day
            _bucket("2026-03-06", issued=11, reversed_=80, adjusted=-15, orders=1, revenue="10.03"),
        ],
    }


def test_weekly_buckets_start_on_monday_and_cross_the_dst_change(dataset):
    shop, owner, _ = dataset
    # Wed Feb 25 .. Tue Mar 10; New York moves to UTC-4 on Sunday Mar 8
    body = gql(
        login(owner),
        ANALYTICS,
        {"slug": shop.slug, "from": "2026-02-25", "to": "2026-03-10", "granularity": "WEEK", "top": 2},
    )
    got = body["data"]["shop"]["analytics"]
    assert got["series"] == [
        _bucket("2026-02-23", issued=40, new=1, orders=1, revenue="40.00"),  # only Feb 25..Mar 1: Dina
        # the daily figures of Mar 2..6 plus Ana's a4 (Mar 7 00:30 local): 446 + 22, 4 + 1 orders
        _bucket("2026-03-02", issued=468, reversed_=80, redeemed=100, expired=30, adjusted=15, new=2, orders=5,
                revenue="460.03"),
        _bucket("2026-03-09"),
    ]  # fmt: skip
    assert (got["pointsIssued"], got["ordersCount"], got["averageOrderValue"]) == (508, 6, "83.34")  # 500.03 / 6
    assert [m["displayName"] for m in got["topMembers"]] == ["Cyrus", "Ana"]  # 300, 55 + 11 + 22 = 88
    assert got["redemptionRate"] == "0.1969"  # 100 / 508
    assert (got["membersNew"], got["membersTotal"]) == (3, 5)


def test_a_quiet_range_gives_zeros_and_nulls(dataset):
    shop, owner, _ = dataset
    body = gql(login(owner), ANALYTICS, {"slug": shop.slug, "from": "2026-01-10", "to": "2026-01-12"})
    got = body["data"]["shop"]["analytics"]
    assert got["series"] == [_bucket("2026-01-10"), _bucket("2026-01-11"), _bucket("2026-01-12")]
    assert {k: got[k] for k in NOW} == NOW  # liability and breakage are as of now, whatever the period
    assert (got["membersTotal"], got["membersNew"], got["membersActive"]) == (1, 0, 1)  # Ela, who earned Nov 1
    assert (got["pointsIssued"], got["redemptionRate"], got["ordersCount"], got["averageOrderValue"]) == (
        0,
        None,
        0,
        None,
    )
    assert got["topMembers"] == []


def test_a_new_shop_has_no_rates():
    shop = shop_with_program()
    result = shop_analytics(shop_id=shop.pk, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1), granularity="day")
    assert (result.members_total, result.liability_amount, result.breakage_rate) == (0, Decimal("0.00"), None)
    assert (result.breakage_points_estimate, result.redemption_rate, result.average_order_value) == (0, None, None)
    assert [(t.name, t.members) for t in result.tier_distribution] == [
        ("Bronze", 0),
        ("Silver", 0),
        ("Gold", 0),
        ("Platinum", 0),
    ]


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "NOT_AUTHENTICATED"),
        ("member", "PERMISSION_DENIED"),
        ("plain user", "PERMISSION_DENIED"),
        ("cashier", "PERMISSION_DENIED"),
        ("owner of another shop", "PERMISSION_DENIED"),
        ("manager", None),
        ("owner", None),
    ],
)
def test_only_the_shops_owner_and_manager_see_analytics(caller, code):
    shop = shop_with_program()
    member = member_with_points(shop, amounts=("10.00",))
    user = {
        "anonymous": lambda: None,
        "member": lambda: member.user,
        "plain user": UserFactory,
        "cashier": lambda: staff(shop, StaffRole.CASHIER),
        "owner of another shop": lambda: staff(shop_with_program(), StaffRole.OWNER),
        "manager": lambda: staff(shop, StaffRole.MANAGER),
        "owner": lambda: staff(shop, StaffRole.OWNER),
    }[caller]()
    body = gql(login(user), ANALYTICS, {"slug": shop.slug, "from": "2026-01-01", "to": "2026-01-31"})
    if code is None:
        assert "errors" not in body, body
        assert body["data"]["shop"]["analytics"]["pointsIssued"] == 10
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        assert body["data"]["shop"] is None


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days; 366 is the most
        ({"from": "2026-03-01", "to": "2026-03-02", "top": 0}, "top"),
        ({"from": "2026-03-01", "to": "2026-03-02", "top": 21}, "top"),
    ],
)
def test_invalid_arguments_are_coded(variables, field):
    shop = shop_with_program()
    body = gql(login(staff(shop)), ANALYTICS, {"slug": shop.slug, **variables})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("INVALID_INPUT", field)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": dt.date(2025, 12, 31)}, "to"),
        ({"end": dt.date(2027, 1, 2)}, "to"),  # 367 days
        ({"granularity": "month"}, "granularity"),
        ({"top": 21}, "top"),
    ],
)
def test_the_selector_validates_before_reading(kwargs, field, django_assert_num_queries):
    shop = shop_with_program()
    arguments = {"shop_id": shop.pk, "start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 1), "granularity": "day"}
    with django_assert_num_queries(0), pytest.raises(LoyaltyError) as raised:
        shop_analytics(**{**arguments, **kwargs})
    assert (raised.value.code.value, raised.value.field) == ("INVALID_INPUT", field)


def test_366_days_and_a_shop_without_program():
    shop = shop_with_program()
    result = shop_analytics(shop_id=shop.pk, start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31), granularity="week")
    assert [result.series[0].start, result.series[-1].start, len(result.series)] == [
        dt.date(2026, 12, 28),  # the Monday before Friday Jan 1
        dt.date(2027, 12, 27),
        53,
    ]
    leap = shop_analytics(shop_id=shop.pk, start=dt.date(2028, 1, 1), end=dt.date(2028, 12, 31), granularity="day")
    assert len(leap.series) == 366
    bare = ShopFactory()
    with pytest.raises(LoyaltyError) as raised:
        shop_analytics(shop_id=bare.pk, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 1), granularity="day")
    assert raised.value.code.value == "NOT_FOUND"


def _grow(shop, members: int, days: int) -> None:
    """``members`` members taking turns to buy for 1.00 (Bronze all along), one order every day for ``days`` days."""
    customers = [CustomerFactory() for _ in range(members)]
    for day in range(days):
        at = utc("2026-03-01", "12:00") + dt.timedelta(days=day)
        deliver(shop, customers[day % members], f"g{day}", "1.00", at)


@pytest.mark.parametrize(("members", "days"), [(3, 5), (20, 40)])
def test_the_query_count_does_not_grow_with_members_or_days(members, days, django_assert_num_queries):
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=0)
    _grow(shop, members, days)
    client = login(staff(shop, StaffRole.MANAGER))
    # session, user, shop by slug, staff role, then the selector's 7
    # (program and shop, tiers, accounts, entries by day, enrolments by day, orders by day, top members)
    assert ANALYTICS_QUERIES == 7
    with django_assert_num_queries(11):
        body = gql(client, ANALYTICS, {"slug": shop.slug, "from": "2026-03-01", "to": "2026-04-09", "top": 20})
    got = body["data"]["shop"]["analytics"]
    assert (got["pointsIssued"], got["ordersCount"], got["membersNew"]) == (days, days, members)
    assert (len(got["series"]), len(got["topMembers"])) == (40, members)
