"""Earning rules: conditions in the shop's time zone, priority and stacking, and what the ledger records."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from loyalty.models import EarningRule, PointsEntry, RuleKind, Tier
from loyalty.services.orders import order_event_process
from loyalty.services.rules import QuoteLine, earning_quote, program_rules
from marketplace.models import Category
from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, order_event_record
from tests.factories import CustomerFactory, shop_with_program

pytestmark = pytest.mark.django_db

TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")


def tehran_shop():
    return shop_with_program(currency="IRR", timezone="Asia/Tehran")


def rule(shop, name="Happy hours", **fields) -> EarningRule:
    categories = fields.pop("categories", [])
    tiers = fields.pop("tiers", [])
    defaults = {"kind": RuleKind.MULTIPLIER, "multiplier": Decimal("2")}
    created = EarningRule.objects.create(program=shop.program, name=name, **{**defaults, **fields})
    created.categories.set(categories)
    created.tiers.set(tiers)
    return created


def deliver(shop, order_id, *, at, amount="100.00", category=None):
    customer = CustomerFactory()
    data = OrderEventInput(
        shop_id=shop.pk,
        order_external_id=order_id,
        status="delivered",
        currency=shop.currency,
        occurred_at=at,
        customer=CustomerInput(external_id=customer.external_id),
        lines=(OrderLineInput(quantity=1, unit_price=Decimal(amount), category_slug=category),),
    )
    event = order_event_record(data=data, idempotency_key=order_id, actor=None).event
    order_event_process(event_id=event.pk, broadcast=False)
    return PointsEntry.objects.filter(order__external_id=order_id).first()


def test_tehran_happy_hours_start_at_15_local_time():
    # given a double-points rule 15:00-18:00 Tehran time (UTC+03:30)
    shop = tehran_shop()
    rule(shop, start_time=dt.time(15, 0), end_time=dt.time(18, 0))
    # when orders are placed at 14:59 and at 15:00 Tehran time
    before = deliver(shop, "A", at=dt.datetime(2026, 3, 1, 14, 59, tzinfo=TEHRAN))
    on_time = deliver(shop, "B", at=dt.datetime(2026, 3, 1, 15, 0, tzinfo=TEHRAN))
    last = deliver(shop, "C", at=dt.datetime(2026, 3, 1, 17, 59, tzinfo=TEHRAN))
    after = deliver(shop, "D", at=dt.datetime(2026, 3, 1, 18, 0, tzinfo=TEHRAN))
    # then only 15:00 <= t < 18:00 doubles, and the entry records the rule and its contribution
    assert [e.points for e in (before, on_time, last, after)] == [100, 200, 200, 100]
    assert before.applied_rules == []
    assert on_time.applied_rules == [{"id": EarningRule.objects.get().pk, "name": "Happy hours", "points": 100}]
    assert on_time.created_at == dt.datetime(2026, 3, 1, 11, 30, tzinfo=dt.UTC)  # 15:00 +03:30 in UTC


def _quote(shop, lines, at, tier=None):
    shop.program.refresh_from_db()
    return earning_quote(program=shop.program, rules=program_rules(shop.program), lines=lines, at=at, tier=tier)


AT = dt.datetime(2026, 11, 13, 10, tzinfo=dt.UTC)  # a Friday


def test_priority_and_stacking():
    shop = shop_with_program()
    lines = [QuoteLine(amount=Decimal("100"))]
    black_friday = rule(shop, "Black Friday", multiplier=Decimal("3"), priority=10, stackable=False)
    rule(shop, "Weekend x2", multiplier=Decimal("2"), priority=5)
    rule(shop, "Bonus 50", kind=RuleKind.FIXED_BONUS, multiplier=None, bonus_points=50, priority=1)
    # the non-stackable top rule excludes the others
    quote = _quote(shop, lines, AT)
    assert (quote.base_points, quote.points, [r.name for r in quote.rules]) == (100, 300, ["Black Friday"])
    # once it ends, the stackable rules combine: x2 then +50
    black_friday.ends_at = AT
    black_friday.save()
    quote = _quote(shop, lines, AT)
    assert (quote.points, [(r.name, r.points) for r in quote.rules]) == (250, [("Weekend x2", 100), ("Bonus 50", 50)])


def test_a_non_stackable_rule_below_a_stackable_one_is_skipped():
    shop = shop_with_program()
    rule(shop, "Stackable x2", priority=10)
    rule(shop, "Exclusive x5", multiplier=Decimal("5"), priority=1, stackable=False)
    quote = _quote(shop, [QuoteLine(amount=Decimal("10"))], AT)
    assert [r.name for r in quote.rules] == ["Stackable x2"]
    assert quote.points == 20


def test_conditions_days_dates_categories_minimum_and_tiers():
    shop = shop_with_program()
    books = Category.objects.create(name="Books", slug="books")
    toys = Category.objects.create(name="Toys", slug="toys")
    gold = Tier.objects.get(program=shop.program, name="Gold")
    rule(shop, "Books x2", categories=[books])
    rule(shop, "Fridays +10", kind=RuleKind.FIXED_BONUS, multiplier=None, bonus_points=10, days_of_week=[4])
    rule(
        shop,
        "Big orders +5",
        kind=RuleKind.FIXED_BONUS,
        multiplier=None,
        bonus_points=5,
        min_order_amount=Decimal("60"),
    )
    rule(shop, "Gold +7", kind=RuleKind.FIXED_BONUS, multiplier=None, bonus_points=7, tiers=[gold])
    rule(shop, "Nowruz", multiplier=Decimal("4"), starts_at=dt.datetime(2027, 3, 20, tzinfo=dt.UTC))
    lines = [
        QuoteLine(amount=Decimal("30"), category_id=books.pk),
        QuoteLine(amount=Decimal("40"), category_id=toys.pk),
    ]
    quote = _quote(shop, lines, AT)  # Friday, 70 of goods, Bronze, before Nowruz
    # books line doubled (30 -> 60) + toys 40 = 100; +10 Friday; +5 big order; no Gold, no Nowruz
    assert (quote.base_points, quote.points) == (70, 115)
    assert [(r.name, r.points) for r in quote.rules] == [("Books x2", 30), ("Fridays +10", 10), ("Big orders +5", 5)]
    saturday = _quote(shop, [QuoteLine(amount=Decimal("40"), category_id=toys.pk)], AT + dt.timedelta(days=1), gold)
    assert [r.name for r in saturday.rules] == ["Gold +7"]
    assert saturday.points == 40 * Decimal("1.25") + 7  # Gold's own multiplier applies to the base


def test_below_the_program_minimum_nothing_applies():
    shop = shop_with_program()
    shop.program.minimum_order_amount = Decimal("20")
    shop.program.save()
    rule(shop, "Bonus", kind=RuleKind.FIXED_BONUS, multiplier=None, bonus_points=50)
    assert _quote(shop, [QuoteLine(amount=Decimal("19.99"))], AT).points == 0
    assert deliver(shop, "small", at=AT, amount="19.99") is None


def test_inactive_rules_do_not_apply_and_no_rules_means_the_plain_rate():
    shop = shop_with_program()
    rule(shop, active=False)
    entry = deliver(shop, "o1", at=AT, amount="12.50")
    assert (entry.points, entry.applied_rules) == (12, [])


def test_earning_preview_equals_the_real_earning_and_names_the_rules():
    from django.test import Client
    from strawberry import relay

    from tests.api.graphql import gql

    shop = tehran_shop()
    happy = rule(shop, start_time=dt.time(15, 0), end_time=dt.time(18, 0))
    at = dt.datetime(2026, 3, 1, 15, 30, tzinfo=TEHRAN)
    query = """query($shop: ID!, $at: DateTime!) {
      earningPreview(shopId: $shop, input: {placedAt: $at, lines: [{quantity: 2, unitPrice: "50.00"}]}) {
        basePoints points rules { ruleId name points } } }"""
    preview = gql(Client(), query, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "at": at.isoformat()})
    rule_gid = str(relay.GlobalID("EarningRule", str(happy.pk)))
    assert preview["data"]["earningPreview"] == {
        "basePoints": 100,
        "points": 200,
        "rules": [{"ruleId": rule_gid, "name": "Happy hours", "points": 100}],
    }
    entry = deliver(shop, "real", at=at)
    assert entry.points == preview["data"]["earningPreview"]["points"]
    unknown = gql(Client(), query, {"shop": "nope", "at": at.isoformat()})
    assert unknown["data"]["earningPreview"] is None


def test_a_preview_of_an_order_paid_partly_with_points_equals_its_real_earning():
    from django.test import Client
    from strawberry import relay

    from marketplace.models import Category
    from tests.api.graphql import gql
    from tests.factories import order_input

    shop = tehran_shop()
    books = Category.objects.create(name="Books", slug="books")
    rule(shop, name="Double on books", categories=[books])
    at = dt.datetime(2026, 3, 1, 12, 0, tzinfo=TEHRAN)
    # 3 x 10.00 of books + 1 x 20.00 of other goods, 10.00 of it paid with points: the shares are
    # 6.00 (books) and 4.00, so 24.00 of books earn double and 16.00 once: 24 x 2 + 16 = 64
    query = """query($shop: ID!, $at: DateTime!, $paid: Decimal!) { earningPreview(shopId: $shop, input: {
      placedAt: $at, pointsPaidAmount: $paid,
      lines: [{quantity: 3, unitPrice: "10.00", categorySlug: "books"}, {quantity: 1, unitPrice: "20.00"}]}) {
      basePoints points } }"""
    variables = {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "at": at.isoformat()}
    preview = gql(Client(), query, {**variables, "paid": "10.00"})["data"]["earningPreview"]
    assert preview == {"basePoints": 40, "points": 64}
    customer = CustomerFactory()
    data = order_input(
        shop, "paid", customer=customer, at=at, items=((3, "10.00", "books"), (1, "20.00")), points_paid="10.00"
    )
    event = order_event_record(data=data, idempotency_key="paid", actor=None).event
    order_event_process(event_id=event.pk, broadcast=False)
    assert PointsEntry.objects.get(order__external_id="paid").points == preview["points"]
    # more than the goods is clamped: nothing earns
    everything = gql(Client(), query, {**variables, "paid": "999.00"})["data"]["earningPreview"]
    assert everything == {"basePoints": 0, "points": 0}
