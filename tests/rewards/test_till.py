"""At the till: validate changes nothing, consume once, other shops' codes look unknown, rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from marketplace.models import StaffRole
from rewards.codes import code_display
from rewards.errors import RewardError, RewardErrorCode
from rewards.models import Redemption, RedemptionStatus
from rewards.services import (
    TILL_RATE_PER_STAFF,
    redemption_cancel,
    redemption_consume,
    redemption_validate,
    reward_redeem,
)
from tests.factories import CustomerFactory, UserFactory, staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def issued():
    shop = points_shop()
    customer = member_with_points(shop)
    redemption = reward_redeem(user=customer.user, reward_id=reward(shop).pk, idempotency_key="r", now=NOW).redemption
    return shop, customer, redemption


def _snapshot():
    return list(Redemption.objects.order_by("pk").values_list("status", "used_by", "order_external_id"))


def test_validate_tells_what_the_code_is_for_and_changes_nothing(issued):
    shop, _, redemption = issued
    cashier = staff(shop, StaffRole.CASHIER)
    before = _snapshot()
    typed = code_display(redemption.code).lower().replace("1", "l").replace("0", "o")  # a sloppy but valid reading
    found = redemption_validate(user=cashier, shop_id=shop.pk, code=typed, now=NOW)
    assert (found.pk, found.reward.name, found.points) == (redemption.pk, "Mug", 100)
    assert _snapshot() == before


def test_consume_marks_used_once(issued):
    shop, _, redemption = issued
    cashier = staff(shop, StaffRole.CASHIER)
    used = redemption_consume(user=cashier, shop_id=shop.pk, code=redemption.code, order_external_id="T-9", now=NOW)
    assert (used.status, used.used_by_id, used.order_external_id) == ("used", cashier.pk, "T-9")
    before = _snapshot()
    for action in (redemption_validate, redemption_consume):
        with pytest.raises(RewardError) as error:
            action(user=cashier, shop_id=shop.pk, code=redemption.code, now=NOW)
        assert error.value.code == RewardErrorCode.CODE_ALREADY_USED
    assert _snapshot() == before


def _flip_check(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % 32]


def _swap(code: str) -> str:
    i = next(i for i in range(len(code) - 1) if code[i] != code[i + 1])
    return code[:i] + code[i + 1] + code[i] + code[i + 2 :]


@pytest.mark.parametrize("mangle", ["unknown", "malformed", "check", "transposed", "empty", "hostile", "other shop"])
def test_bad_codes_all_answer_code_invalid_and_change_nothing(issued, mangle):
    shop, _, redemption = issued
    other_shop = points_shop()
    other_code = reward_redeem(
        user=member_with_points(other_shop).user, reward_id=reward(other_shop).pk, idempotency_key="o", now=NOW
    ).redemption.code
    code = {
        "unknown": "0000-0000-00000",
        "malformed": "NOT-A-CODE",
        "check": _flip_check(redemption.code),
        "transposed": _swap(redemption.code),
        "empty": "",
        "hostile": "'; DROP TABLE rewards_redemption; --" * 50,
        "other shop": other_code,
    }[mangle]
    cashier = staff(shop, StaffRole.CASHIER)
    before = _snapshot()
    for action in (redemption_validate, redemption_consume):
        with pytest.raises(RewardError) as error:
            action(user=cashier, shop_id=shop.pk, code=code, now=NOW)
        assert (error.value.code, error.value.message) == (RewardErrorCode.CODE_INVALID, "This code is not valid here.")
    assert _snapshot() == before


def test_expired_and_cancelled_codes_say_so(issued):
    shop, customer, redemption = issued
    cashier = staff(shop, StaffRole.CASHIER)
    with pytest.raises(RewardError) as error:
        redemption_consume(user=cashier, shop_id=shop.pk, code=redemption.code, now=NOW + dt.timedelta(days=31))
    assert error.value.code == RewardErrorCode.CODE_EXPIRED
    redemption_cancel(user=customer.user, redemption_id=redemption.pk, now=NOW)
    with pytest.raises(RewardError) as error:
        redemption_validate(user=cashier, shop_id=shop.pk, code=redemption.code, now=NOW)
    assert error.value.code == RewardErrorCode.CODE_CANCELLED


CALLERS = {
    "anonymous": (lambda shop, other: AnonymousUser(), RewardErrorCode.NOT_AUTHENTICATED),
    "the member": (None, RewardErrorCode.PERMISSION_DENIED),
    "another member": (lambda shop, other: CustomerFactory().user, RewardErrorCode.PERMISSION_DENIED),
    "plain user": (lambda shop, other: UserFactory(), RewardErrorCode.PERMISSION_DENIED),
    "staff of another shop": (lambda shop, other: staff(other, StaffRole.OWNER), RewardErrorCode.PERMISSION_DENIED),
    "cashier": (lambda shop, other: staff(shop, StaffRole.CASHIER), None),
    "owner": (lambda shop, other: staff(shop, StaffRole.OWNER), None),
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("action", [redemption_validate, redemption_consume])
def test_till_permission_matrix(issued, caller, action):
    shop, customer, redemption = issued
    make_user, expected = CALLERS[caller]
    user = customer.user if make_user is None else make_user(shop, points_shop())
    before = _snapshot()
    if expected is None:
        assert action(user=user, shop_id=shop.pk, code=redemption.code, now=NOW).pk == redemption.pk
        return
    with pytest.raises(RewardError) as error:
        action(user=user, shop_id=shop.pk, code=redemption.code, now=NOW)
    assert error.value.code == expected
    assert _snapshot() == before


def test_attempts_are_rate_limited_per_staff_member(issued, caplog):
    shop, _, redemption = issued
    cashier = staff(shop, StaffRole.CASHIER)
    allowed = int(TILL_RATE_PER_STAFF.split("/")[0])
    for _ in range(allowed):
        with pytest.raises(RewardError):
            redemption_validate(user=cashier, shop_id=shop.pk, code="0000-0000-00000", now=NOW)
    with pytest.raises(RewardError) as error:
        redemption_validate(user=cashier, shop_id=shop.pk, code=redemption.code, now=NOW)
    assert error.value.code == RewardErrorCode.RATE_LIMITED
    assert "invalid redemption code at the till" in caplog.text
    # another cashier of the shop is not blocked by this one's attempts
    other = staff(shop, StaffRole.CASHIER)
    assert (
        redemption_validate(user=other, shop_id=shop.pk, code=redemption.code, now=NOW).status
        == RedemptionStatus.ISSUED
    )
