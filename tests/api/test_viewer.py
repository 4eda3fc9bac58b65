"""The member dashboard query: every account on one page, in a constant number of SQL queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from loyalty.models import MemberAccount
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql
from tests.factories import PASSWORD, CustomerFactory, order_input, shop_with_program

pytestmark = pytest.mark.django_db

DASHBOARD = """
query Dashboard {
  viewer {
    displayName
    accounts(first: 50) {
      totalCount
      edges { node {
        id pointsAvailable pointsPending lifetimePoints
        shop { name slug currency }
        program { name pointsPerCurrencyUnit }
        tier { name color multiplier }
        tierProgress {
          currentTier { name } nextTier { name } qualifyingValue nextThreshold remaining fraction windowEndsAt
        }
        entries(first: 5) { edges { node { kind points reason createdAt source { type orderExternalId } } } }
        pendingReleases { date points }
        expiringPoints(limit: 3) { date points }
      } }
    }
  }
}
"""


def _member_with_accounts(count: int):
    """A customer with one delivered order (two entries after release) in each of ``count`` shops."""
    customer = CustomerFactory()
    for index in range(count):
        shop = shop_with_program()
        for n, amount in enumerate(("80.00", "60.00")):
            at = dt.datetime(2026, 1, 1 + n, 12, tzinfo=dt.UTC)
            result = order_event_record(
                data=order_input(shop, f"o{index}-{n}", customer=customer, amount=amount, at=at),
                idempotency_key=f"k{index}-{n}",
                actor=None,
            )
            order_event_process(event_id=result.event.pk, broadcast=False)
    return customer


def _client_for(customer) -> Client:
    client = Client()
    assert client.login(username=customer.user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("accounts", [1, 5, 20])
def test_dashboard_query_count_is_constant(accounts, django_assert_num_queries):
    # given a member with N shop accounts, each with history
    customer = _member_with_accounts(accounts)
    client = _client_for(customer)
    # when the dashboard loads; then always the same 7 queries: session, user, customer,
    # accounts with their total count (+ shop, program, tier joined), the programs' tiers,
    # the newest entries of every account in one windowed query (+ orders joined), and the open
    # lots of every account in one query (pendingReleases and expiringPoints share it)
    with django_assert_num_queries(7):
        body = gql(client, DASHBOARD)
    assert "errors" not in body, body
    edges = body["data"]["viewer"]["accounts"]["edges"]
    assert len(edges) == accounts
    assert body["data"]["viewer"]["accounts"]["totalCount"] == accounts


def test_dashboard_shows_balances_tier_progress_and_history():
    customer = _member_with_accounts(1)
    body = gql(_client_for(customer), DASHBOARD)
    node = body["data"]["viewer"]["accounts"]["edges"][0]["node"]
    # 80 earned in Bronze (x1) -> Bronze still (80 < 100); 60 more earned at x1 -> 140 spend = Silver
    assert node["pointsPending"] == 140
    # when those pending points become available (14-day return window; New York dates); no expiry
    assert node["pendingReleases"] == [{"date": "2026-01-15", "points": 80}, {"date": "2026-01-16", "points": 60}]
    assert node["expiringPoints"] == []
    assert node["lifetimePoints"] == 140
    assert node["tier"]["name"] == "Silver"
    progress = node["tierProgress"]
    assert progress["nextTier"]["name"] == "Gold"
    assert progress["remaining"] == "110.00"
    assert progress["fraction"] == pytest.approx(40 / 150, abs=1e-4)
    entries = [edge["node"] for edge in node["entries"]["edges"]]
    assert [(e["kind"], e["points"]) for e in entries] == [("EARN", 60), ("EARN", 80)]
    assert entries[0]["source"] == {"type": "ORDER", "orderExternalId": "o0-1"}
    assert entries[0]["reason"] == "Order o0-1 delivered"


def test_viewer_refuses_anonymous_with_a_code():
    body = gql(Client(), "{ viewer { displayName } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


ACCOUNT = """query($id: ID!) { viewer { account(id: $id) { pointsPending shop { slug } } } }"""


def test_a_member_reads_one_own_account_by_id_and_never_anothers():
    shop = shop_with_program(slug="beans")
    mine, theirs = CustomerFactory(), CustomerFactory()
    for customer, order_id in ((mine, "M1"), (theirs, "T1")):
        event = order_event_record(
            data=order_input(shop, order_id, customer=customer, amount="42.00"), idempotency_key=order_id, actor=None
        ).event
        order_event_process(event_id=event.pk, broadcast=False)
    client = Client()
    client.login(username=mine.user.username, password=PASSWORD)
    own_id = gql(client, "{ viewer { accounts { edges { node { id } } } } }")["data"]["viewer"]["accounts"]["edges"][0]
    own = gql(client, ACCOUNT, {"id": own_id["node"]["id"]})["data"]["viewer"]["account"]
    assert own == {"pointsPending": 42, "shop": {"slug": "beans"}}
    other = MemberAccount.objects.get(customer=theirs)
    for foreign in (gid("MemberAccount", other.pk), gid("Shop", shop.pk), "garbage"):
        assert gql(client, ACCOUNT, {"id": foreign}) == {"data": {"viewer": {"account": None}}}
