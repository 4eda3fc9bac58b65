"""The scheduled job and the member's own moves: idempotent across restarts and concurrent runs,
deterministic after downtime (it asks once for the latest charge due, never for each it missed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from marketplace.models import EventType, ShopEvent
from memberships.models import Subscription
from memberships.services.lifecycle import subscriptions_advance
from memberships.services.payments import membership_payment_record
from memberships.services.subscriptions import (
    membership_subscribe,
    subscription_auto_renew_set,
    subscription_cancel,
    subscription_pause,
    subscription_resume,
)
from tests.loyalty.test_concurrency import run_concurrently
from tests.memberships.helpers import T0, member_of, tier_of, vip_shop

TRIAL_END = T0 + dt.timedelta(days=7)


def trialing():
    shop, plan, owner = vip_shop()
    account = member_of(shop)
    subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    return shop, owner, account, subscription


def due_events(shop) -> list[int]:
    return [e.data["attempt"] for e in ShopEvent.objects.filter(shop=shop, type=EventType.MEMBERSHIP_RENEWAL_DUE)]


@pytest.mark.django_db
def test_after_downtime_the_job_asks_once_for_the_latest_charge_due():
    shop, _owner, account, subscription = trialing()
    # Down from before the trial's end until 4 days after: one request (attempt 3: the end, +1 and +3
    # days have passed), past due; the missed reminder is not sent late.
    summary = subscriptions_advance(now=TRIAL_END + dt.timedelta(days=4))
    assert summary.counts == {"request_charge": 1, "past_due": 1}
    assert due_events(shop) == [3]
    assert ShopEvent.objects.filter(type=EventType.MEMBERSHIP_RENEWAL_UPCOMING).count() == 0
    # Down again past the last retry's day: it expires; no request for the +5 days it missed.
    assert subscriptions_advance(now=TRIAL_END + dt.timedelta(days=6, hours=1)).counts == {"expire_failed": 1}
    assert due_events(shop) == [3]
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert tier_of(account) == "Bronze"


@pytest.mark.django_db(transaction=True)
def test_four_concurrent_runs_ask_for_the_charge_once(postgres):
    shop, _owner, _account, _subscription = trialing()
    results = run_concurrently([lambda: subscriptions_advance(now=TRIAL_END)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert due_events(shop) == [1]
    assert sum(r.counts.get("request_charge", 0) for r in results) == 1


@pytest.mark.django_db
def test_an_unpaid_pending_subscription_expires_after_a_day_and_holds_no_tier():
    shop, plan, _owner = vip_shop(trial_days=0)
    account = member_of(shop)
    subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    assert subscriptions_advance(now=T0 + dt.timedelta(hours=23)).counts == {}
    assert subscriptions_advance(now=T0 + dt.timedelta(days=1)).counts == {"expire_unpaid": 1}
    subscription.refresh_from_db()
    assert (subscription.status, tier_of(account)) == ("expired", "Bronze")
    # A new subscription may start; the member had no trial, and this plan has none anyway.
    again = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0 + dt.timedelta(days=2))
    assert again.status == "pending"


@pytest.mark.django_db
def test_auto_renewal_off_ends_the_period_without_a_charge_and_on_again_renews():
    shop, _owner, account, subscription = trialing()
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        subscription_auto_renew_set(user=account.customer.user, subscription_id=subscription.pk, auto_renew=False)
    # No reminder, no charge request while it is off.
    assert subscriptions_advance(now=TRIAL_END - dt.timedelta(days=2)).counts == {}
    with time_machine.travel(TRIAL_END - dt.timedelta(days=1), tick=False):
        subscription_auto_renew_set(user=account.customer.user, subscription_id=subscription.pk, auto_renew=True)
    assert subscriptions_advance(now=TRIAL_END - dt.timedelta(hours=1)).counts == {"remind": 1}
    with time_machine.travel(TRIAL_END - dt.timedelta(minutes=30), tick=False):
        subscription_auto_renew_set(user=account.customer.user, subscription_id=subscription.pk, auto_renew=False)
    assert subscriptions_advance(now=TRIAL_END).counts == {"end": 1}
    subscription.refresh_from_db()
    assert (subscription.status, tier_of(account), due_events(shop)) == ("expired", "Bronze", [])
    reasons = list(subscription.transitions.values_list("reason", flat=True))
    assert reasons[-1] == "Not renewed: auto-renewal is off"
    assert "Auto-renewal turned off" in reasons


@pytest.mark.django_db
def test_cancel_at_period_end_keeps_the_tier_until_then_and_pause_keeps_the_paid_time():
    shop, owner, account, subscription = trialing()
    membership_payment_record(
        user=owner,
        subscription_id=subscription.pk,
        outcome="succeeded",
        amount=Decimal("9.99"),
        provider_reference="",
        idempotency_key="early",
        at=TRIAL_END,  # the trial ended: the charge is overdue even before the job asked
    )
    subscription.refresh_from_db()
    end = subscription.current_period_end
    assert (subscription.status, end) == ("active", dt.datetime(2026, 2, 8, 10, tzinfo=dt.UTC))
    # Paused ten days before the end: no tier; resumed later with the ten days left.
    with time_machine.travel(end - dt.timedelta(days=10), tick=False):
        subscription_pause(user=account.customer.user, subscription_id=subscription.pk)
    assert tier_of(account) == "Bronze"
    assert subscriptions_advance(now=end + dt.timedelta(days=30)).counts == {}
    resumed_at = end + dt.timedelta(days=30)
    with time_machine.travel(resumed_at, tick=False):
        subscription_resume(user=account.customer.user, subscription_id=subscription.pk)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == ("active", resumed_at + dt.timedelta(days=10))
    assert tier_of(account) == "Gold"
    with time_machine.travel(resumed_at + dt.timedelta(days=1), tick=False):
        subscription_cancel(user=account.customer.user, subscription_id=subscription.pk, at_period_end=True)
    assert tier_of(account) == "Gold"
    assert subscriptions_advance(now=subscription.current_period_end).counts == {"end": 1}
    subscription.refresh_from_db()
    assert (subscription.status, tier_of(account)) == ("cancelled", "Bronze")
    assert due_events(shop) == []


@pytest.mark.django_db
def test_the_command_dry_run_and_as_of():
    shop, _owner, _account, _subscription = trialing()
    out = StringIO()
    call_command("memberships_advance", "--dry-run", "--as-of", TRIAL_END.isoformat(), stdout=out)
    assert out.getvalue().strip() == "due: 1 subscriptions: request_charge 1"
    assert due_events(shop) == []
    call_command("memberships_advance", "--as-of", TRIAL_END.isoformat(), "--shop", shop.slug, stdout=out)
    call_command("memberships_advance", "--as-of", TRIAL_END.isoformat(), stdout=out)
    assert due_events(shop) == [1]
    assert Subscription.objects.get().charge_attempts == 1


@pytest.mark.django_db
def test_an_erased_member_is_exported_then_cancelled_and_never_charged():
    from crm.services.privacy import member_data_export, viewer_erase

    shop, _owner, account, subscription = trialing()
    user = account.customer.user
    exported = member_data_export(user=user, fmt="json")
    assert '"membershipSubscriptions"' in exported.content
    assert '"VIP Gold"' in exported.content
    viewer_erase(user=user, confirm="ERASE")
    subscription.refresh_from_db()
    assert (subscription.status, tier_of(account)) == ("cancelled", "Bronze")
    assert subscriptions_advance(now=TRIAL_END).counts == {}
    assert due_events(shop) == []


@pytest.mark.django_db
def test_auto_renewal_on_withdraws_a_cancellation_at_period_end():
    shop, _owner, account, subscription = trialing()
    user = account.customer.user
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        subscription_cancel(user=user, subscription_id=subscription.pk, at_period_end=True)
        subscription_auto_renew_set(user=user, subscription_id=subscription.pk, auto_renew=True)
    subscription.refresh_from_db()
    assert (subscription.cancel_at_period_end, subscription.auto_renew) == (False, True)
    assert (
        subscription.transitions.latest("created_at", "id").reason == "Cancellation withdrawn; auto-renewal turned on"
    )
    assert subscriptions_advance(now=TRIAL_END).counts == {"request_charge": 1}
    assert due_events(shop) == [1]
    assert tier_of(account) == "Gold"
