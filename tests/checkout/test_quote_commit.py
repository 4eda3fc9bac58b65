"""Quote and commit through the API: hand-computed baskets, quote == commit, exactly once, stale and bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import signing
from django.utils import timezone

from checkout.errors import CheckoutError
from checkout.models import CheckoutCommit, CheckoutQuote, Coupon, PromotionUse
from checkout.services import checkout_commit
from loyalty.models import MemberAccount, PointsEntry, PointsLot, PointsLotConsumption
from loyalty.selectors import ledger_discrepancies
from tests.api.graphql import gid
from tests.checkout.conftest import Till
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _state():
    """Everything a checkout may write, to assert that a refusal changed nothing."""
    return (
        list(CheckoutCommit.objects.values()),
        list(PromotionUse.objects.values()),
        list(Coupon.objects.values("pk", "uses")),
        list(MemberAccount.objects.values("pk", "points_available", "points_redeemed")),
        list(PointsLot.objects.values("pk", "remaining")),
        PointsEntry.objects.count(),
    )


def test_black_friday_for_a_gold_member_with_points(cashier, gold_member, single_use):
    # when the till quotes boots 40.00 and a scarf 25.00 with the coupon (typed in lower case) and 250 points
    payload = cashier.quote(
        (1, "40.00", "boots"), (1, "25.00", "scarf"), customer=gold_member, coupons=["bf-once"], points=250
    )
    assert payload["errors"] == []
    quote = payload["quote"]
    # then: the scarf is free (coupon), 10% Gold off the boots (tier), 250 points pay 2.50 of the 36.00
    assert [(d["source"], d["couponCode"], d["amount"]) for d in quote["discounts"]] == [
        ("COUPON", "BF-ONCE", "25.00"),
        ("TIER", None, "4.00"),
        ("POINTS", None, "2.50"),
    ]
    assert (quote["subtotal"], quote["discountTotal"], quote["pointsSpent"], quote["pointsAmount"]) == (
        "65.00",
        "29.00",
        250,
        "2.50",
    )
    assert quote["totalDue"] == "33.50"
    assert [line["amountDue"] for line in quote["lines"]] == ["33.50", "0.00"]  # the points go where money is left
    # 33.50 paid in money, 1 point per unit x Gold multiplier
    account = MemberAccount.objects.select_related("tier").get(customer=gold_member)
    assert quote["pointsEarned"] == int(Decimal("33.50") * account.tier.multiplier)
    assert quote["notApplied"] == []


def test_commit_equals_quote_and_spends_the_soonest_expiring_lot(cashier, gold_member, single_use):
    quote = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"], points=150)["quote"]
    lots = list(PointsLot.objects.filter(account__customer=gold_member).order_by("expires_at"))
    # when the quote is committed
    payload = cashier.commit(quote["token"], "till-1:sale-1", order_id="POS-1")
    # then the commit holds the quote's figures, the coupon is used once and the use is recorded
    commit = payload["commit"]
    assert payload["errors"] == []
    assert payload["replayed"] is False
    assert (commit["totalDue"], commit["discountTotal"], commit["pointsSpent"], commit["pointsAmount"]) == (
        quote["totalDue"],
        quote["discountTotal"],
        150,
        "1.50",
    )
    assert Coupon.objects.get(pk=single_use.pk).uses == 1
    use = PromotionUse.objects.get()
    assert (use.coupon_id, use.amount, use.revenue) == (single_use.pk, Decimal("25.00"), Decimal("36.00"))
    # and the 150 points came from the lot that expires first (100 points), then the next
    entry = PointsEntry.objects.get(kind="redeem")
    assert (entry.points, entry.idempotency_key) == (-150, f"checkout:{CheckoutCommit.objects.get().pk}:spend")
    taken = dict(PointsLotConsumption.objects.filter(entry=entry).values_list("lot_id", "points"))
    assert taken == {lots[0].pk: 100, lots[1].pk: 50}
    assert MemberAccount.objects.get(customer=gold_member).points_available == 320 - 150
    assert ledger_discrepancies() == []
    # and integrations hear of it: checkout.committed, and the spend as points.redeemed from source checkout
    from marketplace.models import ShopEvent

    event = ShopEvent.objects.get(type="checkout.committed")
    assert (event.data["orderExternalId"], event.data["totalDue"], event.data["pointsSpent"]) == (
        "POS-1",
        quote["totalDue"],
        150,
    )
    assert [d["source"] for d in event.data["discounts"]] == ["COUPON", "TIER", "POINTS"]
    assert ShopEvent.objects.get(type="points.redeemed").data["source"]["type"] == "checkout"


def test_the_same_key_replays_and_other_uses_of_key_or_quote_are_refused(cashier, gold_member, single_use):
    first = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"], points=100)["quote"]
    done = cashier.commit(first["token"], "k1", "POS-1")["commit"]
    before = _state()
    # the same key and quote: the first result, nothing written
    again = cashier.commit(first["token"], "k1", "POS-1")
    assert again["replayed"] is True
    assert again["commit"]["id"] == done["id"]
    # the same quote under another key; the same key for another order
    assert cashier.commit(first["token"], "k2", "POS-1")["errors"][0]["code"] == "QUOTE_ALREADY_COMMITTED"
    assert cashier.commit(first["token"], "k1", "POS-2")["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert _state() == before


def test_a_coupon_used_up_after_the_quote_makes_it_stale(cashier, gold_member, single_use, shop):
    other_member = CustomerFactory()
    from tests.rewards.conftest import member_with_points

    member_with_points(shop, amounts=("300.00",), customer=other_member)
    # two tills quote the same single-use coupon
    mine = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"])["quote"]
    theirs = cashier.quote((1, "30.00"), (1, "20.00"), customer=other_member, coupons=["BF-ONCE"])["quote"]
    assert mine["discounts"][0]["source"] == theirs["discounts"][0]["source"] == "COUPON"
    assert cashier.commit(theirs["token"], "a")["errors"] == []
    before = _state()
    # then the second commit is refused and changes nothing; a new quote says why
    assert cashier.commit(mine["token"], "b")["errors"][0]["code"] == "QUOTE_STALE"
    assert _state() == before
    fresh = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"])["quote"]
    assert [(n["couponCode"], n["reason"]) for n in fresh["notApplied"]] == [("BF-ONCE", "COUPON_USED_UP")]


def test_expired_and_tampered_tokens(cashier, gold_member, single_use):
    quote = cashier.quote((1, "40.00"), customer=gold_member, points=100)["quote"]
    before = _state()
    tampered = quote["token"][:-3] + ("AAA" if not quote["token"].endswith("AAA") else "BBB")
    assert cashier.commit(tampered, "t")["errors"][0]["code"] == "QUOTE_INVALID"
    forged = signing.dumps({"q": int(CheckoutQuote.objects.get().pk) + 1}, salt="another.salt")
    assert cashier.commit(forged, "t")["errors"][0]["code"] == "QUOTE_INVALID"
    with pytest.raises(CheckoutError) as refused:
        checkout_commit(
            user=CheckoutQuote.objects.get().created_by,
            token=quote["token"],
            idempotency_key="late",
            now=timezone.now() + dt.timedelta(minutes=16),
        )
    assert refused.value.code.value == "QUOTE_EXPIRED"
    assert _state() == before


def test_bad_input_is_refused_with_a_code_and_stores_no_quote(cashier, gold_member):
    cases = [
        (((1, "10.001"),), {}, "INVALID_INPUT", "lines.0.unitPrice"),
        (((0, "10.00"),), {}, "INVALID_INPUT", "lines.0.quantity"),
        (((1, "-1"),), {}, "INVALID_INPUT", "lines.0.unitPrice"),
        (((1, "10.00"),), {"points": -5}, "INVALID_INPUT", "pointsToSpend"),
        (((1, "10.00"),), {"coupons": ["X"] * 11}, "INVALID_INPUT", "couponCodes"),
        (((1, "10.00"),), {"customer": CustomerFactory.build(external_id="nobody")}, "NOT_FOUND", "customerId"),
    ]
    for lines, extra, code, field in cases:
        errors = cashier.quote(*lines, **extra)["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], (lines, extra)
    assert cashier.quote()["errors"][0]["field"] == "lines"
    assert CheckoutQuote.objects.count() == 0


def test_staff_of_another_shop_and_members_cannot_quote(shop, gold_member):
    from tests.factories import shop_with_program, staff

    outsider = Till(shop, staff(shop_with_program()))
    assert outsider.quote((1, "10.00"))["errors"][0]["code"] == "PERMISSION_DENIED"
    member = Till(shop, gold_member.user)
    assert member.quote((1, "10.00"))["errors"][0]["code"] == "PERMISSION_DENIED"
    assert Till(shop, None).quote((1, "10.00"))["errors"][0]["code"] == "NOT_AUTHENTICATED"
    assert CheckoutQuote.objects.count() == 0


def test_a_guest_gets_campaigns_but_no_tier_points_or_member_coupons(cashier, shop, single_use):
    quote = cashier.quote((1, "40.00"), (1, "25.00"), coupons=["BF-ONCE"], points=100)["quote"]
    assert quote["customerId"] is None
    assert quote["pointsEarned"] == 0
    assert sorted(n["reason"] for n in quote["notApplied"]) == ["MEMBER_REQUIRED", "TIER_NOT_ELIGIBLE"]
    assert quote["totalDue"] == "65.00"
    assert cashier.commit(quote["token"], "guest")["commit"]["totalDue"] == "65.00"


def test_an_api_key_with_the_checkout_scope_quotes_and_commits(shop, gold_member, single_use):
    import json

    from django.test import Client

    from marketplace.services.api_keys import api_key_create
    from tests.checkout.conftest import COMMIT, QUOTE
    from tests.factories import staff as make_staff

    owner = make_staff(shop)
    key = api_key_create(user=owner, shop_id=shop.pk, name="Checkout server", scopes=["checkout:use"]).key
    till_only = api_key_create(user=owner, shop_id=shop.pk, name="Till", scopes=["till:use"]).key

    def post(secret, query, variables):
        response = Client(enforce_csrf_checks=True).post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )
        return response.json()["data"]

    basket = {
        "shopId": gid("Shop", shop.pk),
        "customerId": gold_member.external_id,
        "lines": [{"quantity": 2, "unitPrice": "15.00"}],
        "couponCodes": ["BF-ONCE"],
        "pointsToSpend": 100,
    }
    assert post(till_only, QUOTE, {"input": basket})["checkoutQuote"]["errors"][0]["code"] == "PERMISSION_DENIED"
    quote = post(key, QUOTE, {"input": basket})["checkoutQuote"]["quote"]
    assert (quote["discountTotal"], quote["pointsSpent"], quote["totalDue"]) == ("16.50", 100, "12.50")
    committed = post(key, COMMIT, {"input": {"quoteToken": quote["token"], "idempotencyKey": "web-1"}})
    assert committed["checkoutCommit"]["commit"]["totalDue"] == "12.50"


def test_the_owner_caps_points_as_payment_in_the_program(shop, cashier, gold_member):
    from tests.api.graphql import login
    from tests.factories import staff as make_staff

    owner = login(make_staff(shop))
    update = """mutation($shop: ID!, $input: ProgramUpdateInput!) {
      programUpdate(shopId: $shop, input: $input) { program { pointsPaymentMaxPercent pointsPaymentMinPoints }
                                                    loyaltyErrors { code field } } }"""
    from tests.api.graphql import gql as post

    refused = post(owner, update, {"shop": gid("Shop", shop.pk), "input": {"pointsPaymentMaxPercent": "150"}})
    assert refused["data"]["programUpdate"]["loyaltyErrors"] == [
        {"code": "INVALID_INPUT", "field": "pointsPaymentMaxPercent"}
    ]
    saved = post(
        owner,
        update,
        {"shop": gid("Shop", shop.pk), "input": {"pointsPaymentMaxPercent": "25", "pointsPaymentMinPoints": 50}},
    )
    assert saved["data"]["programUpdate"]["program"] == {
        "pointsPaymentMaxPercent": "25.00",
        "pointsPaymentMinPoints": 50,
    }
    quote = cashier.quote((1, "20.00"), customer=gold_member, points=300)["quote"]
    # Gold 10% leaves 18.00; a quarter of it is 4.50 = 450 points, so all 300 fit
    assert (quote["pointsSpent"], quote["totalDue"]) == (300, "15.00")
    quote = cashier.quote((1, "8.00"), customer=gold_member, points=300)["quote"]
    assert (quote["pointsSpent"], [n["reason"] for n in quote["notApplied"]]) == (180, ["POINTS_CAPPED"])
    assert cashier.quote((1, "8.00"), customer=gold_member, points=40)["quote"]["notApplied"][0]["reason"] == (
        "POINTS_BELOW_MINIMUM"
    )
    post(owner, update, {"shop": gid("Shop", shop.pk), "input": {"pointsPaymentMaxPercent": "0"}})
    assert cashier.quote((1, "8.00"), customer=gold_member, points=100)["quote"]["notApplied"][0]["reason"] == (
        "POINTS_DISABLED"
    )


def test_guessing_coupon_codes_is_rate_limited_but_known_codes_are_not(cashier, shop, single_use):
    # 30 unknown codes a minute per caller: 3 quotes of 10 guesses pass, the next guess is refused
    for round_ in range(3):
        guesses = [f"GUESS-{round_}-{n}" for n in range(10)]
        assert cashier.quote((1, "10.00"), coupons=guesses)["errors"] == []
    refused = cashier.quote((1, "10.00"), coupons=["GUESS-X"])["errors"]
    assert [(e["code"], e["field"]) for e in refused] == [("RATE_LIMITED", "couponCodes")]
    quotes = CheckoutQuote.objects.count()
    # a known code, and a basket without codes, still price
    assert cashier.quote((1, "10.00"), coupons=["BF-ONCE"])["errors"] == []
    assert cashier.quote((1, "10.00"))["errors"] == []
    assert CheckoutQuote.objects.count() == quotes + 2


def test_a_members_export_lists_their_commits_and_erasure_scrubs_their_quotes(cashier, gold_member, single_use):
    import json

    from crm.services.privacy import member_data_export, member_erase

    quote = cashier.quote((1, "40.00"), (1, "25.00"), customer=gold_member, coupons=["BF-ONCE"], points=100)["quote"]
    cashier.commit(quote["token"], "sale-x", order_id="POS-X")
    exported = json.loads(member_data_export(user=gold_member.user, fmt="json").content)
    commits = exported["checkoutCommits"]
    assert [(c["orderId"], c["totalDue"], c["pointsSpent"]) for c in commits] == [("POS-X", quote["totalDue"], "100")]
    former = gold_member.external_id
    member_erase(actor=None, customer=gold_member, reason="member's request")
    gold_member.refresh_from_db()
    stored = CheckoutQuote.objects.get().input["customerId"]
    assert stored == gold_member.external_id != former
