"""Redemption under real concurrent transactions (PostgreSQL)."""

from __future__ import annotations

import pytest

from loyalty.models import MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from marketplace.models import StaffRole
from rewards.errors import RewardError
from rewards.models import Redemption, RedemptionStatus, Reward
from rewards.services import redemption_consume, reward_redeem
from tests.factories import staff
from tests.loyalty.test_concurrency import run_concurrently
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = [pytest.mark.django_db(transaction=True)]


def _codes(results) -> list:
    return sorted(r.code.value if isinstance(r, RewardError) else "OK" for r in results)


def test_fifty_redemptions_on_an_account_that_can_afford_ten(postgres):
    # given a member with 1000 available points and a 100-point reward
    shop = points_shop()
    customer = member_with_points(shop, amounts=("1000.00",))
    gift = reward(shop, points_cost=100)
    # when 50 redemptions (each with its own key) race on the one account
    results = run_concurrently(
        [lambda i=i: reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key=f"k{i}") for i in range(50)]
    )
    # then exactly 10 succeed, the others are refused for points, and the ledger is whole
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, RewardError)], results
    assert _codes(results) == ["INSUFFICIENT_POINTS"] * 40 + ["OK"] * 10
    account = MemberAccount.objects.get(customer=customer)
    assert (account.points_available, account.points_redeemed) == (0, 1000)
    assert Redemption.objects.count() == 10
    assert PointsEntry.objects.filter(kind="redeem").count() == 10
    assert PointsEntry.objects.filter(available_after__lt=0).count() == 0
    assert ledger_discrepancies() == []


def test_the_last_unit_goes_to_exactly_one_member(postgres):
    shop = points_shop()
    members = [member_with_points(shop, amounts=("500.00",)) for _ in range(8)]
    gift = reward(shop, stock=1)
    results = run_concurrently(
        [lambda m=m: reward_redeem(user=m.user, reward_id=gift.pk, idempotency_key="last") for m in members]
    )
    assert _codes(results) == ["OK"] + ["OUT_OF_STOCK"] * 7
    assert Reward.objects.get(pk=gift.pk).stock == 0
    assert sum(MemberAccount.objects.values_list("points_redeemed", flat=True)) == 100
    assert ledger_discrepancies() == []


def test_two_cashiers_consuming_one_code_at_once(postgres):
    shop = points_shop()
    customer = member_with_points(shop)
    code = reward_redeem(user=customer.user, reward_id=reward(shop).pk, idempotency_key="r").redemption.code
    cashiers = [staff(shop, StaffRole.CASHIER), staff(shop, StaffRole.CASHIER)]
    results = run_concurrently(
        [lambda c=c: redemption_consume(user=c, shop_id=shop.pk, code=code, order_external_id="T-1") for c in cashiers]
    )
    assert _codes(results) == ["CODE_ALREADY_USED", "OK"]
    redemption = Redemption.objects.get(code=code)
    winner = next(r for r in results if not isinstance(r, RewardError))
    assert redemption.status == RedemptionStatus.USED
    assert redemption.used_by_id == winner.used_by_id
    assert redemption.order_external_id == "T-1"
