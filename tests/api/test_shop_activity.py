"""shop.activity: the shop's ledger history behind the live feed, for its staff, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from loyalty.models import PointsEntry
from marketplace.models import StaffRole
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, UserFactory, staff
from tests.rewards.conftest import member_with_points, points_shop

pytestmark = pytest.mark.django_db

ACTIVITY = """query($slug: String!, $after: String) { shop(slug: $slug) { activity(first: 3, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { kind points reason account { member { displayName } } } } } } }"""


def _shop_with_members(count: int):
    shop = points_shop()
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    for index in range(count):
        customer = CustomerFactory(display_name=f"Member {index}")
        member_with_points(
            shop, amounts=(f"{10 * (index + 1)}.00",), start=start + dt.timedelta(days=index), customer=customer
        )
    return shop


def test_staff_page_through_the_shops_entries_newest_first():
    shop = _shop_with_members(2)
    other = _shop_with_members(1)  # another shop's entries never show
    client = login(staff(shop, StaffRole.MANAGER))  # activity:read (a cashier's is refused)
    first = gql(client, ACTIVITY, {"slug": shop.slug})["data"]["shop"]["activity"]
    rows = [edge["node"] for edge in first["edges"]]
    total = first["totalCount"]
    assert total == PointsEntry.objects.filter(account__program__shop=shop).count()
    assert rows[0]["account"]["member"]["displayName"] == "Member 1"  # the newest member's entry comes first
    seen = list(rows)
    after = first["pageInfo"]["endCursor"]
    while after:
        page = gql(client, ACTIVITY, {"slug": shop.slug, "after": after})["data"]["shop"]["activity"]
        seen += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert len(seen) == total
    names = {row["account"]["member"]["displayName"] for row in seen}
    assert names == {"Member 0", "Member 1"}
    assert other.slug != shop.slug


@pytest.mark.parametrize("members", [1, 6])
def test_a_page_costs_the_same_queries_whatever_the_members(members, django_assert_num_queries):
    shop = _shop_with_members(members)
    client = login(staff(shop))
    client.get("/graphql/")  # session and CSRF cookie outside the count
    with django_assert_num_queries(5):
        body = gql(client, ACTIVITY, {"slug": shop.slug})
    total = PointsEntry.objects.filter(account__program__shop=shop).count()
    assert len(body["data"]["shop"]["activity"]["edges"]) == min(3, total)


def test_only_the_shops_staff_see_its_activity():
    shop = _shop_with_members(1)
    member = CustomerFactory()
    for outsider in (member.user, staff(points_shop()), UserFactory(), None):
        body = gql(login(outsider), ACTIVITY, {"slug": shop.slug})
        expected = "NOT_AUTHENTICATED" if outsider is None else "PERMISSION_DENIED"
        assert body["errors"][0]["extensions"]["code"] == expected
