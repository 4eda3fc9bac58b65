"""Staff keep the shop's record of a member; a blocked member earns and redeems nothing, with a code."""

from __future__ import annotations

import datetime as dt

import pytest

from checkout.models import Coupon, Promotion
from crm.models import MemberNote, MemberProfile, MemberTag
from loyalty.models import MemberAccount, MemberStatus, PointsEntry
from loyalty.selectors import ledger_discrepancies
from marketplace.models import StaffRole
from rewards.models import Redemption
from rewards.services import reward_redeem
from tests.api.graphql import gid, gql, login
from tests.checkout.conftest import Till
from tests.crm.test_stats_tags import _event
from tests.factories import staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

RECORD = """
mutation($id: ID!, $input: MemberRecordInput!) {
  memberRecordUpdate(accountId: $id, input: $input) {
    account { record { firstName phone email birthDate personalDates preferences } }
    errors { code field }
  }
}
"""


@pytest.fixture
def shop():
    return points_shop()


@pytest.fixture
def member(shop):
    customer = member_with_points(shop, amounts=("300.00",))
    return customer, MemberAccount.objects.get(customer=customer)


def test_a_manager_edits_the_shops_record_and_bad_input_changes_nothing(shop, member):
    customer, account = member
    manager = login(staff(shop, StaffRole.MANAGER))
    saved = gql(
        manager,
        RECORD,
        {
            "id": gid("MemberAccount", account.pk),
            "input": {
                "firstName": " Sara ",
                "phone": "0912 123 4567",
                "phoneRegion": "IR",
                "email": "sara@example.com",
                "personalDates": [{"kind": "anniversary", "label": "Wedding", "date": "2015-06-20"}],
                "preferences": {"diet": "vegetarian", "favourite": "flat white"},
            },
        },
    )["data"]["memberRecordUpdate"]
    assert saved["errors"] == []
    assert saved["account"]["record"]["firstName"] == "Sara"
    assert saved["account"]["record"]["phone"] == "+989121234567"  # E.164 by libphonenumber
    before = list(MemberProfile.objects.values())
    for fields, code, field in (
        ({"phone": "12"}, "INVALID_PHONE", "phone"),
        ({"email": "not an address"}, "INVALID_INPUT", "email"),
        ({"birthDate": "1850-01-01"}, "INVALID_INPUT", "birthDate"),
        ({"personalDates": [{"kind": "party", "date": "2020-01-01"}]}, "INVALID_INPUT", "personalDates"),
        ({"preferences": {"Bad Key": "x"}}, "INVALID_INPUT", "preferences"),
    ):
        refused = gql(manager, RECORD, {"id": gid("MemberAccount", account.pk), "input": fields})
        assert refused["data"]["memberRecordUpdate"]["errors"] == [{"code": code, "field": field}], fields
    assert list(MemberProfile.objects.values()) == before
    # the member's own marketplace record is untouched by the shop's
    customer.refresh_from_db()
    assert customer.phone == ""


def test_notes_and_tags_are_for_staff_never_for_the_member(shop, member):
    customer, account = member
    manager = login(staff(shop, StaffRole.MANAGER))
    note = gql(
        manager,
        'mutation($id: ID!) { memberNoteAdd(accountId: $id, text: "Asked for a receipt by e-mail") '
        "{ note { text author } errors { code } } }",
        {"id": gid("MemberAccount", account.pk)},
    )["data"]["memberNoteAdd"]
    assert note["note"]["text"] == "Asked for a receipt by e-mail"
    tag = gql(
        manager,
        "mutation($id: ID!, $t: String!) { memberTagSet(accountId: $id, tag: $t) { errors { code field } } }",
        {"id": gid("MemberAccount", account.pk), "t": "wholesale"},
    )["data"]["memberTagSet"]
    assert tag["errors"] == []
    auto = gql(
        manager,
        'mutation($id: ID!) { memberTagSet(accountId: $id, tag: "vip") { errors { code field } } }',
        {"id": gid("MemberAccount", account.pk)},
    )["data"]["memberTagSet"]
    assert auto["errors"] == [{"code": "INVALID_INPUT", "field": "tag"}]  # the rules own "vip"
    # staff read them on the member
    detail = gql(
        manager,
        "query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) { status "
        "tags { tag source } notes { text } stats { visits totalSpend } } } }",
        {"slug": shop.slug, "id": gid("MemberAccount", account.pk)},
    )["data"]["shop"]["member"]
    assert {"tag": "wholesale", "source": "MANUAL"} in detail["tags"]
    assert detail["notes"] == [{"text": "Asked for a receipt by e-mail"}]
    assert detail["stats"] == {"visits": 1, "totalSpend": "300.00"}
    # the member sees their status and statistics, and is refused the notes explicitly
    own = gql(
        login(customer.user),
        "{ viewer { accounts(first: 5) { edges { node { status stats { visits } notes { text } } } } } }",
    )
    assert own["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert own["errors"][0]["path"][-1] == "notes"
    mine = gql(login(customer.user), "{ viewer { accounts(first: 5) { edges { node { status stats { visits } } } } } }")
    assert mine["data"]["viewer"]["accounts"]["edges"][0]["node"] == {"status": "ACTIVE", "stats": {"visits": 1}}
    assert MemberNote.objects.count() == 1
    assert MemberTag.objects.filter(tag="wholesale").count() == 1


def test_a_blocked_member_earns_and_redeems_nothing_with_a_code(shop, member):
    customer, account = member
    owner = login(staff(shop, StaffRole.OWNER))
    gift = reward(shop, points_cost=50)
    code = reward_redeem(user=customer.user, reward_id=gift.pk, idempotency_key="before").redemption.code
    blocked = gql(
        owner,
        "mutation($id: ID!) { memberStatusSet(accountId: $id, status: BLOCKED) { account { status } "
        "errors { code } } }",
        {"id": gid("MemberAccount", account.pk)},
    )["data"]["memberStatusSet"]
    assert blocked == {"account": {"status": "BLOCKED"}, "errors": []}
    entries = PointsEntry.objects.count()
    # an order earns nothing
    _event(shop, customer, "BLK-1", "delivered", dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC), amount="80.00")
    assert PointsEntry.objects.count() == entries
    # a reward is refused with MEMBER_BLOCKED, and so is the code issued before, at the till
    redeem = gql(
        login(customer.user),
        'mutation($r: ID!) { rewardRedeem(input: {rewardId: $r}, idempotencyKey: "after") { errors { code } } }',
        {"r": gid("Reward", gift.pk)},
    )["data"]["rewardRedeem"]
    assert redeem["errors"] == [{"code": "MEMBER_BLOCKED"}]
    till = gql(
        login(staff(shop, StaffRole.CASHIER)),
        "mutation($s: ID!, $c: String!) { redemptionConsume(input: {shopId: $s, code: $c}) { errors { code } } }",
        {"s": gid("Shop", shop.pk), "c": code},
    )["data"]["redemptionConsume"]
    assert till["errors"] == [{"code": "MEMBER_BLOCKED"}]
    assert Redemption.objects.get(code=code).status == "issued"
    # at checkout: no points, no tier discount, nothing to earn
    promotion = Promotion.objects.create(shop=shop, name="Ten", kind="percentage", value=10, requires_coupon=True)
    Coupon.objects.create(shop=shop, promotion=promotion, code="TEN")
    quote = Till(shop, staff(shop, StaffRole.CASHIER)).quote(
        (1, "20.00"), customer=customer, points=100, coupons=["TEN"]
    )["quote"]
    assert [n["reason"] for n in quote["notApplied"]] == ["MEMBER_BLOCKED"]
    assert (quote["pointsSpent"], quote["pointsEarned"], quote["totalDue"]) == (0, 0, "18.00")
    # unblocked, they earn again
    gql(
        owner,
        "mutation($id: ID!) { memberStatusSet(accountId: $id, status: ACTIVE) { errors { code } } }",
        {"id": gid("MemberAccount", account.pk)},
    )
    _event(shop, customer, "BLK-2", "delivered", dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC), amount="80.00")
    assert PointsEntry.objects.filter(kind="earn", order__external_id="BLK-2").exists()
    assert MemberAccount.objects.get(pk=account.pk).status == MemberStatus.ACTIVE
    assert ledger_discrepancies() == []


CRM_PAGE = """query($slug: String!, $order: String!) {
  shop(slug: $slug) { members(orderBy: $order, first: 50, filter: {visitsMin: 1}) { totalCount
    edges { node { status stats { visits totalSpend lastVisitAt } tags { tag source reason }
                   record { firstName phone } notes { text } } } } } }"""


@pytest.mark.parametrize("members", [2, 12])
def test_the_members_page_with_crm_columns_costs_the_same_queries_whatever_the_members(
    members, django_assert_num_queries
):
    shop = points_shop()
    for _ in range(members):
        customer = member_with_points(shop, amounts=("120.00",))
        account = MemberAccount.objects.get(customer=customer)
        MemberTag.objects.create(account=account, tag="wholesale", source="manual", assigned_at=account.enrolled_at)
        MemberNote.objects.create(account=account, text="Regular")
        MemberProfile.objects.create(account=account, first_name="Kim")
    client = login(staff(shop, StaffRole.MANAGER))
    # session, user, shop, staff role, the page and its total (stats, record, program joined), tags, notes, authors
    with django_assert_num_queries(8):
        body = gql(client, CRM_PAGE, {"slug": shop.slug, "order": "-spend"})
    page = body["data"]["shop"]["members"]
    assert page["totalCount"] == members
    assert {"tag": "wholesale", "source": "MANUAL", "reason": ""} in page["edges"][0]["node"]["tags"]
