"""The rewards GraphQL API: redeem and see codes across shops, the till, catalogue edits, permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from loyalty.models import PointsEntry, Tier
from marketplace.models import StaffRole
from rewards.models import Redemption, Reward
from rewards.services import reward_redeem
from tests.api.graphql import gid, gql, login
from tests.factories import UserFactory, staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db


REDEEM = """mutation($id: ID!, $key: String!) { rewardRedeem(input: {rewardId: $id}, idempotencyKey: $key) {
  replayed redemption { code status points reward { name } shop { slug } } errors { field message code } } }"""
VALIDATE = """mutation($shop: ID!, $code: String!) { redemptionValidate(input: {shopId: $shop, code: $code}) {
  redemption { status reward { name } } errors { code } } }"""
CONSUME = """mutation($shop: ID!, $code: String!) {
  redemptionConsume(input: {shopId: $shop, code: $code, orderExternalId: "T1"}) {
    redemption { status orderExternalId } errors { code } } }"""
CANCEL = (
    """mutation($id: ID!) { redemptionCancel(input: {redemptionId: $id}) { redemption { status } errors { code } } }"""
)
CREATE = """mutation($shop: ID!, $input: RewardInputType!) { rewardCreate(shopId: $shop, input: $input) {
  reward { name pointsCost kind value currency } errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: RewardInputType!) { rewardUpdate(rewardId: $id, input: $input) {
  reward { name pointsCost } errors { field code } } }"""
ARCHIVE = """mutation($id: ID!) { rewardArchive(rewardId: $id) { reward { status } errors { code } } }"""


def test_member_redeems_in_two_shops_and_sees_all_codes_in_one_list():
    coffee, books = points_shop(), points_shop()
    member = member_with_points(coffee, amounts=("300.00",))
    member_with_points(books, amounts=("200.00",), customer=member)
    mug, book = reward(coffee, name="Mug"), reward(books, name="Bookmark", points_cost=50)
    client = login(member.user)
    first = gql(client, REDEEM, {"id": gid("Reward", mug.pk), "key": "a"})["data"]["rewardRedeem"]
    second = gql(client, REDEEM, {"id": gid("Reward", book.pk), "key": "b"})["data"]["rewardRedeem"]
    assert first["errors"] == second["errors"] == []
    assert len(first["redemption"]["code"]) == 15  # 4-4-5 with dashes
    body = gql(
        client, "{ viewer { redemptions(first: 10) { edges { node { code status shop { slug } reward { name } } } } } }"
    )
    listed = [edge["node"] for edge in body["data"]["viewer"]["redemptions"]["edges"]]
    assert {(n["shop"]["slug"], n["reward"]["name"], n["status"]) for n in listed} == {
        (coffee.slug, "Mug", "ISSUED"),
        (books.slug, "Bookmark", "ISSUED"),
    }
    assert {n["code"] for n in listed} == {first["redemption"]["code"], second["redemption"]["code"]}
    # one shop's codes (the account page): the filter by shop
    one_shop = "query($shop: ID!) { viewer { redemptions(first: 10, shopId: $shop) { edges { node { code } } } } }"
    only_books = gql(client, one_shop, {"shop": gid("Shop", books.pk)})["data"]["viewer"]["redemptions"]["edges"]
    assert [edge["node"]["code"] for edge in only_books] == [second["redemption"]["code"]]
    nowhere = gql(client, one_shop, {"shop": "not-an-id"})["data"]["viewer"]["redemptions"]["edges"]
    assert nowhere == []


def test_account_rewards_say_what_is_affordable_and_why_not():
    shop = points_shop()
    member = member_with_points(shop, amounts=("150.00",))  # 150 points, Silver
    gold = Tier.objects.get(program=shop.program, name="Gold")
    reward(shop, name="Cheap", points_cost=100, sort_order=3)
    reward(shop, name="Dear", points_cost=1000, sort_order=1)
    reward(shop, name="Gold only", points_cost=10, min_tier=gold, sort_order=2)
    body = gql(
        login(member.user),
        "{ viewer { accounts(first: 5) { edges { node {"
        " rewards { reward { name } affordable reasonUnavailable } } } } } }",
    )
    rows = body["data"]["viewer"]["accounts"]["edges"][0]["node"]["rewards"]
    assert [(r["reward"]["name"], r["affordable"], r["reasonUnavailable"]) for r in rows] == [
        ("Cheap", True, None),
        ("Dear", False, "INSUFFICIENT_POINTS"),
        ("Gold only", False, "TIER_REQUIRED"),
    ]
    public = gql(Client(), "query($s: String!) { shop(slug: $s) { rewards(kind: GIFT) { name } } }", {"s": shop.slug})
    assert [r["name"] for r in public["data"]["shop"]["rewards"]] == ["Dear", "Gold only", "Cheap"]
    mine = gql(
        login(member.user),
        "query($s: String!) { shop(slug: $s) { rewards(affordable: true) { name } } }",
        {"s": shop.slug},
    )
    assert [r["name"] for r in mine["data"]["shop"]["rewards"]] == ["Cheap"]


def test_till_validate_and_consume_through_the_api():
    shop = points_shop()
    member = member_with_points(shop)
    code = gql(login(member.user), REDEEM, {"id": gid("Reward", reward(shop).pk), "key": "a"})["data"]["rewardRedeem"][
        "redemption"
    ]["code"]
    cashier = login(staff(shop, StaffRole.CASHIER))
    shop_id = gid("Shop", shop.pk)
    valid = gql(cashier, VALIDATE, {"shop": shop_id, "code": code.lower()})["data"]["redemptionValidate"]
    assert valid == {"redemption": {"status": "ISSUED", "reward": {"name": "Mug"}}, "errors": []}
    used = gql(cashier, CONSUME, {"shop": shop_id, "code": code})["data"]["redemptionConsume"]
    assert used == {"redemption": {"status": "USED", "orderExternalId": "T1"}, "errors": []}
    again = gql(cashier, CONSUME, {"shop": shop_id, "code": code})["data"]["redemptionConsume"]
    assert again == {"redemption": None, "errors": [{"code": "CODE_ALREADY_USED"}]}


def _snapshot():
    return (
        list(Redemption.objects.order_by("pk").values_list("status", flat=True)),
        PointsEntry.objects.count(),
        list(Reward.objects.order_by("pk").values_list("name", "status", "points_cost")),
    )


def _callers(shop, member):
    return {
        "anonymous": None,
        "the member": member.user,
        "another member": member_with_points(shop).user,
        "cashier": staff(shop, StaffRole.CASHIER),
        "owner": staff(shop, StaffRole.OWNER),
        "staff of another shop": staff(points_shop(), StaffRole.OWNER),
    }


#: mutation -> caller -> expected first error code (None = allowed)
MATRIX = {
    "redeem": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": None,
        "another member": None,
        "cashier": "PERMISSION_DENIED",
        "owner": "PERMISSION_DENIED",
        "staff of another shop": "PERMISSION_DENIED",
    },
    "validate": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": "PERMISSION_DENIED",
        "another member": "PERMISSION_DENIED",
        "cashier": None,
        "owner": None,
        "staff of another shop": "PERMISSION_DENIED",
    },
    "consume": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": "PERMISSION_DENIED",
        "another member": "PERMISSION_DENIED",
        "cashier": None,
        "owner": None,
        "staff of another shop": "PERMISSION_DENIED",
    },
    "update": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": "NOT_FOUND",
        "another member": "NOT_FOUND",
        "cashier": "NOT_FOUND",
        "owner": None,
        "staff of another shop": "NOT_FOUND",
    },
    "cancel": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": None,
        "another member": "NOT_FOUND",
        "cashier": None,
        "owner": None,
        "staff of another shop": "NOT_FOUND",
    },
    "create": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": "PERMISSION_DENIED",
        "another member": "PERMISSION_DENIED",
        "cashier": "PERMISSION_DENIED",
        "owner": None,
        "staff of another shop": "PERMISSION_DENIED",
    },
    "archive": {
        "anonymous": "NOT_AUTHENTICATED",
        "the member": "NOT_FOUND",
        "another member": "NOT_FOUND",
        "cashier": "NOT_FOUND",
        "owner": None,
        "staff of another shop": "NOT_FOUND",
    },
}


@pytest.mark.parametrize("caller", list(MATRIX["redeem"]))
@pytest.mark.parametrize("mutation", list(MATRIX))
def test_permission_matrix(mutation, caller):
    shop = points_shop()
    member = member_with_points(shop)
    gift = reward(shop)
    issued = reward_redeem(user=member.user, reward_id=gift.pk, idempotency_key="seed").redemption
    client = login(_callers(shop, member)[caller])
    calls = {
        "redeem": (REDEEM, {"id": gid("Reward", gift.pk), "key": "k"}, "rewardRedeem"),
        "validate": (VALIDATE, {"shop": gid("Shop", shop.pk), "code": issued.code}, "redemptionValidate"),
        "consume": (CONSUME, {"shop": gid("Shop", shop.pk), "code": issued.code}, "redemptionConsume"),
        "update": (
            UPDATE,
            {"id": gid("Reward", gift.pk), "input": {"name": "Big mug", "kind": "GIFT", "pointsCost": 120}},
            "rewardUpdate",
        ),
        "cancel": (CANCEL, {"id": gid("Redemption", issued.pk)}, "redemptionCancel"),
        "create": (
            CREATE,
            {"shop": gid("Shop", shop.pk), "input": {"name": "Tote", "kind": "GIFT", "pointsCost": 80}},
            "rewardCreate",
        ),
        "archive": (ARCHIVE, {"id": gid("Reward", gift.pk)}, "rewardArchive"),
    }
    query, variables, field = calls[mutation]
    before = _snapshot()
    payload = gql(client, query, variables)["data"][field]
    expected = MATRIX[mutation][caller]
    if expected is None:
        assert (
            payload["errors"] == [] or payload["errors"][0]["code"] == "INSUFFICIENT_POINTS"
        )  # another member: own pts
        return
    assert [e["code"] for e in payload["errors"]] == [expected]
    assert _snapshot() == before


BAD_REWARDS = [
    ({"name": "", "kind": "GIFT", "pointsCost": 10}, "name"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 0}, "pointsCost"),
    ({"name": "X", "kind": "GIFT", "pointsCost": -5}, "pointsCost"),
    ({"name": "X", "kind": "FIXED_AMOUNT", "pointsCost": 10}, "value"),
    ({"name": "X", "kind": "PERCENTAGE", "pointsCost": 10, "value": "150"}, "value"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "stock": -1}, "stock"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "perMemberLimit": 0}, "perMemberLimit"),
    (
        {
            "name": "X",
            "kind": "GIFT",
            "pointsCost": 10,
            "validFrom": "2026-02-01T00:00:00Z",
            "validUntil": "2026-01-01T00:00:00Z",
        },
        "validUntil",
    ),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "imageUrl": "javascript:alert(1)"}, "imageUrl"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "minTierId": "VGllcjo5OTk5OTk="}, "minTierId"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "translations": {"fa": {"title": "x"}}}, "translations"),
    ({"name": "X", "kind": "GIFT", "pointsCost": 10, "codeLifetimeDays": 0}, "codeLifetimeDays"),
]


@pytest.mark.parametrize(("reward_input", "field"), BAD_REWARDS)
def test_invalid_rewards_are_refused_with_the_field_and_change_nothing(reward_input, field):
    shop = points_shop()
    owner = login(staff(shop, StaffRole.OWNER))
    before = _snapshot()
    payload = gql(owner, CREATE, {"shop": gid("Shop", shop.pk), "input": reward_input})["data"]["rewardCreate"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert _snapshot() == before


def test_owner_creates_a_discount_and_archives_it_but_redemptions_keep_it():
    shop = points_shop()
    owner = login(staff(shop, StaffRole.OWNER))
    created = gql(
        owner,
        CREATE,
        {
            "shop": gid("Shop", shop.pk),
            "input": {"name": "5 off", "kind": "FIXED_AMOUNT", "pointsCost": 100, "value": "5.00"},
        },
    )["data"]["rewardCreate"]
    assert created == {
        "reward": {"name": "5 off", "pointsCost": 100, "kind": "FIXED_AMOUNT", "value": "5.00", "currency": "USD"},
        "errors": [],
    }
    discount = Reward.objects.get(name="5 off")
    member = member_with_points(shop)
    gql(login(member.user), REDEEM, {"id": gid("Reward", discount.pk), "key": "a"})
    assert gql(owner, ARCHIVE, {"id": gid("Reward", discount.pk)})["data"]["rewardArchive"]["reward"] == {
        "status": "ARCHIVED"
    }
    body = gql(login(member.user), "{ viewer { redemptions(first: 5) { edges { node { reward { name status } } } } } }")
    assert body["data"]["viewer"]["redemptions"]["edges"][0]["node"]["reward"] == {
        "name": "5 off",
        "status": "ARCHIVED",
    }
    public = gql(Client(), "query($s: String!) { shop(slug: $s) { rewards { name } } }", {"s": shop.slug})
    assert public["data"]["shop"]["rewards"] == []
    # restored: back in the public catalogue; only its shop's owner or manager may restore it
    restore = """mutation($id: ID!) { rewardRestore(rewardId: $id) { reward { status } errors { code } } }"""
    for outsider in (login(staff(points_shop())), login(staff(shop, StaffRole.CASHIER)), login(member.user)):
        refused = gql(outsider, restore, {"id": gid("Reward", discount.pk)})["data"]["rewardRestore"]
        assert refused["reward"] is None
        assert refused["errors"][0]["code"] in ("NOT_FOUND", "PERMISSION_DENIED")
        assert Reward.objects.get(pk=discount.pk).status == "archived"
    restored = gql(owner, restore, {"id": gid("Reward", discount.pk)})["data"]["rewardRestore"]
    assert restored == {"reward": {"status": "ACTIVE"}, "errors": []}
    public = gql(Client(), "query($s: String!) { shop(slug: $s) { rewards { name } } }", {"s": shop.slug})
    assert public["data"]["shop"]["rewards"] == [{"name": "5 off"}]


def test_shop_redemptions_are_for_its_staff_only():
    shop = points_shop()
    member = member_with_points(shop)
    gql(login(member.user), REDEEM, {"id": gid("Reward", reward(shop).pk), "key": "a"})
    query = "query($s: String!) { shop(slug: $s) { redemptions(first: 5) { totalCount } } }"
    slug = {"s": shop.slug}
    assert gql(login(staff(shop, StaffRole.CASHIER)), query, slug)["data"]["shop"]["redemptions"]["totalCount"] == 1
    for outsider in (member.user, staff(points_shop()), UserFactory(), None):
        body = gql(login(outsider), query, slug)
        expected = "NOT_AUTHENTICATED" if outsider is None else "PERMISSION_DENIED"
        assert body["errors"][0]["extensions"]["code"] == expected


@pytest.mark.parametrize("shops", [1, 4])
def test_codes_list_and_account_catalogue_have_fixed_query_counts(shops, django_assert_num_queries):
    # given a member with one redemption in each of N shops, and a catalogue of 3 rewards each
    member = None
    for _ in range(shops):
        shop = points_shop()
        member = member_with_points(shop, customer=member)
        gifts = [reward(shop, name=f"R{i}", points_cost=100 + i) for i in range(3)]
        reward_redeem(user=member.user, reward_id=gifts[0].pk, idempotency_key=f"k{shop.pk}")
    client = login(member.user)
    codes = (
        "{ viewer { redemptions(first: 50) { edges { node { code status points reward { name } shop { name } } } } } }"
    )
    # when the member's codes page loads: session, user, customer, redemptions (+ reward, shop joined)
    with django_assert_num_queries(4):
        body = gql(client, codes)
    assert len(body["data"]["viewer"]["redemptions"]["edges"]) == shops
    # and one shop's account page with its catalogue: session, user, customer, the account
    # (+ shop, program, tier), the programs' active rewards, the members' limited redemptions
    # (both prefetched for the whole page, so the count does not grow with accounts)
    account_page = """{ viewer { accounts(first: 1) { edges { node {
      pointsAvailable rewards { reward { name pointsCost } affordable reasonUnavailable } } } } } }"""
    with django_assert_num_queries(6):
        body = gql(client, account_page)
    assert len(body["data"]["viewer"]["accounts"]["edges"][0]["node"]["rewards"]) == 3


def test_the_whole_catalogue_is_for_the_shops_owner_and_manager():
    shop = points_shop()
    live, archived = reward(shop, name="Mug"), reward(shop, name="Old mug")
    Reward.objects.filter(pk=archived.pk).update(status="archived")
    future = reward(shop, name="Next season")
    Reward.objects.filter(pk=future.pk).update(valid_from=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    query = "query($s: String!, $st: RewardStatus) { shop(slug: $s) { rewardCatalogue(status: $st) { name } } }"
    for role in (StaffRole.OWNER, StaffRole.MANAGER):
        editor = login(staff(shop, role))
        names = [r["name"] for r in gql(editor, query, {"s": shop.slug})["data"]["shop"]["rewardCatalogue"]]
        assert sorted(names) == ["Mug", "Next season", "Old mug"]
        only = gql(editor, query, {"s": shop.slug, "st": "ARCHIVED"})["data"]["shop"]["rewardCatalogue"]
        assert only == [{"name": "Old mug"}]
    assert live.name == "Mug"
    member = member_with_points(shop)
    for outsider in (staff(shop, StaffRole.CASHIER), member.user, staff(points_shop()), None):
        body = gql(login(outsider), query, {"s": shop.slug})
        expected = "NOT_AUTHENTICATED" if outsider is None else "PERMISSION_DENIED"
        assert body["errors"][0]["extensions"]["code"] == expected
        assert body["data"] is None or body["data"]["shop"] is None
