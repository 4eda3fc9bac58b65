"""Referral rules: applying a code (every refusal), completion, reversal, the monthly cap, expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from loyalty.models import EntryKind, MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from marketplace.models import Customer
from marketplace.services.orders import order_event_record
from referrals.errors import ReferralError, ReferralErrorCode
from referrals.models import Referral, ReferralCode, ReferralStatus
from referrals.selectors import code_normalise
from referrals.services import referral_apply, referral_code_for, referrals_expire_due
from tests.factories import CustomerFactory, UserFactory, order_input, shop_with_program
from tests.referrals.helpers import T0, deliver, member_with_code, referral_shop

pytestmark = [pytest.mark.django_db]


def _refused(expected: ReferralErrorCode, **kwargs) -> None:
    before = Referral.objects.count()
    with pytest.raises(ReferralError) as info:
        referral_apply(now=T0, **kwargs)
    assert info.value.code == expected
    assert Referral.objects.count() == before


def test_code_is_readable_unique_and_stable():
    shop = referral_shop()
    account, code = member_with_code(shop)
    assert referral_code_for(account) == code
    assert len(code.code) == 8
    assert set(code.code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    _, other_code = member_with_code(shop)
    assert other_code.code != code.code
    assert code_normalise(code.code.lower()[:4] + "-" + code.code.lower()[4:]) == code.code


def test_apply_opens_a_referral():
    shop = referral_shop()
    _, code = member_with_code(shop)
    friend = CustomerFactory()
    referral = referral_apply(user=friend.user, shop_id=shop.pk, code=code.code.lower(), now=T0)
    assert (referral.status, referral.referee, referral.code) == (ReferralStatus.OPEN, friend, code)
    assert referral.expires_at == T0 + dt.timedelta(days=30)


def test_refusals_write_nothing():
    shop = referral_shop()
    account, code = member_with_code(shop, email="ann@example.com", phone="+1 555 0100")
    _refused(ReferralErrorCode.NOT_AUTHENTICATED, user=AnonymousUser(), shop_id=shop.pk, code=code.code)
    _refused(ReferralErrorCode.NOT_A_CUSTOMER, user=UserFactory(), shop_id=shop.pk, code=code.code)
    friend = CustomerFactory()
    _refused(ReferralErrorCode.CODE_UNKNOWN, user=friend.user, shop_id=shop.pk, code="ZZZZZZZZ")
    other_shop = referral_shop()
    _refused(ReferralErrorCode.CODE_UNKNOWN, user=friend.user, shop_id=other_shop.pk, code=code.code)
    _refused(ReferralErrorCode.OWN_CODE, user=account.customer.user, shop_id=shop.pk, code=code.code)
    twin = CustomerFactory(email="ANN@example.com ")
    _refused(ReferralErrorCode.SAME_CONTACT, user=twin.user, shop_id=shop.pk, code=code.code)
    phone_twin = CustomerFactory(phone="+1-555-0100")
    _refused(ReferralErrorCode.SAME_CONTACT, user=phone_twin.user, shop_id=shop.pk, code=code.code)
    ReferralCode.objects.filter(pk=code.pk).update(expires_at=T0)
    _refused(ReferralErrorCode.CODE_EXPIRED, user=friend.user, shop_id=shop.pk, code=code.code)


def test_refused_when_already_referred_or_already_a_customer():
    shop = referral_shop()
    _, code = member_with_code(shop)
    _, second_code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    _refused(ReferralErrorCode.ALREADY_REFERRED, user=friend.user, shop_id=shop.pk, code=second_code.code)
    regular = CustomerFactory()
    deliver(shop, regular, "R1")
    _refused(ReferralErrorCode.ALREADY_CUSTOMER, user=regular.user, shop_id=shop.pk, code=code.code)


def test_refused_when_disabled():
    shop = referral_shop(enabled=False)
    _, code = member_with_code(shop)
    _refused(ReferralErrorCode.DISABLED, user=CustomerFactory().user, shop_id=shop.pk, code=code.code)
    plain = shop_with_program()  # no referral settings at all
    _, plain_code = member_with_code(plain)
    _refused(ReferralErrorCode.DISABLED, user=CustomerFactory().user, shop_id=plain.pk, code=plain_code.code)


def _balances(account_id: int) -> tuple[int, int]:
    account = MemberAccount.objects.get(pk=account_id)
    return account.points_available, account.points_pending


def test_first_qualifying_delivery_completes_and_posts_both_bonuses():
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral = referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, friend, "F1", amount="10.00")  # below the 20.00 minimum: stays open
    assert Referral.objects.get().status == ReferralStatus.OPEN
    deliver(shop, friend, "F2", amount="25.00")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED
    assert referral.qualifying_order.external_id == "F2"
    assert (referral.referrer_points, referral.referee_points) == (100, 50)
    assert _balances(referrer.pk) == (100, 0)
    friend_account = MemberAccount.objects.get(customer=friend)
    assert friend_account.points_available == 50
    keys = set(PointsEntry.objects.filter(kind=EntryKind.BONUS).values_list("idempotency_key", flat=True))
    assert keys == {f"referral:{referral.pk}:referrer", f"referral:{referral.pk}:referee"}
    deliver(shop, friend, "F3", amount="99.00")  # a later order changes nothing
    assert PointsEntry.objects.filter(kind=EntryKind.BONUS).count() == 2
    assert ledger_discrepancies() == []


def test_duplicate_delivery_message_completes_once():
    shop = referral_shop()
    _, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    event = deliver(shop, friend, "F1")
    from loyalty.services.orders import order_event_process

    assert order_event_process(event_id=event.pk, broadcast=False).already_processed
    assert PointsEntry.objects.filter(kind=EntryKind.BONUS).count() == 2


@pytest.mark.parametrize("status", ["returned", "refunded"])
def test_return_inside_window_reverses_both_bonuses(status):
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=3))
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=5), status=status)
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.REVERSED
    assert _balances(referrer.pk) == (0, 0)
    assert MemberAccount.objects.get(customer=friend).points_available == 0
    reversals = PointsEntry.objects.filter(kind=EntryKind.REVERSE, source_type="referral")
    assert sorted(e.points for e in reversals) == [-100, -50]
    assert all("Referral bonus reversed" in e.reason for e in reversals)
    assert ledger_discrepancies() == []


def test_a_partial_return_keeps_both_bonuses_and_a_later_full_return_reverses_them_once():
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    event = order_event_record(
        data=order_input(shop, "F1", customer=friend, at=T0 + dt.timedelta(days=3), items=((1, "20.00"), (1, "10.00"))),
        idempotency_key="F1:delivered",
        actor=None,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)
    assert Referral.objects.get().status == ReferralStatus.COMPLETED
    partial = order_event_record(
        data=order_input(
            shop, "F1", "partially_returned", at=T0 + dt.timedelta(days=4), lines=False, returned=((2, 1),)
        ),
        idempotency_key="F1:partial",
        actor=None,
    ).event
    order_event_process(event_id=partial.pk, broadcast=False)
    # the friend kept most of the order: the referral stands
    assert Referral.objects.get().status == ReferralStatus.COMPLETED
    assert _balances(referrer.pk)[0] == 100
    for day, status in ((5, "returned"), (6, "refunded")):  # a refund after the return takes nothing more
        later = order_event_record(
            data=order_input(shop, "F1", status, at=T0 + dt.timedelta(days=day), lines=False),
            idempotency_key=f"F1:{status}",
            actor=None,
        ).event
        order_event_process(event_id=later.pk, broadcast=False)
    assert Referral.objects.get().status == ReferralStatus.REVERSED
    reversals = PointsEntry.objects.filter(kind=EntryKind.REVERSE, source_type="referral")
    assert sorted(e.points for e in reversals) == [-100, -50]
    assert ledger_discrepancies() == []


def test_return_after_spending_takes_what_is_there_and_records_the_rest():
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, friend, "F1")
    from django.db import transaction

    from loyalty.models import SourceType
    from loyalty.services.ledger import Movement, account_lock, points_spend

    with transaction.atomic():
        account = account_lock(account_ids=[referrer.pk]).get()
        points_spend(
            account=account,
            points=70,
            movement=Movement(
                kind=EntryKind.ADJUST,
                reason="spent",
                source_type=SourceType.STAFF,
                source_id="",
                idempotency_key="x",
                at=T0 + dt.timedelta(days=4),
            ),
        )
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=5), status="returned")
    entry = PointsEntry.objects.get(kind=EntryKind.REVERSE, idempotency_key__endswith=":referrer:reverse")
    assert (entry.points, entry.unrecovered_points) == (-30, 70)
    assert _balances(referrer.pk) == (0, 0)
    assert ledger_discrepancies() == []


def test_return_after_the_window_keeps_the_bonuses():
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=3))
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=30), status="returned")
    assert Referral.objects.get().status == ReferralStatus.COMPLETED
    assert _balances(referrer.pk)[0] == 100


def test_monthly_cap_at_apply_and_at_completion():
    shop = referral_shop(monthly_cap=1)
    referrer, code = member_with_code(shop)
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    referral_apply(user=first.user, shop_id=shop.pk, code=code.code, now=T0)
    referral_apply(user=second.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, first, "A1")
    _refused(ReferralErrorCode.CAP_REACHED, user=third.user, shop_id=shop.pk, code=code.code)
    deliver(shop, second, "B1")  # same month: over the cap, stays open
    assert Referral.objects.get(referee=second).status == ReferralStatus.OPEN
    deliver(shop, second, "B2", at=dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC))  # next month: completes
    assert Referral.objects.get(referee=second).status == ReferralStatus.COMPLETED
    assert _balances(referrer.pk)[0] == 200


def test_open_referrals_expire_and_the_job_is_idempotent(capsys):
    shop = referral_shop(open_days=10)
    _, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    assert referrals_expire_due(T0 + dt.timedelta(days=9)) == 0
    call_command("expire_referrals", "--dry-run", "--as-of", (T0 + dt.timedelta(days=10)).isoformat())
    assert "referrals=1" in capsys.readouterr().out
    assert Referral.objects.get().status == ReferralStatus.OPEN
    assert referrals_expire_due(T0 + dt.timedelta(days=10)) == 1
    assert referrals_expire_due(T0 + dt.timedelta(days=11)) == 0
    assert Referral.objects.get().status == ReferralStatus.EXPIRED
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=12))
    assert not PointsEntry.objects.filter(kind=EntryKind.BONUS).exists()


def test_delivery_after_expiry_date_before_the_job_does_not_complete():
    shop = referral_shop(open_days=1)
    _, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    deliver(shop, friend, "F1", at=T0 + dt.timedelta(days=2))
    assert Referral.objects.get().status == ReferralStatus.OPEN
    assert Customer.objects.count() == 2
