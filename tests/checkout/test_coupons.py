"""Coupons and promotions through the API and the commands: batches, CSV both ways, QR, void, validation."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from checkout.models import Coupon, CouponBatch, Promotion
from checkout.services import coupon_code_normalise
from checkout.services.coupons import GUESS_FACTOR
from loyalty.models import Tier
from marketplace.models import StaffRole
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, staff

pytestmark = pytest.mark.django_db

CREATE = """
mutation($shopId: ID!, $input: PromotionInput!) {
  promotionCreate(shopId: $shopId, input: $input) {
    promotion { id name kind value priority stacking tierIds requiresCoupon weekdays hourFrom hourTo
                stats { uses discountGiven revenue } }
    errors { code field }
  }
}
"""
BATCH = """
mutation($input: CouponBatchGenerateInput!) {
  couponBatchGenerate(input: $input) { batch { id name count prefix csv } errors { code field message } }
}
"""
COUPON = """
mutation($input: CouponCreateInput!) {
  couponCreate(input: $input) { coupon { id code maxUses customerId voided qrSvg batchId } errors { code field } }
}
"""
LIST = """
query($slug: String!, $promotionId: ID) {
  shop(slug: $slug) {
    promotions(includeArchived: true) { name stats { uses } }
    coupons(promotionId: $promotionId, first: 5) { totalCount edges { node { code uses } } }
    couponBatches { name count }
  }
}
"""


def _promotion(client, shop, **fields):
    variables = {
        "shopId": gid("Shop", shop.pk),
        "input": {"name": "Weekend", "kind": "PERCENTAGE", "value": "20", **fields},
    }
    return gql(client, CREATE, variables)["data"]["promotionCreate"]


def test_an_owner_creates_a_promotion_and_a_batch_and_exports_it(shop):
    owner = login(staff(shop, StaffRole.OWNER))
    gold = Tier.objects.get(program__shop=shop, name="Gold")
    made = _promotion(
        owner,
        shop,
        name="Black Friday",
        kind="CHEAPEST_FREE",
        value="0",
        buyQuantity=2,
        tierIds=[gid("Tier", gold.pk)],
        requiresCoupon=True,
        priority=100,
        weekdays=[5, 5],
        hourFrom=22,
        hourTo=2,
    )
    assert made["errors"] == []
    promotion = made["promotion"]
    assert (promotion["kind"], promotion["tierIds"], promotion["weekdays"]) == (
        "CHEAPEST_FREE",
        [gid("Tier", gold.pk)],
        [5],
    )
    assert promotion["stats"] == {"uses": 0, "discountGiven": "0.00", "revenue": "0.00"}
    # a batch of 50 codes with a prefix
    batch = gql(
        owner,
        BATCH,
        {
            "input": {
                "promotionId": promotion["id"],
                "name": "Mailing",
                "count": 50,
                "prefix": "bf-",
                "length": 8,
                "channel": "email",
            }
        },
    )
    assert batch["data"]["couponBatchGenerate"]["errors"] == []
    exported = batch["data"]["couponBatchGenerate"]["batch"]["csv"]
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 50 == len({row["code"] for row in rows})
    assert all(re.fullmatch(r"BF-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}", row["code"]) for row in rows)
    assert {row["max_uses"] for row in rows} == {"1"}
    assert {row["channel"] for row in rows} == {"email"}
    # the shop's lists show them
    listed = gql(owner, LIST, {"slug": shop.slug, "promotionId": promotion["id"]})["data"]["shop"]
    assert listed["coupons"]["totalCount"] == 50
    assert len(listed["coupons"]["edges"]) == 5
    assert listed["couponBatches"] == [{"name": "Mailing", "count": 50}]
    assert listed["promotions"] == [{"name": "Black Friday", "stats": {"uses": 0}}]


def test_a_pattern_too_small_for_the_batch_is_refused_and_writes_nothing(shop):
    owner = login(staff(shop, StaffRole.OWNER))
    promotion = _promotion(owner, shop)["promotion"]
    # 2 symbols x 4 = 16 possible codes: far below a million per code
    refused = gql(
        owner,
        BATCH,
        {"input": {"promotionId": promotion["id"], "name": "x", "count": 10, "length": 4, "alphabet": "AB"}},
    )["data"]["couponBatchGenerate"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "length")]
    assert GUESS_FACTOR * 10 > 2**4
    for bad, field in (
        ({"count": 0}, "count"),
        ({"prefix": "bad prefix!"}, "prefix"),
        ({"alphabet": "AA"}, "alphabet"),
    ):
        errors = gql(owner, BATCH, {"input": {"promotionId": promotion["id"], "name": "x", "count": 1, **bad}})
        assert errors["data"]["couponBatchGenerate"]["errors"][0]["field"] == field
    assert (CouponBatch.objects.count(), Coupon.objects.count()) == (0, 0)


def test_one_coupon_personal_with_qr_then_voided(shop, gold_member):
    owner = login(staff(shop, StaffRole.OWNER))
    promotion = _promotion(owner, shop, requiresCoupon=True)["promotion"]
    made = gql(
        owner,
        COUPON,
        {"input": {"promotionId": promotion["id"], "code": " vip anna ", "customerId": gold_member.external_id}},
    )["data"]["couponCreate"]
    coupon = made["coupon"]
    assert (coupon["code"], coupon["customerId"], coupon["maxUses"], coupon["batchId"]) == (
        "VIPANNA",
        gold_member.external_id,
        1,
        None,
    )
    assert coupon["qrSvg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<path" in coupon["qrSvg"]
    taken = gql(owner, COUPON, {"input": {"promotionId": promotion["id"], "code": "VIPANNA"}})["data"]["couponCreate"]
    assert taken["errors"] == [{"code": "CODE_TAKEN", "field": "code"}]
    unknown = gql(owner, COUPON, {"input": {"promotionId": promotion["id"], "customerId": "nobody"}})
    assert unknown["data"]["couponCreate"]["errors"] == [{"code": "NOT_FOUND", "field": "customerId"}]
    voided = gql(
        owner,
        "mutation($id: ID!) { couponVoid(couponId: $id) { coupon { voided } errors { code } } }",
        {"id": coupon["id"]},
    )["data"]["couponVoid"]
    assert voided == {"coupon": {"voided": True}, "errors": []}
    assert Coupon.objects.count() == 1


def test_promotion_validation_names_the_field_and_changes_nothing(shop):
    owner = login(staff(shop, StaffRole.OWNER))
    cases = [
        ({"value": "120"}, "value"),
        ({"kind": "BUY_X_GET_Y", "buyQuantity": 0, "getQuantity": 1}, "buyQuantity"),
        ({"kind": "FREE_PRODUCT", "value": "0"}, "freeProductId"),
        ({"kind": "FIXED_AMOUNT", "value": "0"}, "value"),
        ({"weekdays": [0]}, "weekdays"),
        ({"hourFrom": 10}, "hourTo"),
        ({"tierIds": [gid("Tier", 999999)]}, "tierIds"),
        ({"priority": 5000}, "priority"),
        ({"name": " "}, "name"),
        ({"value": "10.005"}, "value"),
    ]
    for fields, field in cases:
        errors = _promotion(owner, shop, **fields)["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_INPUT", field)], fields
    assert Promotion.objects.count() == 0


def test_cashiers_and_other_shops_cannot_manage_promotions(shop):
    cashier = login(staff(shop, StaffRole.CASHIER))
    assert _promotion(cashier, shop)["errors"][0]["code"] == "PERMISSION_DENIED"
    body = gql(cashier, LIST, {"slug": shop.slug})
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    owner = login(staff(shop, StaffRole.OWNER))
    promotion = _promotion(owner, shop)["promotion"]
    update = (
        'mutation($id: ID!) { promotionUpdate(promotionId: $id, input: {name: "x", kind: PERCENTAGE, value: "5"}) '
        "{ errors { code } } }"
    )
    assert gql(cashier, update, {"id": promotion["id"]})["data"]["promotionUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    from tests.factories import shop_with_program

    stranger = login(staff(shop_with_program(), StaffRole.OWNER))
    assert gql(stranger, update, {"id": promotion["id"]})["data"]["promotionUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    assert Promotion.objects.get().name == "Weekend"


def test_import_and_export_commands(shop, tmp_path):
    owner = staff(shop, StaffRole.OWNER)
    promotion = Promotion.objects.create(
        shop=shop, name="Imported", kind="percentage", value=Decimal("5"), requires_coupon=True, created_by=owner
    )
    member = CustomerFactory()
    path = tmp_path / "codes.csv"
    path.write_text(
        "code,customer_id,max_uses,valid_until,channel\n"
        f"spring-1,{member.external_id},2,2027-01-01T00:00:00+00:00,print\n"
        "spring-2,,,,\n"
    )
    out = io.StringIO()
    call_command("coupons_import", shop.slug, str(promotion.pk), str(path), stdout=out)
    assert "imported coupons=2" in out.getvalue()
    first = Coupon.objects.get(code="SPRING-1")
    assert (first.customer, first.max_uses, first.channel) == (member, 2, "print")
    assert Coupon.objects.get(code="SPRING-2").max_uses is None
    exported = io.StringIO()
    call_command("coupons_export", shop.slug, "--promotion", str(promotion.pk), stdout=exported)
    assert sorted(row["code"] for row in csv.DictReader(io.StringIO(exported.getvalue()))) == ["SPRING-1", "SPRING-2"]
    # a file with a bad line (and a code that exists) imports nothing at all
    path.write_text("code,max_uses\nspring-3,1\nspring-4,many\n")
    with pytest.raises(CommandError, match="Line 3: max_uses"):
        call_command("coupons_import", shop.slug, str(promotion.pk), str(path), stdout=io.StringIO())
    path.write_text("code\nspring-5\nSPRING-1\n")
    with pytest.raises(CommandError, match="CODE_TAKEN"):
        call_command("coupons_import", shop.slug, str(promotion.pk), str(path), stdout=io.StringIO())
    assert Coupon.objects.count() == 2
    assert coupon_code_normalise(" spring 3 ") == "SPRING3"


def test_demo_checkout_is_idempotent():
    call_command("patron_demo", stdout=io.StringIO())
    call_command("demo_checkout", stdout=io.StringIO())
    counts = (Promotion.objects.count(), Coupon.objects.count(), CouponBatch.objects.count())
    call_command("demo_checkout", stdout=io.StringIO())
    assert (Promotion.objects.count(), Coupon.objects.count(), CouponBatch.objects.count()) == counts
    shops = Promotion.objects.values("shop").distinct().count()
    assert counts == (2 * shops, (1 + 5 + 20) * shops, shops)
    assert Coupon.objects.filter(code="DEMO-ONCE-1", max_uses=1).count() == shops


def test_black_friday_runs_with_its_coupon_batch(shop, cashier, gold_member, black_friday):
    # given the Black Friday promotion (cheapest of 2 free, Gold, coupon) and a batch of its codes
    from checkout.services import BatchInput, CouponInput, coupon_batch_generate
    from tests.rewards.conftest import member_with_points

    batch = coupon_batch_generate(
        user=staff(shop, StaffRole.MANAGER),
        data=BatchInput(
            settings=CouponInput(promotion_id=black_friday.pk, channel="email"), name="BF", count=30, prefix="BF-"
        ),
    )
    first, second = list(batch.coupons.order_by("code").values_list("code", flat=True)[:2])
    # when a Gold member uses one code on two items
    quote = cashier.quote((1, "60.00"), (1, "35.00"), customer=gold_member, coupons=[first])["quote"]
    assert [(d["source"], d["amount"]) for d in quote["discounts"]] == [("COUPON", "35.00"), ("TIER", "6.00")]
    assert cashier.commit(quote["token"], "bf-1")["errors"] == []
    # then that code is spent, another code of the batch still works, and a Silver member is refused
    again = cashier.quote((1, "60.00"), (1, "35.00"), customer=gold_member, coupons=[first])["quote"]
    assert [n["reason"] for n in again["notApplied"]] == ["COUPON_USED_UP"]
    assert cashier.quote((1, "60.00"), (1, "35.00"), customer=gold_member, coupons=[second])["quote"]["totalDue"] == (
        "54.00"
    )
    silver = member_with_points(shop, amounts=("150.00",))
    refused = cashier.quote((1, "60.00"), (1, "35.00"), customer=silver, coupons=[second])["quote"]
    assert [n["reason"] for n in refused["notApplied"]] == ["TIER_NOT_ELIGIBLE"]
    stats = Promotion.objects.get(pk=black_friday.pk).uses.get()
    assert (stats.amount, stats.revenue) == (Decimal("35.00"), Decimal("54.00"))
