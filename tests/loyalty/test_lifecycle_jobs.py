"""Lifecycle jobs: expiry by lots, tier requalification, their schedules, commands and actors.

Every job is run "as of" a fixed moment (its ``now``), so no test depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot, Tier, TierChange
from loyalty.selectors import ledger_discrepancies
from loyalty.services.ledger import Movement, account_lock, points_expire_lot, points_grant, points_refund
from loyalty.services.lifecycle import (
    ExpirySummary,
    RequalificationSummary,
    points_expire_due,
    points_release_due,
    tiers_requalify_due,
)
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from rewards.errors import RewardError
from rewards.services import reward_redeem
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, order_input, shop_with_program
from tests.loyalty.test_concurrency import run_concurrently
from tests.rewards.conftest import reward

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _clock_in_2029():
    """Orders cannot be recorded in the future: let the wall clock run from 2029 (jobs take their own ``now``)."""
    with time_machine.travel(dt.datetime(2029, 6, 1, tzinfo=UTC), tick=True):
        yield


def _program(shop, **fields) -> LoyaltyProgram:
    LoyaltyProgram.objects.filter(shop=shop).update(**fields)
    return LoyaltyProgram.objects.get(shop=shop)


def _deliver(shop, customer, order_id: str, amount: str, at: dt.datetime):
    """Record and process one delivered order (no broadcast)."""
    result = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at),
        idempotency_key=f"{shop.pk}:{order_id}",
        actor=None,
    )
    return order_event_process(event_id=result.event.pk, broadcast=False)


def _account(customer) -> MemberAccount:
    return MemberAccount.objects.select_related("tier").get(customer=customer)


def _snapshot() -> tuple:
    """Everything a job could change."""
    return (
        list(PointsEntry.objects.order_by("pk").values_list("pk", "kind", "points", "created_at")),
        list(PointsLot.objects.order_by("pk").values_list("pk", "remaining", "released_at")),
        list(
            MemberAccount.objects.order_by("pk").values_list(
                "pk", "points_available", "points_pending", "points_expired", "tier_id", "requalified_through"
            )
        ),
        list(TierChange.objects.order_by("pk").values_list("pk", "to_tier_id", "reason")),
    )


# --- Expiry -------------------------------------------------------------------------------------


def test_expiry_takes_due_lots_with_exact_balances():
    # given a 12-month expiry and two orders: 100 (Bronze x1, then Silver) and 50 (Silver x1.1 = 55)
    shop = shop_with_program()
    _program(shop, expiry_months=12)
    customer = CustomerFactory()
    _deliver(shop, customer, "A1", "100.00", dt.datetime(2026, 1, 5, 12, tzinfo=UTC))
    _deliver(shop, customer, "A2", "50.00", dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    first, second = PointsLot.objects.order_by("pk")
    assert (first.points, first.expires_at) == (100, dt.datetime(2027, 1, 19, 12, tzinfo=UTC))
    assert (second.points, second.expires_at) == (55, dt.datetime(2027, 3, 15, 12, tzinfo=UTC))
    # when the job runs as of 1 February 2027 (the release job never ran: both lots are pending)
    summary = points_expire_due(now=dt.datetime(2027, 2, 1, tzinfo=UTC), broadcast=False)
    # then the due lot is released (dated at its available_at) and then expired (at its expires_at)
    assert summary == ExpirySummary(accounts=1, lots=1, points=100)
    account = _account(customer)
    assert (account.points_available, account.points_pending, account.points_expired) == (55, 0, 100)
    assert account.lifetime_points == 155
    expiry = PointsEntry.objects.get(kind=EntryKind.EXPIRE)
    assert (expiry.points, expiry.available_delta, expiry.available_after, expiry.pending_after) == (-100, -100, 55, 0)
    assert expiry.created_at == first.expires_at
    assert expiry.idempotency_key == f"lot:{first.pk}:expire"
    assert expiry.reason == "Points of order A1 expired"
    assert (expiry.source_type, expiry.order.external_id) == ("system", "A1")
    assert list(PointsLot.objects.order_by("pk").values_list("remaining", flat=True)) == [0, 55]
    assert ledger_discrepancies() == []
    # and a second run, even later but before the second lot's expiry, changes nothing
    before = _snapshot()
    assert points_expire_due(now=dt.datetime(2027, 3, 15, 11, tzinfo=UTC)) == ExpirySummary(0, 0, 0)
    assert _snapshot() == before
    # and at the second lot's expiry the rest goes
    assert points_expire_due(now=dt.datetime(2027, 3, 15, 12, tzinfo=UTC), broadcast=False).points == 55
    account = _account(customer)
    assert (account.points_available, account.points_expired) == (0, 155)
    assert ledger_discrepancies() == []


def _points_member(shop, amounts, start=dt.datetime(2026, 1, 1, 12, tzinfo=UTC)):
    """A member of a shop that releases at once (pending 0 days) with one order per amount, a day apart."""
    customer = CustomerFactory()
    for number, amount in enumerate(amounts):
        _deliver(shop, customer, f"{customer.external_id}-{number}", amount, start + dt.timedelta(days=number))
    return customer


def test_a_partly_spent_lot_expires_only_its_remainder():
    # given lots of 80 and 90 points, expiring a day apart, and a redemption of 30 (from the first)
    shop = shop_with_program()
    _program(shop, pending_days=0, expiry_months=12)
    customer = _points_member(shop, ("80.00", "90.00"))
    mug = reward(shop, points_cost=30)
    reward_redeem(user=customer.user, reward_id=mug.pk, idempotency_key="r1", now=dt.datetime(2026, 6, 1, tzinfo=UTC))
    assert list(PointsLot.objects.order_by("pk").values_list("remaining", flat=True)) == [50, 90]
    # when the first lot expires
    summary = points_expire_due(now=dt.datetime(2027, 1, 1, 12, tzinfo=UTC), broadcast=False)
    # then only its remaining 50 points expire
    assert summary == ExpirySummary(accounts=1, lots=1, points=50)
    account = _account(customer)
    assert (account.points_available, account.points_redeemed, account.points_expired) == (90, 30, 50)
    assert list(PointsLot.objects.order_by("pk").values_list("remaining", flat=True)) == [0, 90]
    assert ledger_discrepancies() == []


def test_points_refunded_into_an_expired_lot_expire_again_at_the_refund():
    # given a lot of 100 expired with 40 of it spent before (redeem 40, then 60 expire)
    shop = shop_with_program()
    _program(shop, pending_days=0, expiry_months=12)
    customer = _points_member(shop, ("100.00",))
    lot = PointsLot.objects.get()
    mug = reward(shop, points_cost=40)
    redemption = reward_redeem(
        user=customer.user, reward_id=mug.pk, idempotency_key="r1", now=dt.datetime(2026, 12, 1, tzinfo=UTC)
    ).redemption
    assert points_expire_due(now=dt.datetime(2027, 1, 2, tzinfo=UTC), broadcast=False).points == 60
    # when the redemption is refunded after the expiry (its 40 points go back into the expired lot)
    refund_at = dt.datetime(2027, 1, 10, tzinfo=UTC)
    with transaction.atomic():
        account = account_lock(account_ids=[_account(customer).pk]).get()
        points_refund(
            account=account,
            redeem_entry=redemption.redeem_entry,
            movement=Movement(
                kind=EntryKind.REFUND,
                reason="Refund",
                source_type="redemption",
                source_id="1",
                idempotency_key="refund:1",
                at=refund_at,
            ),
        )
    # then the next run expires them again, dated at the refund, under a second key
    assert points_expire_due(now=dt.datetime(2027, 1, 11, tzinfo=UTC), broadcast=False).points == 40
    again = PointsEntry.objects.filter(kind=EntryKind.EXPIRE).order_by("pk").last()
    assert (again.points, again.created_at, again.idempotency_key) == (-40, refund_at, f"lot:{lot.pk}:expire:2")
    account = _account(customer)
    assert (account.points_available, account.points_expired, account.points_redeemed) == (0, 100, 0)
    assert ledger_discrepancies() == []


def test_expiring_a_granted_lot_names_its_reason_and_a_pending_lot_is_left_alone():
    shop = shop_with_program()
    customer = _points_member(shop, ("10.00",))  # pending 14 days, no expiry
    account = _account(customer)
    at = dt.datetime(2026, 2, 1, tzinfo=UTC)
    with transaction.atomic():
        locked = account_lock(account_ids=[account.pk]).get()
        points_grant(
            account=locked,
            points=25,
            expires_at=at + dt.timedelta(days=1),
            movement=Movement(
                kind=EntryKind.ADJUST,
                reason="Goodwill",
                source_type="staff",
                source_id="1",
                idempotency_key="adj:1",
                at=at,
            ),
        )
        pending = PointsLot.objects.select_related("entry__order").get(points=10)
        assert points_expire_lot(account=locked, lot=pending, at=at) is None  # still pending: never expired
    assert points_expire_due(now=at + dt.timedelta(days=2), broadcast=False) == ExpirySummary(1, 1, 25)
    assert PointsEntry.objects.get(kind=EntryKind.EXPIRE).reason == "Expired: Goodwill"
    assert ledger_discrepancies() == []


def test_dry_runs_write_nothing():
    shop = shop_with_program()
    _program(shop, expiry_months=1, tier_window="calendar_year")
    customer = CustomerFactory()
    _deliver(shop, customer, "A1", "300.00", dt.datetime(2026, 1, 5, 12, tzinfo=UTC))
    before = _snapshot()
    later = dt.datetime(2028, 3, 1, tzinfo=UTC)
    assert points_release_due(now=later, dry_run=True).points == 300
    assert points_expire_due(now=later, dry_run=True) == ExpirySummary(accounts=1, lots=1, points=300)
    assert tiers_requalify_due(now=later, dry_run=True) == RequalificationSummary(accounts=1, moved_down=1)
    assert _snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_two_expiry_jobs_at_once_expire_each_lot_once(postgres):
    # given 6 members with two due lots each
    shop = shop_with_program()
    _program(shop, pending_days=0, expiry_months=1)
    for _ in range(6):
        _points_member(shop, ("30.00", "20.00"))
    # when four instances of the job run at the same moment
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    results = run_concurrently([lambda: points_expire_due(now=now, broadcast=False)] * 4)
    # then every lot expired exactly once, whichever instance took it
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.points for r in results) == 6 * 50
    assert sum(r.lots for r in results) == 12
    assert PointsEntry.objects.filter(kind=EntryKind.EXPIRE).count() == 12
    assert sum(MemberAccount.objects.values_list("points_expired", flat=True)) == 300
    assert set(MemberAccount.objects.values_list("points_available", flat=True)) == {0}
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_two_release_jobs_at_once_release_each_lot_once(postgres):
    shop = shop_with_program()
    for _ in range(6):
        _points_member(shop, ("30.00", "20.00"))  # pending 14 days
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    results = run_concurrently([lambda: points_release_due(now=now, broadcast=False)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.points for r in results) == 300
    assert PointsEntry.objects.filter(kind=EntryKind.RELEASE).count() == 12
    assert set(MemberAccount.objects.values_list("points_available", "points_pending")) == {(50, 0)}
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_expiry_racing_a_redemption_on_the_same_account_stays_consistent(postgres):
    # given a member with a due lot of 50 points and a lot of 40 that expires later
    shop = shop_with_program()
    _program(shop, pending_days=0, expiry_months=1)
    customer = _points_member(shop, ("50.00", "40.00"))
    late = PointsLot.objects.order_by("pk").last()
    PointsLot.objects.filter(pk=late.pk).update(expires_at=dt.datetime(2026, 6, 1, tzinfo=UTC))
    gift = reward(shop, points_cost=60)
    now = dt.datetime(2026, 2, 15, tzinfo=UTC)  # the first lot expired on 1 February
    # when the expiry job and a 60-point redemption hit the account at the same moment
    results = run_concurrently(
        [
            lambda: points_expire_due(now=now, broadcast=False),
            lambda: reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r", now=now),
        ]
    )
    expired, redeemed = results
    assert isinstance(expired, ExpirySummary), results
    account = _account(customer)
    # then either the redemption came first (it took the expiring 50 first, nothing left to expire)
    # or the expiry did (50 expired, the redemption was refused for points); never both, never below 0
    if expired.points == 0:
        assert (account.points_available, account.points_redeemed, account.points_expired) == (30, 60, 0)
    else:
        assert isinstance(redeemed, RewardError), redeemed
        assert redeemed.code.value == "INSUFFICIENT_POINTS"
        assert (account.points_available, account.points_redeemed, account.points_expired) == (40, 0, 50)
    assert account.points_available + account.points_redeemed + account.points_expired == 90
    assert PointsEntry.objects.filter(available_after__lt=0).count() == 0
    assert ledger_discrepancies() == []


# --- Requalification ----------------------------------------------------------------------------


def _tier(shop, name: str) -> Tier:
    return Tier.objects.get(program__shop=shop, name=name)


def _calendar_shop(**fields):
    shop = shop_with_program()
    _program(shop, tier_window="calendar_year", **fields)
    return shop


NEW_YEAR_2027 = dt.datetime(2027, 1, 1, tzinfo=NY)


def test_calendar_year_requalification_keeps_or_moves_down_with_reasons():
    # given Bronze 0 / Silver 100 / Gold 250 / Platinum 500 on calendar-year spend:
    # one member spent 300 in 2026 (Gold), another 300 in 2025 and 120 in 2026 (Gold, then 120)
    shop = _calendar_shop()
    keeper, faller, entry_tier = CustomerFactory(), CustomerFactory(), CustomerFactory()
    _deliver(shop, keeper, "K1", "300.00", dt.datetime(2026, 5, 1, 12, tzinfo=UTC))
    _deliver(shop, faller, "F1", "300.00", dt.datetime(2025, 5, 1, 12, tzinfo=UTC))
    _deliver(shop, faller, "F2", "120.00", dt.datetime(2026, 5, 1, 12, tzinfo=UTC))
    _deliver(shop, entry_tier, "E1", "20.00", dt.datetime(2026, 5, 1, 12, tzinfo=UTC))
    assert (_account(keeper).tier.name, _account(faller).tier.name) == ("Gold", "Gold")
    # when the job runs in the last minute of 2026 in New York, only 2025 has ended: the faller
    # requalifies for 2026 on 300 spent in 2025 (Gold); the keeper joined in 2026
    assert tiers_requalify_due(now=NEW_YEAR_2027 - dt.timedelta(minutes=1)) == RequalificationSummary(
        accounts=1, kept=1
    )
    assert TierChange.objects.filter(reason__startswith="Requalified for 2026").get().account.customer == faller
    # when the job runs at New York's 1 January 2027
    summary = tiers_requalify_due(now=NEW_YEAR_2027, broadcast=False)
    # then the keeper keeps Gold, the faller moves down to Silver, the Bronze member is left alone
    assert summary == RequalificationSummary(accounts=2, kept=1, moved_down=1)
    kept, fell = _account(keeper), _account(faller)
    assert (kept.tier.name, fell.tier.name, _account(entry_tier).tier.name) == ("Gold", "Silver", "Bronze")
    assert kept.requalified_through == fell.requalified_through == NEW_YEAR_2027
    assert (kept.qualifying_value, fell.qualifying_value) == (Decimal("0"), Decimal("0"))  # 2027 so far
    last = TierChange.objects.filter(account=fell).order_by("pk").last()
    assert (last.from_tier.name, last.to_tier.name, last.qualifying_value) == ("Gold", "Silver", Decimal("120.00"))
    assert last.reason == "Requalified for 2027: 120.00 spent in 2026 moves down from Gold to Silver"
    assert last.created_at == NEW_YEAR_2027
    keep_row = TierChange.objects.filter(account=kept).order_by("pk").last()
    assert keep_row.reason == "Requalified for 2027: 300.00 spent in 2026 keeps Gold"
    assert (keep_row.from_tier.name, keep_row.to_tier.name) == ("Gold", "Gold")
    # and running it again (now or later in the year) changes nothing
    before = _snapshot()
    assert tiers_requalify_due(now=NEW_YEAR_2027) == RequalificationSummary()
    assert tiers_requalify_due(now=dt.datetime(2027, 12, 31, tzinfo=NY)) == RequalificationSummary()
    assert _snapshot() == before
    # and upgrades stay immediate: 250 spent in 2027 takes the faller back to Gold at once
    _deliver(shop, faller, "F3", "250.00", dt.datetime(2027, 2, 1, 12, tzinfo=UTC))
    assert _account(faller).tier.name == "Gold"


def test_grace_days_delay_the_downgrade_and_an_upgrade_during_grace_counts():
    shop = _calendar_shop(downgrade_grace_days=30)
    faller, back = CustomerFactory(), CustomerFactory()
    for customer in (faller, back):
        _deliver(shop, customer, f"{customer.pk}-1", "300.00", dt.datetime(2025, 12, 1, 12, tzinfo=UTC))
        _deliver(shop, customer, f"{customer.pk}-2", "120.00", dt.datetime(2026, 6, 1, 12, tzinfo=UTC))
    # the second member spends 260 during the grace period (an immediate upgrade to Gold in 2027)
    _deliver(shop, back, "B3", "260.00", dt.datetime(2027, 1, 20, 12, tzinfo=UTC))
    # within the grace period only 2025 has settled (both keep Gold for 2026 on 300 spent in 2025)
    assert tiers_requalify_due(now=dt.datetime(2027, 1, 30, tzinfo=NY)) == RequalificationSummary(accounts=2, kept=2)
    assert (_account(faller).tier.name, _account(back).tier.name) == ("Gold", "Gold")
    # at its end the first moves down; the second keeps Gold on what 2027 already earns
    assert tiers_requalify_due(now=dt.datetime(2027, 1, 31, tzinfo=NY), broadcast=False) == RequalificationSummary(
        accounts=2, kept=1, moved_down=1
    )
    assert (_account(faller).tier.name, _account(back).tier.name) == ("Silver", "Gold")
    row = TierChange.objects.filter(account__customer=back).order_by("pk").last()
    assert row.reason == "Requalified for 2027: 260.00 spent in 2027 so far keeps Gold"
    assert row.created_at == dt.datetime(2027, 1, 31, tzinfo=NY)
    assert _account(back).requalified_through == NEW_YEAR_2027


def test_never_downgrade_policy_only_marks_and_lifetime_windows_are_left_alone():
    never = _calendar_shop(downgrade_policy="never")
    lifetime = shop_with_program()  # lifetime window
    a, b = CustomerFactory(), CustomerFactory()
    _deliver(never, a, "N1", "300.00", dt.datetime(2025, 5, 1, 12, tzinfo=UTC))
    _deliver(lifetime, b, "L1", "300.00", dt.datetime(2025, 5, 1, 12, tzinfo=UTC))
    changes = TierChange.objects.count()
    assert tiers_requalify_due(now=NEW_YEAR_2027) == RequalificationSummary(accounts=1, marked=1)
    assert (_account(a).tier.name, _account(b).tier.name) == ("Gold", "Gold")
    assert _account(a).requalified_through == NEW_YEAR_2027
    assert _account(b).requalified_through is None
    assert TierChange.objects.count() == changes
    assert tiers_requalify_due(now=NEW_YEAR_2027) == RequalificationSummary()


def test_rolling_window_requalifies_on_the_anniversary_of_the_last_upgrade():
    shop = shop_with_program()
    _program(shop, tier_window="rolling_12_months")
    customer = CustomerFactory()
    _deliver(shop, customer, "R1", "150.00", dt.datetime(2026, 2, 1, 12, tzinfo=UTC))  # Silver
    _deliver(shop, customer, "R2", "150.00", dt.datetime(2026, 3, 10, 12, tzinfo=UTC))  # 300: Gold
    assert _account(customer).tier.name == "Gold"
    anniversary = dt.datetime(2027, 3, 10, 12, tzinfo=UTC)
    assert tiers_requalify_due(now=anniversary - dt.timedelta(seconds=1)) == RequalificationSummary()
    assert tiers_requalify_due(now=anniversary, broadcast=False) == RequalificationSummary(accounts=1, moved_down=1)
    account = _account(customer)
    assert (account.tier.name, account.requalified_through) == ("Silver", anniversary)
    row = TierChange.objects.filter(account=account).order_by("pk").last()
    assert (
        row.reason == "Requalified on 2027-03-10: 150.00 spent in the 12 months before moves down from Gold to Silver"
    )
    # the next requalification is a year later (nothing before, and nothing twice)
    assert tiers_requalify_due(now=anniversary + dt.timedelta(days=364)) == RequalificationSummary()
    assert tiers_requalify_due(now=anniversary + dt.timedelta(days=366), broadcast=False) == RequalificationSummary(
        accounts=1, moved_down=1
    )
    assert _account(customer).tier.name == "Bronze"
    assert tiers_requalify_due(now=anniversary + dt.timedelta(days=800)) == RequalificationSummary()


@pytest.mark.django_db(transaction=True)
def test_two_requalification_jobs_at_once_requalify_once(postgres):
    shop = _calendar_shop()
    for number in range(5):
        _deliver(shop, CustomerFactory(), f"Q{number}", "300.00", dt.datetime(2026, 5, 1, 12, tzinfo=UTC))
    results = run_concurrently([lambda: tiers_requalify_due(now=NEW_YEAR_2027, broadcast=False)] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.accounts for r in results) == 5
    assert TierChange.objects.filter(reason__startswith="Requalified").count() == 5


# --- What members see -----------------------------------------------------------------------------

SCHEDULES = """
query { viewer { accounts(first: 10) { edges { node {
  pointsPending pointsAvailable
  pendingReleases { date points }
  expiringPoints(limit: 2) { date points }
} } } } }
"""


def test_members_see_when_pending_points_become_available_and_when_points_expire():
    # given a 12-month expiry, two released lots and two pending ones (late-evening UTC deliveries are
    # the previous day in New York)
    shop = shop_with_program()
    _program(shop, expiry_months=12)
    customer = CustomerFactory()
    _deliver(shop, customer, "O1", "10.00", dt.datetime(2026, 1, 1, 3, tzinfo=UTC))  # NY: 31 Dec 2025
    _deliver(shop, customer, "O2", "20.00", dt.datetime(2026, 1, 1, 18, tzinfo=UTC))  # NY: 1 Jan 2026
    _deliver(shop, customer, "O3", "30.00", dt.datetime(2026, 1, 2, 12, tzinfo=UTC))
    _deliver(shop, customer, "O4", "40.00", dt.datetime(2026, 11, 10, 3, tzinfo=UTC))  # NY: 9 Nov
    _deliver(shop, customer, "O5", "50.00", dt.datetime(2026, 11, 10, 12, tzinfo=UTC))  # NY: 10 Nov, Silver x1.1
    points_release_due(now=dt.datetime(2026, 2, 1, tzinfo=UTC), broadcast=False)
    body = gql(login(customer.user), SCHEDULES)
    assert "errors" not in body, body
    node = body["data"]["viewer"]["accounts"]["edges"][0]["node"]
    assert (node["pointsAvailable"], node["pointsPending"]) == (60, 95)
    assert node["pendingReleases"] == [{"date": "2026-11-23", "points": 40}, {"date": "2026-11-24", "points": 55}]
    assert node["expiringPoints"] == [{"date": "2027-01-14", "points": 10}, {"date": "2027-01-15", "points": 20}]
    # a bad limit is a coded error
    body = gql(
        login(customer.user),
        "{ viewer { accounts(first: 1) { edges { node { expiringPoints(limit: 0) { date } } } } } }",
    )
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "limit"}


def test_staff_see_the_schedules_on_a_member_too():
    from tests.factories import staff

    shop = shop_with_program()
    customer = CustomerFactory()
    _deliver(shop, customer, "O1", "10.00", dt.datetime(2026, 1, 1, 12, tzinfo=UTC))
    account = _account(customer)
    query = """query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) {
      pendingReleases { date points } expiringPoints { date } } } }"""
    body = gql(login(staff(shop)), query, {"slug": shop.slug, "id": gid("MemberAccount", account.pk)})
    assert "errors" not in body, body
    assert body["data"]["shop"]["member"] == {
        "pendingReleases": [{"date": "2026-01-15", "points": 10}],
        "expiringPoints": [],
    }


# --- Commands and actors --------------------------------------------------------------------------


def _command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().strip()


def test_commands_print_one_line_and_respect_dry_run():
    shop = _calendar_shop(expiry_months=1)
    customer = CustomerFactory()
    _deliver(shop, customer, "A1", "300.00", dt.datetime(2026, 1, 5, 12, tzinfo=UTC))
    before = _snapshot()
    assert _command("release_points", "--dry-run", "--as-of", "2028-03-01") == (
        "release_points: accounts=1 lots=1 points=300 as_of=2028-03-01T00:00:00+00:00 dry_run=yes"
    )
    assert _command("expire_points", "--dry-run", "--as-of", "2028-03-01T00:00:00-05:00") == (
        "expire_points: accounts=1 lots=1 points=300 as_of=2028-03-01T00:00:00-05:00 dry_run=yes"
    )
    assert _command("requalify_tiers", "--dry-run", "--as-of", "2028-03-01") == (
        "requalify_tiers: accounts=1 kept=0 moved_down=1 marked=0 as_of=2028-03-01T00:00:00+00:00 dry_run=yes"
    )
    assert _snapshot() == before
    for name, line in [
        ("release_points", "release_points: accounts=1 lots=1 points=300 "),
        ("expire_points", "expire_points: accounts=1 lots=1 points=300 "),
        ("requalify_tiers", "requalify_tiers: accounts=1 kept=0 moved_down=1 "),
        ("release_points", "release_points: accounts=0 lots=0 points=0 "),
        ("expire_points", "expire_points: accounts=0 lots=0 points=0 "),
        ("requalify_tiers", "requalify_tiers: accounts=0 kept=0 moved_down=0 "),
    ]:
        assert _command(name, "--as-of", "2028-03-01").startswith(line)
    assert _account(customer).tier.name == "Bronze"
    assert ledger_discrepancies() == []
    with pytest.raises(CommandError):
        call_command("expire_points", "--as-of", "next tuesday", stdout=io.StringIO(), stderr=io.StringIO())


def test_actors_are_scheduled_and_run():
    from dramatiq_crontab import scheduler

    from loyalty import tasks
    from referrals import tasks as referral_tasks
    from rewards import tasks as reward_tasks

    names = {job.name for job in scheduler.get_jobs()}
    assert {
        "outbox_sweep_task",
        "points_release_task",
        "points_expire_task",
        "tiers_requalify_task",
        "occasions_bonus_task",
        "referrals_expire_task",
        "redemptions_expire_task",
    } <= names
    for actor in (
        tasks.outbox_sweep_task,
        tasks.points_release_task,
        tasks.points_expire_task,
        tasks.tiers_requalify_task,
        tasks.occasions_bonus_task,
        referral_tasks.referrals_expire_task,
        reward_tasks.redemptions_expire_task,
    ):
        actor.fn()  # each periodic job runs as scheduled, with nothing due


def test_release_expiry_and_requalification_reach_the_member_and_the_shop_live(django_capture_on_commit_callbacks):
    """Scope 7: every job's movement is pushed to accountUpdated (member group) and shopActivity
    (shop group) through the real channel layer, after its transaction commits."""
    from loyalty.broadcasts import ACCOUNT_UPDATED, member_group, shop_group
    from tests.live import GroupListener

    shop = _calendar_shop(pending_days=14, expiry_months=1)
    customer = CustomerFactory()
    _deliver(shop, customer, "L1", "300.00", dt.datetime(2025, 5, 1, 12, tzinfo=UTC))
    groups = [member_group(customer.pk), shop_group(shop.pk)]

    with GroupListener(groups) as listener:

        def pushed() -> list[tuple[str, str, int]]:
            messages = [listener.next(group) for group in groups]
            assert messages[0] == messages[1]  # the member and the shop hear the same update
            return [(m["type"], m["kind"], m["points"], m["reason"]) for m in messages][:1]

        with django_capture_on_commit_callbacks(execute=True):
            points_release_due(now=dt.datetime(2025, 5, 20, tzinfo=UTC))
        assert pushed() == [(ACCOUNT_UPDATED, "release", 300, "Pending points became available")]
        with django_capture_on_commit_callbacks(execute=True):
            points_expire_due(now=dt.datetime(2025, 6, 20, tzinfo=UTC))
        assert pushed() == [(ACCOUNT_UPDATED, "expire", -300, "300 points expired")]
        with django_capture_on_commit_callbacks(execute=True):
            tiers_requalify_due(now=dt.datetime(2026, 1, 2, tzinfo=UTC))  # 2025 kept Gold: no push
            tiers_requalify_due(now=dt.datetime(2027, 1, 2, tzinfo=UTC))  # nothing in 2026: Bronze
        [(kind_type, kind, points, reason)] = pushed()
        assert (kind_type, kind, points) == (ACCOUNT_UPDATED, "tier", 0)
        assert reason.startswith("Requalified for 2027")
