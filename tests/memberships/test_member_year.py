"""A member's year of a monthly plan with the clock frozen at each step (time-machine): the trial, a
reminder and a charge request before each renewal, renewals, one failed charge recovered on retry,
then failures until the subscription expires; the tier held and dropped at the right moments.

Every job runs twice at each moment (a restart) and once as a dry run: nothing happens twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from engagement.models import EngagementEvent, EngagementKind
from loyalty.models import MemberAccount, PointsEntry, TierChange
from loyalty.selectors import ledger_discrepancies
from marketplace.models import EventType, ShopEvent
from memberships.models import SubscriptionStatus
from memberships.services.lifecycle import subscriptions_advance
from memberships.services.payments import membership_payment_record
from memberships.services.subscriptions import membership_subscribe
from tests.memberships.helpers import T0, member_of, tier_of, vip_shop

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def day(month: int, date: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, date, hour, minute, tzinfo=dt.UTC)


def advance(now: dt.datetime) -> dict[str, int]:
    """The job at ``now``: a dry run, the run, and a restart that must find nothing left to do."""
    with time_machine.travel(now, tick=False):
        dry = subscriptions_advance(now=now, dry_run=True)
        done = subscriptions_advance(now=now)
        again = subscriptions_advance(now=now)
    assert dry.counts == done.counts
    assert again.counts == {}
    return done.counts


def events(shop, kind: EventType) -> int:
    return ShopEvent.objects.filter(shop=shop, type=kind).count()


def test_a_year_of_a_monthly_plan():
    shop, plan, owner = vip_shop()
    account = member_of(shop, spend="120.00")
    user = account.customer.user
    assert tier_of(account) == "Silver"

    def pay(outcome: str, at: dt.datetime, key: str):
        with time_machine.travel(at, tick=False):
            return membership_payment_record(
                user=owner,
                subscription_id=subscription.pk,
                outcome=outcome,
                amount=Decimal("9.99"),
                provider_reference=f"psp-{key}",
                idempotency_key=key,
                at=at,
            )

    def state() -> tuple[str, str]:
        subscription.refresh_from_db()
        return subscription.status, tier_of(account)

    # 1 January: subscribed, a 7-day trial, Gold at once.
    with time_machine.travel(T0, tick=False):
        subscription = membership_subscribe(user=user, plan_id=plan.pk, at=T0)
    assert state() == (S.TRIALING, "Gold")
    assert subscription.current_period_end == day(1, 8)
    up = TierChange.objects.filter(account=account).latest("created_at", "id")
    assert (up.from_tier.name, up.to_tier.name, up.membership) == ("Silver", "Gold", True)
    assert up.reason == "VIP Gold membership: free trial started"

    # Before the reminder window nothing is due; on 5 January (3 days ahead) one reminder.
    assert advance(day(1, 4, 9)) == {}
    assert advance(day(1, 5)) == {"remind": 1}
    reminders = EngagementEvent.objects.filter(account=account, kind=EngagementKind.RENEWAL_REMINDER)
    assert {e.channel for e in reminders} == {"inbox", "email"}
    inbox = reminders.get(channel="inbox")
    assert inbox.subject == "Your VIP Gold membership renews on January 8, 2026"
    assert events(shop, EventType.MEMBERSHIP_RENEWAL_UPCOMING) == 1

    # 8 January: the trial ends; the charge is asked for once, and paid.
    assert advance(day(1, 8)) == {"request_charge": 1}
    due = ShopEvent.objects.get(shop=shop, type=EventType.MEMBERSHIP_RENEWAL_DUE)
    assert (due.data["attempt"], due.data["amount"], due.data["currency"]) == (1, "9.99", "USD")
    paid = pay("succeeded", day(1, 8, 10, 5), "p1")
    assert state() == (S.ACTIVE, "Gold")
    assert (subscription.current_period_start, subscription.current_period_end) == (day(1, 8), day(2, 8))
    # 9.99 x 1 point x Gold's 1.25 x the plan's 2 = 24.975 -> 24 points, available at once.
    assert paid.payment.points == 24
    entry = PointsEntry.objects.get(idempotency_key=f"membership_payment:{paid.payment.pk}")
    assert (entry.points, entry.reason, entry.reason_code) == (24, "Membership VIP Gold paid", "membership_payment")
    assert advance(day(1, 9)) == {}

    # February: reminded, charged, declined (past due, still Gold), retried a day later and paid.
    assert advance(day(2, 5)) == {"remind": 1}
    assert advance(day(2, 8)) == {"request_charge": 1}
    pay("failed", day(2, 8, 10, 5), "p2")
    assert state() == (S.PAST_DUE, "Gold")
    assert advance(day(2, 9)) == {"request_charge": 1}
    pay("succeeded", day(2, 9, 10, 5), "p3")
    assert state() == (S.ACTIVE, "Gold")
    # The period keeps its anchor: paid late, it still runs 8 February to 8 March.
    assert (subscription.current_period_start, subscription.current_period_end) == (day(2, 8), day(3, 8))

    # March: every charge fails; past due a day after the end, retries on days 1, 3 and 5, and the
    # failure of the last one ends it: the member drops back to the tier their own spend holds.
    assert advance(day(3, 5)) == {"remind": 1}
    assert advance(day(3, 8)) == {"request_charge": 1}
    assert advance(day(3, 9)) == {"request_charge": 1, "past_due": 1}
    assert state() == (S.PAST_DUE, "Gold")
    assert advance(day(3, 11)) == {"request_charge": 1}
    assert advance(day(3, 13)) == {"request_charge": 1}
    assert state() == (S.PAST_DUE, "Gold")
    pay("failed", day(3, 13, 10, 5), "p4")
    assert state() == (S.EXPIRED, "Silver")
    down = TierChange.objects.filter(account=account).latest("created_at", "id")
    assert (down.from_tier.name, down.to_tier.name, down.membership) == ("Gold", "Silver", True)
    assert down.reason.startswith("VIP Gold membership ended: The renewal payment failed after 3 retries")
    assert advance(day(3, 20)) == {}
    assert advance(day(12, 31)) == {}

    assert events(shop, EventType.MEMBERSHIP_RENEWAL_DUE) == 1 + 2 + 4
    assert events(shop, EventType.MEMBERSHIP_RENEWAL_UPCOMING) == 3
    moves = [(t.from_status, t.to_status) for t in subscription.transitions.order_by("created_at", "id")]
    assert moves == [
        ("", "pending"),
        ("pending", "trialing"),
        ("trialing", "active"),
        ("active", "past_due"),
        ("past_due", "active"),
        ("active", "past_due"),
        ("past_due", "expired"),
    ]
    account = MemberAccount.objects.get(pk=account.pk)
    assert (account.tier_floor_id, account.tier_earned_id, account.membership_multiplier) == (None, None, 1)
    assert ledger_discrepancies() == []
