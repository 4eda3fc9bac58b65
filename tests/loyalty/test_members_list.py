"""shop.members: django-filter filters, ordering, cursor pages, roles and a fixed query count."""

from __future__ import annotations

import datetime as dt

import pytest
from strawberry import relay

from loyalty.models import MemberAccount, Tier
from marketplace.models import StaffRole
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, UserFactory, shop_with_program, staff
from tests.rewards.conftest import member_with_points

pytestmark = pytest.mark.django_db

MEMBERS = """query($slug: String!, $filter: MemberFilterInput, $order: String!, $first: Int) {
  shop(slug: $slug) { members(filter: $filter, orderBy: $order, first: $first) {
    totalCount edges { node { pointsAvailable tier { name } } } pageInfo { hasNextPage } } } }"""


@pytest.fixture
def shop_and_members():
    shop = shop_with_program()
    shop.program.pending_days = 0
    shop.program.save()
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    for index, amount in enumerate(("50.00", "150.00", "300.00", "600.00")):
        customer = CustomerFactory(
            display_name=f"Member {index}", email=f"m{index}@example.com", phone=f"+98 912 000 00{index}"
        )
        member_with_points(shop, amounts=(amount,), start=start + dt.timedelta(days=index), customer=customer)
    return shop


def _names(body):
    return [edge["node"]["pointsAvailable"] for edge in body["data"]["shop"]["members"]["edges"]]


def test_filters_and_ordering(shop_and_members):
    shop = shop_and_members
    client = login(staff(shop, StaffRole.MANAGER))
    bronze = Tier.objects.get(program=shop.program, name="Bronze")
    run = lambda flt, order="-joined": gql(client, MEMBERS, {"slug": shop.slug, "filter": flt, "order": order})  # noqa: E731
    assert _names(run(None)) == [600, 300, 150, 50]
    assert _names(run(None, "available")) == [50, 150, 300, 600]
    assert _names(run({"balanceMin": 100, "balanceMax": 400})) == [300, 150]
    assert _names(run({"search": "M1@EXAMPLE"})) == [150]
    assert _names(run({"search": "912 000 003"})) == [600]
    assert _names(run({"tierId": str(relay.GlobalID("Tier", str(bronze.pk)))})) == [50]
    assert _names(run({"joinedAfter": "2026-01-02T00:00:00+00:00", "joinedBefore": "2026-01-04T00:00:00+00:00"})) == [
        300,
        150,
    ]
    assert _names(run({"lastActivityBefore": "2026-01-02T00:00:00+00:00"})) == [50]
    paged = gql(client, MEMBERS, {"slug": shop.slug, "order": "-lifetime", "first": 2})
    assert _names(paged) == [600, 300]
    assert paged["data"]["shop"]["members"]["pageInfo"]["hasNextPage"] is True
    assert paged["data"]["shop"]["members"]["totalCount"] == 4


@pytest.mark.parametrize(
    ("flt", "order", "field"),
    [({"search": "x" * 101}, "-joined", "search"), (None, "size", "orderBy")],
)
def test_invalid_filters_are_coded(shop_and_members, flt, order, field):
    shop = shop_and_members
    body = gql(login(staff(shop)), MEMBERS, {"slug": shop.slug, "filter": flt, "order": order})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == field  # the one key, as payload errors have
    assert field in error["extensions"]["fields"]


@pytest.mark.parametrize("caller", ["anonymous", "member", "plain user", "staff of another shop"])
def test_members_are_for_the_shops_staff_only(shop_and_members, caller):
    shop = shop_and_members
    user = {
        "anonymous": None,
        "member": MemberAccount.objects.filter(program__shop=shop).first().customer.user,
        "plain user": UserFactory(),
        "staff of another shop": staff(shop_with_program(), StaffRole.OWNER),
    }[caller]
    body = gql(login(user), MEMBERS, {"slug": shop.slug, "order": "-joined"})
    expected = "NOT_AUTHENTICATED" if user is None else "PERMISSION_DENIED"
    assert body["errors"][0]["extensions"]["code"] == expected


def test_members_page_has_a_fixed_query_count(shop_and_members, django_assert_num_queries):
    shop = shop_and_members
    client = login(staff(shop, StaffRole.MANAGER))
    # session, user, shop, staff role, members with total count (+ tier joined)
    with django_assert_num_queries(5):
        body = gql(client, MEMBERS, {"slug": shop.slug, "order": "-joined", "first": 50})
    assert len(body["data"]["shop"]["members"]["edges"]) == 4


PAGE = """query($slug: String!, $order: String!, $after: String) {
  shop(slug: $slug) { members(orderBy: $order, first: 2, after: $after) {
    edges { node { pointsAvailable } } pageInfo { hasNextPage endCursor } } } }"""


@pytest.mark.parametrize(
    ("order", "expected"),
    [("-lifetime", [600, 300, 150, 50]), ("last_activity", [50, 150, 300, 600]), ("-joined", [600, 300, 150, 50])],
)
def test_cursor_pages_follow_on_in_order_without_gaps_or_repeats(shop_and_members, order, expected):
    shop = shop_and_members
    client = login(staff(shop))
    seen, after = [], None
    for _ in range(3):
        page = gql(client, PAGE, {"slug": shop.slug, "order": order, "after": after})["data"]["shop"]["members"]
        seen += [edge["node"]["pointsAvailable"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


def test_last_activity_after_filter(shop_and_members):
    shop = shop_and_members
    body = gql(
        login(staff(shop)),
        MEMBERS,
        {"slug": shop.slug, "filter": {"lastActivityAfter": "2026-01-03T00:00:00+00:00"}, "order": "-joined"},
    )
    assert _names(body) == [600, 300]
