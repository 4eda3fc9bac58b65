"""reward_redeem, cancel and expiry: the ledger entry by entry, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from loyalty.models import EntryKind, MemberAccount, PointsEntry, PointsLot, PointsLotConsumption, Tier
from loyalty.selectors import ledger_discrepancies
from rewards.errors import RewardError, RewardErrorCode
from rewards.models import Redemption, RedemptionStatus, Reward, RewardStatus
from rewards.services import redemption_cancel, redemptions_expire, reward_redeem
from tests.factories import CustomerFactory, UserFactory, staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _state(customer) -> tuple:
    account = MemberAccount.objects.get(customer=customer)
    return (
        account.points_available,
        account.points_redeemed,
        PointsEntry.objects.count(),
        Redemption.objects.count(),
        list(PointsLot.objects.order_by("pk").values_list("remaining", flat=True)),
        list(Reward.objects.order_by("pk").values_list("stock", flat=True)),
    )


def test_redeem_takes_lots_that_expire_first_and_cancel_puts_them_back():
    # given three lots of 40, 50 and 200 points earned a day apart (so expiring a day apart)
    shop = points_shop()
    customer = member_with_points(shop, amounts=("40.00", "50.00", "200.00"))
    lots = list(PointsLot.objects.order_by("expires_at"))
    assert [lot.points for lot in lots] == [40, 50, 200]  # all earned in Bronze (x1): 90 < 100 before the third
    gift = reward(shop, points_cost=120)
    # when the member redeems 120 points
    redemption = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW).redemption
    # then the earliest-expiring lots were consumed first: 40, then 50, then 30 of the third
    consumed = list(PointsLotConsumption.objects.filter(entry=redemption.redeem_entry).order_by("lot__expires_at"))
    assert [(c.lot_id, c.points) for c in consumed] == [(lots[0].pk, 40), (lots[1].pk, 50), (lots[2].pk, 30)]
    assert list(PointsLot.objects.order_by("expires_at").values_list("remaining", flat=True)) == [0, 0, 170]
    entry = redemption.redeem_entry
    assert (entry.kind, entry.points, entry.available_after, entry.reason) == ("redeem", -120, 170, "Redeemed: Mug")
    assert redemption.status == RedemptionStatus.ISSUED
    assert redemption.expires_at == NOW + dt.timedelta(days=30)
    # when it is cancelled, a REFUND entry returns the points into the same lots
    redemption_cancel(user=customer.user, redemption_id=redemption.pk, now=NOW + dt.timedelta(hours=1))
    redemption.refresh_from_db()
    refund = redemption.refund_entry
    assert (refund.kind, refund.points, refund.available_after) == ("refund", 120, 290)
    assert list(PointsLot.objects.order_by("expires_at").values_list("remaining", flat=True)) == [40, 50, 200]
    account = MemberAccount.objects.get(customer=customer)
    assert (account.points_available, account.points_redeemed, redemption.status) == (290, 0, "cancelled")
    assert ledger_discrepancies() == []
    # and a second cancel is refused with a code, changing nothing
    before = _state(customer)
    with pytest.raises(RewardError) as error:
        redemption_cancel(user=customer.user, redemption_id=redemption.pk)
    assert error.value.code == RewardErrorCode.NOT_CANCELLABLE
    assert _state(customer) == before


def test_pending_points_never_count():
    shop = points_shop()
    shop.program.pending_days = 14
    shop.program.save()
    customer = member_with_points(shop, amounts=("500.00",), start=NOW - dt.timedelta(days=1))
    gift = reward(shop)
    before = _state(customer)
    with pytest.raises(RewardError) as error:
        reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW)
    assert error.value.code == RewardErrorCode.INSUFFICIENT_POINTS
    assert _state(customer) == before


def test_replay_returns_the_same_redemption_and_key_reuse_is_a_conflict():
    shop = points_shop()
    customer = member_with_points(shop)
    gift, other = reward(shop), reward(shop, name="Cap")
    first = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="same", now=NOW)
    again = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="same", now=NOW)
    assert (again.replayed, again.redemption.pk, again.redemption.code) == (
        True,
        first.redemption.pk,
        first.redemption.code,
    )
    before = _state(customer)
    with pytest.raises(RewardError) as error:
        reward_redeem(user=customer.user, reward_id=other.pk, idempotency_key="same", now=NOW)
    assert error.value.code == RewardErrorCode.IDEMPOTENCY_CONFLICT
    assert _state(customer) == before
    # another member may use the same key string for their own redemption
    someone = member_with_points(shop)
    assert reward_redeem(user=someone.user, reward_id=gift.pk, idempotency_key="same", now=NOW).replayed is False


def _refusal_cases(shop):
    gold = Tier.objects.get(program=shop.program, name="Gold")
    return {
        "unknown reward": (lambda: 999_999, RewardErrorCode.NOT_FOUND),
        "archived": (lambda: reward(shop, status=RewardStatus.ARCHIVED).pk, RewardErrorCode.REWARD_INACTIVE),
        "past validity": (
            lambda: reward(shop, valid_until=NOW - dt.timedelta(days=1)).pk,
            RewardErrorCode.REWARD_INACTIVE,
        ),
        "not yet valid": (
            lambda: reward(shop, valid_from=NOW + dt.timedelta(days=1)).pk,
            RewardErrorCode.REWARD_INACTIVE,
        ),
        "tier": (lambda: reward(shop, min_tier=gold).pk, RewardErrorCode.TIER_REQUIRED),
        "too expensive": (lambda: reward(shop, points_cost=10_000).pk, RewardErrorCode.INSUFFICIENT_POINTS),
        "out of stock": (lambda: reward(shop, stock=0).pk, RewardErrorCode.OUT_OF_STOCK),
        "other shop": (lambda: reward(points_shop()).pk, RewardErrorCode.INSUFFICIENT_POINTS),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown reward",
        "archived",
        "past validity",
        "not yet valid",
        "tier",
        "too expensive",
        "out of stock",
        "other shop",
    ],
)
def test_refusals_are_coded_and_change_nothing(case):
    shop = points_shop()
    customer = member_with_points(shop, amounts=("150.00",))  # Silver, 150 points
    make_reward, code = _refusal_cases(shop)[case]
    reward_id = make_reward()
    before = _state(customer)
    with pytest.raises(RewardError) as error:
        reward_redeem(user=customer.user, reward_id=reward_id, idempotency_key="r1", now=NOW)
    assert error.value.code == code
    assert error.value.message
    assert _state(customer) == before


def test_per_member_limit_counts_per_period_and_ignores_cancelled():
    shop = points_shop()
    customer = member_with_points(shop)
    gift = reward(shop, per_member_limit=1, limit_period="month")
    first = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW).redemption
    with pytest.raises(RewardError) as error:
        reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r2", now=NOW)
    assert error.value.code == RewardErrorCode.LIMIT_REACHED
    redemption_cancel(user=customer.user, redemption_id=first.pk, now=NOW)
    assert reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r3", now=NOW).replayed is False
    next_month = NOW + dt.timedelta(days=31)
    assert reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r4", now=next_month).replayed is False


@pytest.mark.parametrize("who", ["anonymous", "staff only", "other member"])
def test_redeem_needs_a_member_with_points_there(who):
    from django.contrib.auth.models import AnonymousUser

    shop = points_shop()
    customer = member_with_points(shop)
    gift = reward(shop)
    user = {
        "anonymous": AnonymousUser(),
        "staff only": staff(shop),
        "other member": CustomerFactory().user,
    }[who]
    expected = {
        "anonymous": RewardErrorCode.NOT_AUTHENTICATED,
        "staff only": RewardErrorCode.PERMISSION_DENIED,
        "other member": RewardErrorCode.INSUFFICIENT_POINTS,
    }[who]
    before = _state(customer)
    with pytest.raises(RewardError) as error:
        reward_redeem(user=user, reward_id=gift.pk, idempotency_key="r1", now=NOW)
    assert error.value.code == expected
    assert _state(customer) == before


def test_stock_is_taken_and_given_back():
    shop = points_shop()
    customer = member_with_points(shop)
    gift = reward(shop, stock=2)
    redemption = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW).redemption
    assert Reward.objects.get(pk=gift.pk).stock == 1
    redemption_cancel(user=customer.user, redemption_id=redemption.pk, now=NOW)
    assert Reward.objects.get(pk=gift.pk).stock == 2


@pytest.mark.parametrize(("refund_on_expiry", "available_after"), [(True, 1000), (False, 900)])
def test_expiry_job_is_idempotent_and_follows_the_reward(refund_on_expiry, available_after):
    shop = points_shop()
    customer = member_with_points(shop)
    gift = reward(shop, refund_on_expiry=refund_on_expiry, code_lifetime_days=7)
    redemption = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW).redemption
    assert redemptions_expire(now=NOW + dt.timedelta(days=6)) == 0
    assert redemptions_expire(now=NOW + dt.timedelta(days=7)) == 1
    before = _state(customer)
    assert redemptions_expire(now=NOW + dt.timedelta(days=8)) == 0
    assert _state(customer) == before
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.EXPIRED
    assert MemberAccount.objects.get(customer=customer).points_available == available_after
    assert PointsEntry.objects.filter(kind=EntryKind.REFUND).count() == (1 if refund_on_expiry else 0)
    assert ledger_discrepancies() == []


def test_cancel_permissions():
    shop = points_shop()
    customer = member_with_points(shop)
    gift = reward(shop)
    redemption = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="r1", now=NOW).redemption
    outsiders = [CustomerFactory().user, staff(points_shop()), UserFactory()]
    for outsider in outsiders:
        with pytest.raises(RewardError) as error:
            redemption_cancel(user=outsider, redemption_id=redemption.pk)
        assert error.value.code == RewardErrorCode.NOT_FOUND
    assert Redemption.objects.get(pk=redemption.pk).status == RedemptionStatus.ISSUED
    cashier = staff(shop)
    assert redemption_cancel(user=cashier, redemption_id=redemption.pk).status == RedemptionStatus.CANCELLED
