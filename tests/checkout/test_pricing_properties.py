"""Properties of ``checkout.pricing.price`` over random baskets, promotions, coupons and points (hypothesis),
and quote == commit over random baskets through the services."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.models import CheckoutCommit, Promotion, PromotionKind, PromotionUse, Stacking
from checkout.pricing import BasketLine, Member, PointsPolicy, PromotionRule, currency_quantum, price
from checkout.services import LineInput, QuoteInput, checkout_commit, checkout_quote, quote_token
from loyalty.selectors import ledger_discrepancies
from marketplace.models import StaffRole
from tests.factories import staff

AT = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
PRODUCTS = ["a", "b", "c", "d"]

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=2, allow_nan=False, allow_infinity=False)
lines = st.lists(st.tuples(st.integers(1, 5), money, st.sampled_from(PRODUCTS)), min_size=1, max_size=6).map(
    lambda rows: [BasketLine(n, q, p, prod) for n, (q, p, prod) in enumerate(rows, start=1)]
)


@st.composite
def promotions(draw) -> list[PromotionRule]:
    """Up to four promotions of any kind, priority and stacking, some on a product subset."""
    rules = []
    for number in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(list(PromotionKind)))
        percent = kind in (PromotionKind.PERCENTAGE, PromotionKind.BUY_X_GET_Y)
        value = draw(st.integers(1, 100)) if percent else draw(st.integers(1, 5000)) / 100
        rules.append(
            PromotionRule(
                id=number + 1,
                name=f"P{number}",
                kind=kind,
                value=Decimal(str(value)),
                buy_quantity=draw(st.integers(1, 3)) + (1 if kind == PromotionKind.CHEAPEST_FREE else 0),
                get_quantity=draw(st.integers(1, 2)),
                free_product_id=draw(st.sampled_from(PRODUCTS)),
                product_ids=frozenset(draw(st.lists(st.sampled_from(PRODUCTS), max_size=2))),
                minimum_amount=Decimal(draw(st.integers(0, 100))),
                priority=draw(st.integers(-5, 20)),
                stacking=draw(st.sampled_from(list(Stacking))),
            )
        )
    return rules


@settings(max_examples=300, deadline=None)
@given(
    basket=lines,
    rules=promotions(),
    tier_percent=st.integers(0, 30),
    available=st.integers(0, 50_000),
    requested=st.integers(0, 60_000),
    max_percent=st.integers(0, 100),
    currency=st.sampled_from(["USD", "JPY"]),
)
def test_prices_add_up_never_go_negative_and_respect_the_terms(
    basket, rules, tier_percent, available, requested, max_percent, currency
):
    quantum = currency_quantum(currency)
    if currency == "JPY":  # a currency without minor units: whole prices only
        basket = [BasketLine(b.line_no, b.quantity, b.unit_price.quantize(quantum), b.product_id) for b in basket]
    member = Member(
        customer_id=1,
        tier_id=1,
        tier_name="Gold",
        tier_discount_percent=Decimal(tier_percent),
        points_available=available,
    )
    policy = PointsPolicy(point_value=Decimal("0.01"), max_percent=Decimal(max_percent))
    inputs = {
        "currency": currency,
        "timezone": "UTC",
        "lines": basket,
        "member": member,
        "promotions": rules,
        "coupons": [],
        "points_to_spend": requested,
        "payment_type": "",
        "policy": policy,
        "at": AT,
    }
    priced = price(**inputs)
    for line in priced.lines:
        assert line.price_after >= 0
        assert line.amount_due >= 0
        for amount in (line.price_before, line.discount_total, line.points_amount):
            assert amount == amount.quantize(quantum)
    assert priced.subtotal - priced.discount_total - priced.points_amount == priced.total_due
    totals = priced.discounts()
    assert sum(d.amount for d in totals) == priced.discount_total + priced.points_amount
    # points: within the request, the balance and the program's share; worth their value rounded down
    assert 0 <= priced.points_spent <= min(requested, available)
    after = priced.subtotal - priced.discount_total
    assert priced.points_amount <= after * Decimal(max_percent) / 100
    assert priced.points_amount == (Decimal(priced.points_spent) * Decimal("0.01")).quantize(quantum, "ROUND_DOWN")
    # order and stacking: applied by priority, and an exclusive promotion applies alone
    applied = [next(r for r in rules if r.id == pid) for source, pid, _ in priced.applied if source == "PROMOTION"]
    assert [r.priority for r in applied] == sorted((r.priority for r in applied), reverse=True)
    if any(r.stacking == Stacking.EXCLUSIVE for r in applied):
        assert len(priced.applied) == 1
    # every candidate is either applied or reported, once
    reported = {n.promotion_id for n in priced.not_applied if n.source == "PROMOTION"}
    assert reported | {r.id for r in applied} == {r.id for r in rules}
    assert not reported & {r.id for r in applied}
    # the same input prices the same
    assert price(**inputs).as_json() == priced.as_json()


@pytest.mark.django_db
def test_quote_equals_commit_for_random_baskets(shop, gold_member):
    # given the shop running five random automatic promotions, and a cashier
    rng = random.Random(16)
    for number in range(5):
        kind = rng.choice(list(PromotionKind))
        Promotion.objects.create(
            shop=shop,
            name=f"Random {number}",
            kind=kind,
            value=Decimal(rng.randint(5, 60)) if kind in ("percentage", "buy_x_get_y") else Decimal("3.50"),
            buy_quantity=rng.randint(2, 3),
            get_quantity=1,
            free_product_id=rng.choice(PRODUCTS),
            product_ids=rng.sample(PRODUCTS, rng.randint(0, 2)),
            priority=rng.randint(0, 20),
            stacking=rng.choice([Stacking.STACKABLE] * 3 + [Stacking.EXCLUSIVE]),
        )
    cashier = staff(shop, StaffRole.CASHIER)
    for number in range(15):
        basket = [
            LineInput(
                quantity=rng.randint(1, 4),
                unit_price=Decimal(rng.randint(100, 5000)) / 100,
                product_id=rng.choice(PRODUCTS),
            )
            for _ in range(rng.randint(1, 4))
        ]
        quote = checkout_quote(
            user=cashier,
            data=QuoteInput(
                shop_id=shop.pk,
                customer_external_id=gold_member.external_id,
                lines=basket,
                points_to_spend=rng.choice([0, 5, 20]),
            ),
        )
        # when each is committed
        commit = checkout_commit(user=cashier, token=quote_token(quote), idempotency_key=f"r{number}").commit
        # then the commit holds exactly the quote's money, and the uses the promotions' discounts
        assert (commit.total_due, commit.discount_total, commit.points_spent) == (
            quote.total_due,
            Decimal(quote.result["discountTotal"]),
            quote.result["pointsSpent"],
        )
        campaign = sum(Decimal(d["amount"]) for d in quote.result["discounts"] if d["source"] == "PROMOTION")
        recorded = sum(PromotionUse.objects.filter(commit=commit).values_list("amount", flat=True), Decimal("0"))
        assert recorded == campaign
    assert CheckoutCommit.objects.count() == 15
    assert ledger_discrepancies() == []
