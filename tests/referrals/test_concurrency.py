"""Referral completion exactly once under real concurrent workers (PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from loyalty.models import EntryKind, MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from referrals.models import Referral, ReferralStatus
from referrals.services import referral_apply
from tests.factories import CustomerFactory, order_input
from tests.loyalty.test_concurrency import run_concurrently
from tests.referrals.helpers import T0, member_with_code, referral_shop

pytestmark = [pytest.mark.django_db(transaction=True)]


def _record(shop, customer, order_id: str):
    return order_event_record(
        data=order_input(shop, order_id, customer=customer, amount="40.00", at=T0 + dt.timedelta(days=2)),
        idempotency_key=order_id,
        actor=None,
    ).event


def test_concurrent_workers_on_one_delivery_complete_once(postgres):
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    event = _record(shop, friend, "F1")
    results = run_concurrently([lambda: order_event_process(event_id=event.pk, broadcast=False)] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert PointsEntry.objects.filter(kind=EntryKind.BONUS).count() == 2
    assert Referral.objects.get().status == ReferralStatus.COMPLETED
    assert MemberAccount.objects.get(pk=referrer.pk).points_available == 100
    assert ledger_discrepancies() == []


def test_two_qualifying_orders_delivered_at_once_complete_once(postgres):
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    events = [_record(shop, friend, "F1"), _record(shop, friend, "F2")]
    results = run_concurrently([lambda e=e: order_event_process(event_id=e.pk, broadcast=False) for e in events])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert PointsEntry.objects.filter(kind=EntryKind.BONUS).count() == 2
    assert MemberAccount.objects.get(pk=referrer.pk).points_available == 100
    assert ledger_discrepancies() == []


def test_two_friends_of_one_referrer_at_once_respect_the_cap(postgres):
    shop = referral_shop(monthly_cap=1)
    referrer, code = member_with_code(shop)
    friends = [CustomerFactory(), CustomerFactory()]
    for friend in friends:
        referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    events = [_record(shop, friend, f"F{i}") for i, friend in enumerate(friends)]
    results = run_concurrently([lambda e=e: order_event_process(event_id=e.pk, broadcast=False) for e in events])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Referral.objects.filter(status=ReferralStatus.COMPLETED).count() == 1
    assert MemberAccount.objects.get(pk=referrer.pk).points_available == 100
    assert ledger_discrepancies() == []


def test_one_friend_applying_two_codes_at_once_gets_one_referral(postgres):
    shop = referral_shop()
    codes = [member_with_code(shop)[1], member_with_code(shop)[1]]
    friend = CustomerFactory()
    results = run_concurrently(
        [lambda c=c: referral_apply(user=friend.user, shop_id=shop.pk, code=c.code, now=T0) for c in codes]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1
    assert refused[0].code.value == "ALREADY_REFERRED"
    assert Referral.objects.count() == 1
