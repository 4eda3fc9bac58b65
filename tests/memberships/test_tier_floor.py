"""The tier a paid membership grants is a floor (loyalty.services.tiers): the member holds the higher of
their earned tier and the plan's; the earned tier moves beneath it the usual ways (orders, the worker's
bulk path, returns, requalification) and is what they go back to when the membership ends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, TierChange
from loyalty.services.lifecycle import tiers_requalify_due
from loyalty.services.orders import order_events_process_batch
from loyalty.services.tiers import tier_floor_clear, tier_floor_set
from marketplace.models import OrderEvent
from marketplace.services.orders import order_event_record
from memberships.models import Subscription
from memberships.services.subscriptions import membership_subscribe, subscription_cancel
from tests.factories import order_input
from tests.memberships.helpers import T0, deliver, member_of, tier_of, vip_shop

pytestmark = pytest.mark.django_db


def floor(account) -> tuple[str | None, str | None]:
    account = MemberAccount.objects.select_related("tier_floor", "tier_earned").get(pk=account.pk)
    return (
        account.tier_floor.name if account.tier_floor else None,
        account.tier_earned.name if account.tier_earned else None,
    )


def test_earning_above_the_floor_moves_the_tier_and_the_earned_tier_is_kept_after_the_end():
    shop, plan, _ = vip_shop()
    account = member_of(shop)
    subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    assert (tier_of(account), floor(account)) == ("Gold", ("Gold", "Bronze"))
    # 150 of spend: Silver earned beneath Gold; the member still holds Gold and no change is written.
    changes = TierChange.objects.count()
    deliver(shop, account.customer, "A1", "150.00", T0 + dt.timedelta(days=1))
    assert (tier_of(account), floor(account)) == ("Gold", ("Gold", "Silver"))
    assert TierChange.objects.count() == changes
    # 400 more: Platinum earned, above the floor: the member moves up.
    deliver(shop, account.customer, "A2", "400.00", T0 + dt.timedelta(days=2))
    assert (tier_of(account), floor(account)) == ("Platinum", ("Gold", "Platinum"))
    # Cancelled now: nothing drops (they earned Platinum themselves).
    subscription_cancel(user=account.customer.user, subscription_id=subscription.pk, at_period_end=False)
    assert (tier_of(account), floor(account)) == ("Platinum", (None, None))
    assert Subscription.objects.get().status == "cancelled"


def test_the_extra_multiplier_applies_to_orders_while_subscribed_only():
    shop, plan, _ = vip_shop()
    account = member_of(shop)
    subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    deliver(shop, account.customer, "A1", "10.00", T0 + dt.timedelta(days=1))
    # 10.00 x Gold's 1.25 x the plan's 2 = 25 points.
    assert PointsEntry.objects.get(idempotency_key__startswith="order:", account=account).points == 25
    subscription_cancel(user=account.customer.user, subscription_id=subscription.pk, at_period_end=False)
    deliver(shop, account.customer, "A2", "10.00", T0 + dt.timedelta(days=2))
    # Bronze again (10 + 10 of spend), 1.0 and no membership: 10 points.
    latest = PointsEntry.objects.filter(account=account, idempotency_key__startswith="order:").latest("id")
    assert latest.points == 10


def test_the_workers_bulk_path_leaves_a_floor_account_to_the_ordinary_path():
    shop, plan, _ = vip_shop()
    account = member_of(shop)
    membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    events = [
        order_event_record(
            data=order_input(shop, "B1", customer=account.customer, amount="120.00", at=T0 + dt.timedelta(days=1)),
            idempotency_key="B1",
            actor=None,
            notify=False,
        ).event
    ]
    order_events_process_batch(event_id=events[0].pk, max_attempts=5, broadcast=False)
    assert OrderEvent.objects.get(pk=events[0].pk).processed_at is not None
    # The earned tier beneath moved to Silver (the bulk path would not have touched it).
    assert (tier_of(account), floor(account)) == ("Gold", ("Gold", "Silver"))


def test_requalification_decides_the_earned_tier_and_keeps_the_floor():
    shop, plan, _ = vip_shop()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window="calendar_year", downgrade_policy="requalification")
    account = member_of(shop, spend="300.00", at=dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC))
    assert tier_of(account) == "Gold"
    platinum_plan_tier = plan.tier.program.tiers.get(name="Platinum")
    plan.tier = platinum_plan_tier
    plan.save()
    membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert (tier_of(account), floor(account)) == ("Platinum", ("Platinum", "Gold"))
    # New year: 2025's 300 spend keeps Gold earned; Platinum is held by the membership.
    summary = tiers_requalify_due(now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), broadcast=False)
    assert summary.accounts == 1
    assert (tier_of(account), floor(account)) == ("Platinum", ("Platinum", "Gold"))
    # The next year: nothing spent in 2026, so the earned tier goes down to Bronze beneath the floor.
    tiers_requalify_due(now=dt.datetime(2027, 1, 2, tzinfo=dt.UTC), broadcast=False)
    assert (tier_of(account), floor(account)) == ("Platinum", ("Platinum", "Bronze"))
    reason = TierChange.objects.filter(account=account).latest("created_at", "id").reason
    assert reason.endswith("; Platinum is held by a paid membership")
    # The floor goes: the member holds what they earned.
    with transaction.atomic():
        locked = (
            MemberAccount.objects.select_for_update(of=("self",)).select_related("tier", "program").get(pk=account.pk)
        )
        change = tier_floor_clear(account=locked, at=dt.datetime(2027, 2, 1, tzinfo=dt.UTC), reason="ended")
    assert (change.from_tier.name, change.to_tier.name, change.membership) == ("Platinum", "Bronze", True)
    assert (tier_of(account), floor(account)) == ("Bronze", (None, None))


def test_setting_the_same_floor_again_writes_nothing():
    shop, plan, _ = vip_shop()
    account = member_of(shop)
    with transaction.atomic():
        locked = (
            MemberAccount.objects.select_for_update(of=("self",)).select_related("tier", "program").get(pk=account.pk)
        )
        first = tier_floor_set(account=locked, tier=plan.tier, multiplier=Decimal("2"), at=T0, reason="x")
        again = tier_floor_set(account=locked, tier=plan.tier, multiplier=Decimal("2"), at=T0, reason="x")
    assert first is not None
    assert again is None
    assert floor(account) == ("Gold", "Bronze")
