"""Commits under real concurrent transactions (PostgreSQL): limits hold exactly, whatever the interleaving."""

from __future__ import annotations

from decimal import Decimal

import pytest

from checkout.errors import CheckoutError
from checkout.models import CheckoutCommit, Coupon, Promotion, PromotionKind, PromotionUse
from checkout.services import LineInput, QuoteInput, checkout_commit, checkout_quote, quote_token
from loyalty.models import MemberAccount
from loyalty.selectors import ledger_discrepancies
from marketplace.models import StaffRole
from tests.factories import CustomerFactory, staff
from tests.loyalty.test_concurrency import run_concurrently
from tests.rewards.conftest import member_with_points, points_shop

pytestmark = [pytest.mark.django_db(transaction=True)]


def _outcomes(results) -> list[str]:
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, CheckoutError)]
    assert not unexpected, unexpected
    return sorted(r.code.value if isinstance(r, CheckoutError) else "OK" for r in results)


def _quote(user, shop, customer, codes=(), points=0, amount="30.00"):
    return checkout_quote(
        user=user,
        data=QuoteInput(
            shop_id=shop.pk,
            customer_external_id=customer.external_id if customer else None,
            lines=[LineInput(quantity=1, unit_price=Decimal(amount))],
            coupon_codes=list(codes),
            points_to_spend=points,
        ),
    )


def test_the_last_use_of_a_coupon_raced_by_twenty_tills_goes_to_one(postgres):
    # given a public coupon with one use left, and twenty tills each holding a quote that applies it
    shop = points_shop()
    cashiers = [staff(shop, StaffRole.CASHIER) for _ in range(20)]
    promotion = Promotion.objects.create(
        shop=shop, name="Last one", kind=PromotionKind.PERCENTAGE, value=Decimal("50"), requires_coupon=True
    )
    Coupon.objects.create(shop=shop, promotion=promotion, code="LAST", max_uses=3, uses=2)
    quotes = [_quote(cashier, shop, CustomerFactory(), ["LAST"]) for cashier in cashiers]
    assert all(q.result["discounts"][0]["couponCode"] == "LAST" for q in quotes)
    # when all twenty commit at once
    results = run_concurrently(
        [
            lambda c=c, q=q, i=i: checkout_commit(user=c, token=quote_token(q), idempotency_key=f"till-{i}")
            for i, (c, q) in enumerate(zip(cashiers, quotes, strict=True))
        ]
    )
    # then exactly one wins; the others were priced without the coupon and refused
    assert _outcomes(results) == ["OK"] + ["QUOTE_STALE"] * 19
    assert Coupon.objects.get(code="LAST").uses == 3
    assert (CheckoutCommit.objects.count(), PromotionUse.objects.count()) == (1, 1)


def test_a_promotion_limit_of_five_raced_by_twenty_members(postgres):
    shop = points_shop()
    cashier = staff(shop, StaffRole.CASHIER)
    Promotion.objects.create(
        shop=shop, name="First five", kind=PromotionKind.FIXED_AMOUNT, value=Decimal("5.00"), usage_limit=5
    )
    quotes = [_quote(cashier, shop, CustomerFactory()) for _ in range(20)]
    assert all(q.total_due == Decimal("25.00") for q in quotes)
    results = run_concurrently(
        [
            lambda q=q, i=i: checkout_commit(user=cashier, token=quote_token(q), idempotency_key=f"k{i}")
            for i, q in enumerate(quotes)
        ]
    )
    assert _outcomes(results) == ["OK"] * 5 + ["QUOTE_STALE"] * 15
    assert PromotionUse.objects.filter(released_at__isnull=True).count() == 5


def test_two_tills_spending_one_members_points_at_once(postgres):
    # given a member with 100 points and two quotes that each spend 80 of them
    shop = points_shop()
    customer = member_with_points(shop, amounts=("100.00",))
    cashier = staff(shop, StaffRole.CASHIER)
    quotes = [_quote(cashier, shop, customer, points=80, amount="10.00") for _ in range(2)]
    assert all(q.result["pointsSpent"] == 80 for q in quotes)
    # when both commit at once
    results = run_concurrently(
        [
            lambda: checkout_commit(user=cashier, token=quote_token(quotes[0]), idempotency_key="a"),
            lambda: checkout_commit(user=cashier, token=quote_token(quotes[1]), idempotency_key="b"),
        ]
    )
    # then one spends, the other is stale (priced again, 80 points are no longer there)
    assert _outcomes(results) == ["OK", "QUOTE_STALE"]
    assert MemberAccount.objects.get(customer=customer).points_available == 20
    assert CheckoutCommit.objects.count() == 1
    assert ledger_discrepancies() == []


def test_one_commit_sent_by_three_retries_at_once_is_written_once(postgres):
    shop = points_shop()
    customer = member_with_points(shop, amounts=("100.00",))
    cashier = staff(shop, StaffRole.CASHIER)
    quote = _quote(cashier, shop, customer, points=80, amount="10.00")
    results = run_concurrently(
        [lambda: checkout_commit(user=cashier, token=quote_token(quote), idempotency_key="same") for _ in range(3)]
    )
    assert _outcomes(results) == ["OK"] * 3
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert len({r.commit.pk for r in results}) == 1
    assert MemberAccount.objects.get(customer=customer).points_available == 20
