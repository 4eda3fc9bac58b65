"""Payment reports are recorded exactly once: duplicate calls replay, racing payments are serialised on
the subscription's row lock (real concurrent transactions on PostgreSQL), and refused input changes
nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from loyalty.models import MemberAccount, PointsEntry, TierChange
from loyalty.selectors import ledger_discrepancies
from marketplace.models import EventType, ShopEvent, StaffRole
from memberships.errors import MembershipError
from memberships.models import MembershipPayment, Subscription, SubscriptionTransition
from memberships.services.lifecycle import subscriptions_advance
from memberships.services.payments import membership_payment_record
from memberships.services.subscriptions import membership_subscribe
from tests.factories import staff
from tests.loyalty.test_concurrency import run_concurrently
from tests.memberships.helpers import T0, member_of, tier_of, vip_shop

pytestmark = [pytest.mark.django_db(transaction=True)]


def record(owner, subscription, key: str, *, outcome: str = "succeeded", amount: str = "9.99", ref: str = "psp"):
    return membership_payment_record(
        user=owner,
        subscription_id=subscription.pk,
        outcome=outcome,
        amount=Decimal(amount),
        provider_reference=ref,
        idempotency_key=key,
        at=T0 + dt.timedelta(minutes=5),
    )


def pending_subscription():
    shop, plan, owner = vip_shop(trial_days=0)
    account = member_of(shop)
    subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=T0)
    assert subscription.status == "pending"
    assert tier_of(account) == "Bronze"
    return shop, owner, account, subscription


def state() -> tuple:
    return (
        list(Subscription.objects.values()),
        list(SubscriptionTransition.objects.values()),
        list(MembershipPayment.objects.values()),
        PointsEntry.objects.count(),
        list(MemberAccount.objects.values()),
        ShopEvent.objects.count(),
    )


def test_the_first_payment_activates_and_a_duplicate_replays(postgres):
    _shop, owner, account, subscription = pending_subscription()
    first = record(owner, subscription, "pay-1")
    second = record(owner, subscription, "pay-1")
    assert (first.replayed, second.replayed, second.payment.pk) == (False, True, first.payment.pk)
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert tier_of(account) == "Gold"
    assert MembershipPayment.objects.count() == 1
    assert PointsEntry.objects.filter(idempotency_key__startswith="membership_payment:").count() == 1
    assert ShopEvent.objects.filter(type=EventType.MEMBERSHIP_PAYMENT_RECORDED).count() == 1


def test_the_same_key_four_times_at_once_records_one_payment(postgres):
    _shop, owner, account, subscription = pending_subscription()
    results = run_concurrently([lambda: record(owner, subscription, "pay-1")] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert MembershipPayment.objects.count() == 1
    assert PointsEntry.objects.filter(idempotency_key__startswith="membership_payment:").count() == 1
    assert TierChange.objects.filter(account=account, membership=True).count() == 1
    assert ledger_discrepancies() == []


def test_two_different_payments_for_one_renewal_at_once_pay_it_once(postgres):
    """The shop's system charged twice (two keys): one pays the period, the other is refused as
    PAYMENT_NOT_DUE and recorded nowhere (the shop refunds it)."""
    _shop, owner, _account, subscription = pending_subscription()
    record(owner, subscription, "pay-1")
    subscription.refresh_from_db()
    subscriptions_advance(now=subscription.current_period_end)  # the renewal's charge is asked for
    results = run_concurrently(
        [lambda: record(owner, subscription, "renew-a"), lambda: record(owner, subscription, "renew-b")]
    )
    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, MembershipError)]
    assert len(paid) == 1
    assert [e.code.value for e in refused] == ["PAYMENT_NOT_DUE"]
    subscription.refresh_from_db()
    assert subscription.current_period_end == dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)
    assert MembershipPayment.objects.filter(outcome="succeeded").count() == 2
    assert ledger_discrepancies() == []


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount": "10.00"}, "INVALID_INPUT", "amount"),
        ({"amount": "9.999"}, "INVALID_INPUT", "amount"),
        ({"amount": "-9.99"}, "INVALID_INPUT", "amount"),
        ({"outcome": "maybe"}, "INVALID_INPUT", "outcome"),
        ({"key": ""}, "INVALID_INPUT", "idempotencyKey"),
        ({"ref": "x" * 201}, "INVALID_INPUT", "providerReference"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_changes_nothing(postgres, change, code, field):
    _shop, owner, _account, subscription = pending_subscription()
    before = state()
    with pytest.raises(MembershipError) as refused:
        record(
            owner,
            subscription,
            change.get("key", "pay-1"),
            outcome=change.get("outcome", "succeeded"),
            amount=change.get("amount", "9.99"),
            ref=change.get("ref", "psp"),
        )
    assert (refused.value.code.value, refused.value.field) == (code, field)
    assert state() == before


def test_a_key_reused_for_another_payment_is_a_conflict_and_nothing_due_is_refused(postgres):
    shop, owner, _account, subscription = pending_subscription()
    record(owner, subscription, "pay-1")
    before = state()
    with pytest.raises(MembershipError) as conflict:
        record(owner, subscription, "pay-1", outcome="failed")
    assert conflict.value.code.value == "IDEMPOTENCY_CONFLICT"
    with pytest.raises(MembershipError) as not_due:
        record(owner, subscription, "pay-2")  # the period is paid; no renewal was asked for
    assert not_due.value.code.value == "PAYMENT_NOT_DUE"
    cashier = staff(shop, StaffRole.CASHIER)
    with pytest.raises(MembershipError) as denied:
        record(cashier, subscription, "pay-3")
    assert denied.value.code.value == "PERMISSION_DENIED"
    assert state() == before
