"""Login / logout, the public shop queries and the document limits."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.models import Category, StaffRole
from marketplace.services.auth import LOGIN_RATE_PER_USERNAME
from tests.api.graphql import gql
from tests.factories import PASSWORD, CustomerFactory, shop_with_program, staff

pytestmark = pytest.mark.django_db


LOGIN = """mutation($u: String!, $p: String!) {
  login(input: {username: $u, password: $p}) { username isStaffOfShops errors { field message code } }
}"""


def test_customer_logs_in_and_out():
    customer = CustomerFactory()
    client = Client()
    payload = gql(client, LOGIN, {"u": customer.user.username, "p": PASSWORD})["data"]["login"]
    assert payload == {"username": customer.user.username, "isStaffOfShops": False, "errors": []}
    assert gql(client, "{ viewer { displayName } }")["data"]["viewer"]["displayName"] == customer.display_name
    assert gql(client, "mutation { logout { ok } }")["data"]["logout"]["ok"] is True
    assert gql(client, "{ viewer { displayName } }")["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_staff_login_says_so():
    owner = staff(shop_with_program())
    payload = gql(Client(), LOGIN, {"u": owner.username, "p": PASSWORD})["data"]["login"]
    assert payload["isStaffOfShops"] is True


@pytest.mark.parametrize(("username", "password"), [("nobody", PASSWORD), ("known", "wrong password")])
def test_wrong_credentials_are_one_coded_error_and_no_session(username, password):
    CustomerFactory(user__username="known")
    client = Client()
    payload = gql(client, LOGIN, {"u": username, "p": password})["data"]["login"]
    assert payload["username"] is None
    assert payload["errors"] == [
        {"field": "password", "message": "Wrong username or password.", "code": "INVALID_CREDENTIALS"}
    ]
    assert "sessionid" not in client.cookies


def test_staff_only_login_has_a_viewer_without_accounts():
    owner = staff(shop_with_program())
    client = Client()
    client.login(username=owner.username, password=PASSWORD)
    viewer = gql(client, "{ viewer { displayName accounts(first: 5) { totalCount } } }")["data"]["viewer"]
    assert viewer == {"displayName": owner.username, "accounts": {"totalCount": 0}}


def test_shops_are_public_with_program_and_tiers():
    shop = shop_with_program(name="Beans", slug="beans")
    query = """{
      shops(first: 10) { totalCount edges { node { slug } } }
      shop(slug: "beans") {
        name currency returnWindowDays
        program { name pointsPerCurrencyUnit pendingDays tierBasis tierWindow tiers { name threshold multiplier } }
      }
      missing: shop(slug: "nope") { name }
    }"""
    data = gql(Client(), query)["data"]
    assert data["shops"]["totalCount"] == 1
    assert data["missing"] is None
    assert data["shop"]["program"]["pendingDays"] == shop.return_window_days
    assert data["shop"]["program"]["tierBasis"] == "SPEND"
    assert [(t["name"], t["threshold"], t["multiplier"]) for t in data["shop"]["program"]["tiers"]] == [
        ("Bronze", "0.00", "1.00"),
        ("Silver", "100.00", "1.10"),
        ("Gold", "250.00", "1.25"),
        ("Platinum", "500.00", "1.50"),
    ]


def test_too_deep_and_too_many_aliases_are_refused():
    # the schema has no cycles yet, so a document past the depth limit names unknown fields too;
    # the limiter still reports it (validation rules all run)
    too_deep = "{ shops(first: 1) { edges { node { program { tiers { " + "a { " * 10 + "b" + " }" * 10 + " } } } } } }"
    messages = [error["message"] for error in gql(Client(), too_deep)["errors"]]
    assert any("exceeds maximum operation depth" in message for message in messages), messages
    aliases = "{ " + " ".join(f"a{i}: shops {{ totalCount }}" for i in range(31)) + " }"
    body = gql(Client(), aliases)
    assert "aliases" in body["errors"][0]["message"].lower()
    assert body.get("data") is None


def test_password_guessing_is_rate_limited_per_username():
    customer = CustomerFactory()
    allowed = int(LOGIN_RATE_PER_USERNAME.split("/")[0])
    for _ in range(allowed):
        payload = gql(Client(), LOGIN, {"u": customer.user.username, "p": "guess"})["data"]["login"]
        assert payload["errors"][0]["code"] == "INVALID_CREDENTIALS"
    client = Client()
    payload = gql(client, LOGIN, {"u": customer.user.username.upper(), "p": PASSWORD})["data"]["login"]
    assert payload["errors"][0]["code"] == "RATE_LIMITED"
    assert "sessionid" not in client.cookies
    other = CustomerFactory()
    assert gql(Client(), LOGIN, {"u": other.user.username, "p": PASSWORD})["data"]["login"]["errors"] == []


def test_viewer_lists_the_shops_the_user_works_for_with_roles():
    beans, tea = shop_with_program(name="Beans", slug="beans"), shop_with_program(name="Tea", slug="tea")
    user = staff(tea, role=StaffRole.CASHIER)
    staff(beans, role=StaffRole.OWNER, user=user)
    staff(shop_with_program(name="Other", slug="other"))  # someone else's shop stays out
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    viewer = gql(client, "{ viewer { staffShops { role shop { slug } } } }")["data"]["viewer"]
    assert viewer["staffShops"] == [
        {"role": "OWNER", "shop": {"slug": "beans"}},
        {"role": "CASHIER", "shop": {"slug": "tea"}},
    ]


def test_a_member_works_for_no_shop():
    customer = CustomerFactory()
    client = Client()
    client.login(username=customer.user.username, password=PASSWORD)
    assert gql(client, "{ viewer { staffShops { role } } }")["data"]["viewer"]["staffShops"] == []


def test_categories_are_public_by_name_and_searchable():
    Category.objects.create(name="Coffee beans", slug="beans")
    Category.objects.create(name="Books", slug="books")
    Category.objects.create(name="Tea", slug="tea-leaves")
    query = "query($q: String) { categories(search: $q) { name slug } }"
    assert gql(Client(), query)["data"]["categories"] == [
        {"name": "Books", "slug": "books"},
        {"name": "Coffee beans", "slug": "beans"},
        {"name": "Tea", "slug": "tea-leaves"},
    ]
    assert [c["slug"] for c in gql(Client(), query, {"q": "LEAVES"})["data"]["categories"]] == ["tea-leaves"]
    assert gql(Client(), query, {"q": "x" * 500})["data"]["categories"] == []
