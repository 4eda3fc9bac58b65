"""Earning rules that target segments: a static segment's list and a dynamic segment's snapshot decide,
the same for the worker, the checkout quote and the preview; bad ids and deleting a targeted segment
are refused with codes and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from checkout.models import Promotion, PromotionKind
from crm.models import MemberTag, Segment, SegmentKind, TagSource
from crm.services.segments import segment_save
from crm.services.stats import members_refresh_all
from loyalty.models import EarningRule, MemberAccount, PointsEntry, ProgramChange, RuleKind
from loyalty.services.orders import order_event_process
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, order_input, shop_with_program, staff

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 16, 17, tzinfo=dt.UTC)
RULE = """mutation($shop: ID!, $input: EarningRuleInput!) { earningRuleCreate(shopId: $shop, input: $input) {
  rule { name segmentIds } errors { field code } } }"""
DELETE = "mutation($id: ID!) { segmentDelete(segmentId: $id) { deletedId errors { code field message } } }"


def _earned(shop, customer, order_id: str) -> int:
    """Record and post a delivered order of 100.00; the points of its earning."""
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount="100.00", at=AT),
        idempotency_key=order_id,
        actor=None,
        notify=False,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)
    return PointsEntry.objects.get(idempotency_key=f"order:{event.order_id}:earn").points


@pytest.fixture
def world():
    """A shop, its owner, two members (one tagged wholesale), a dynamic segment of the tag and a bonus rule for it."""
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    tagged, plain = CustomerFactory(), CustomerFactory()
    for customer in (tagged, plain):
        account_get_or_enroll(customer=customer, program=shop.program, at=AT - dt.timedelta(days=30))
    MemberTag.objects.create(
        account=MemberAccount.objects.get(customer=tagged), tag="wholesale", source=TagSource.MANUAL, assigned_at=AT
    )
    segment = segment_save(
        user=owner, shop_id=shop.pk, name="Wholesale", kind="dynamic", criteria={"tagsAny": ["wholesale"]}
    )
    return shop, owner, tagged, plain, segment


def test_a_rule_for_a_dynamic_segment_rewards_its_snapshot_members_only(world):
    shop, owner, tagged, plain, segment = world
    assert segment.snapshot_count == 1  # taken when saved
    made = gql(
        login(owner),
        RULE,
        {
            "shop": gid("Shop", shop.pk),
            "input": {
                "name": "Trade bonus",
                "kind": "FIXED_BONUS",
                "bonusPoints": 50,
                "segmentIds": [gid("Segment", segment.pk)],
            },
        },
    )["data"]["earningRuleCreate"]
    assert made == {"rule": {"name": "Trade bonus", "segmentIds": [gid("Segment", segment.pk)]}, "errors": []}
    # then the member in the segment earns the bonus and the other does not (same history, same tier)
    assert _earned(shop, tagged, "T1") == _earned(shop, plain, "P1") + 50
    # when the other member gets the tag, the rule still reads the snapshot taken before
    MemberTag.objects.create(
        account=MemberAccount.objects.get(customer=plain), tag="wholesale", source=TagSource.MANUAL, assigned_at=AT
    )
    assert _earned(shop, tagged, "T2") == _earned(shop, plain, "P2") + 50
    # and from the next nightly pass on (which takes the snapshots), they earn it too
    members_refresh_all(shop_id=shop.pk)
    assert Segment.objects.get(pk=segment.pk).snapshot_count == 2
    assert _earned(shop, tagged, "T3") == _earned(shop, plain, "P3")


def test_a_rule_for_a_static_segment_rewards_its_list(world):
    shop, owner, tagged, plain, _ = world
    listed = segment_save(
        user=owner,
        shop_id=shop.pk,
        name="Friends",
        kind="static",
        account_ids=[MemberAccount.objects.get(customer=plain).pk],
    )
    EarningRule.objects.create(
        program=shop.program,
        name="Friends x2",
        kind=RuleKind.MULTIPLIER,
        multiplier=Decimal(2),
        segment_ids=[listed.pk],
    )
    assert _earned(shop, plain, "P1") == 2 * _earned(shop, tagged, "T1")


def test_the_preview_counts_a_segments_rule_only_for_its_members(world):
    shop, owner, _, _, segment = world
    EarningRule.objects.create(
        program=shop.program, name="Trade bonus", kind=RuleKind.FIXED_BONUS, bonus_points=50, segment_ids=[segment.pk]
    )
    query = """query($shop: ID!, $segments: [ID!]!) { earningPreview(shopId: $shop, input: {lines: [{quantity: 1,
      unitPrice: "100.00"}], segmentIds: $segments}) { points rules { name } } }"""
    outside = gql(login(owner), query, {"shop": gid("Shop", shop.pk), "segments": []})["data"]["earningPreview"]
    inside = gql(login(owner), query, {"shop": gid("Shop", shop.pk), "segments": [gid("Segment", segment.pk)]})
    assert outside["rules"] == []
    assert inside["data"]["earningPreview"] == {"points": outside["points"] + 50, "rules": [{"name": "Trade bonus"}]}


def test_a_rule_naming_another_shops_segment_is_refused_and_nothing_changes(world):
    shop, owner, *_ = world
    other_shop = shop_with_program()
    foreign = segment_save(
        user=staff(other_shop, StaffRole.OWNER), shop_id=other_shop.pk, name="Theirs", kind="dynamic", criteria={}
    )
    for ids in ([gid("Segment", foreign.pk)], [gid("Segment", 999_999)], ["not-an-id"]):
        refused = gql(
            login(owner),
            RULE,
            {
                "shop": gid("Shop", shop.pk),
                "input": {"name": "x", "kind": "FIXED_BONUS", "bonusPoints": 5, "segmentIds": ids},
            },
        )["data"]["earningRuleCreate"]
        assert refused == {"rule": None, "errors": [{"field": "segmentIds", "code": "INVALID_INPUT"}]}
    assert EarningRule.objects.count() == 0
    assert ProgramChange.objects.filter(program=shop.program).count() == 0


def test_a_targeted_segment_cannot_be_deleted(world):
    shop, owner, _, _, segment = world
    EarningRule.objects.create(
        program=shop.program, name="Trade bonus", kind=RuleKind.FIXED_BONUS, bonus_points=50, segment_ids=[segment.pk]
    )
    refused = gql(login(owner), DELETE, {"id": gid("Segment", segment.pk)})["data"]["segmentDelete"]
    assert refused["deletedId"] is None
    assert refused["errors"][0]["code"] == "SEGMENT_IN_USE"
    assert "Trade bonus" in refused["errors"][0]["message"]
    assert Segment.objects.filter(pk=segment.pk, kind=SegmentKind.DYNAMIC).exists()
    # nor while a promotion targets it (without it, the promotion would be everyone's)
    EarningRule.objects.all().delete()
    promotion = Promotion.objects.create(shop=shop, name="Trade 10%", kind=PromotionKind.PERCENTAGE, value=Decimal(10))
    promotion.segments.add(segment)
    refused = gql(login(owner), DELETE, {"id": gid("Segment", segment.pk)})["data"]["segmentDelete"]
    assert refused["errors"][0]["code"] == "SEGMENT_IN_USE"
    assert "Trade 10%" in refused["errors"][0]["message"]
    assert list(promotion.segments.all()) == [segment]
    # once nothing targets it, it goes
    promotion.delete()
    gone = gql(login(owner), DELETE, {"id": gid("Segment", segment.pk)})["data"]["segmentDelete"]
    assert gone == {"deletedId": gid("Segment", segment.pk), "errors": []}
