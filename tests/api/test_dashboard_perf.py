"""The README's member dashboard stays at a constant SQL count while its resolution gets cheaper.

Issue 15 (goal 3) makes the dashboard cheaper in Python; these tests pin what must not move while
it does: the exact statements of the README's query whatever the number of accounts, no SQL for
``{ __typename }``, and the behaviour of each shortcut (the validation cache's stable rules, the
optimizer without per-field middleware, columns read straight from the row, the input guard's
memory of clean documents). Times are measured by bench/dashboard_bench.py, never here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from strawberry.extensions import SchemaExtension

from api_core.extensions import DocumentLimits, FieldOptimizer
from api_core.fields import ColumnField
from config.schema import schema
from loyalty.models import PointsEntry
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = pytest.mark.django_db

#: The README's "Dashboard" query, as written there (and in bench/dashboard_bench.py).
README_DASHBOARD = """
query Dashboard {
  viewer {
    displayName
    accounts(first: 20) { edges { node {
      shop { name currency } pointsAvailable pointsPending lifetimePoints
      tier { name color }
      tierProgress { nextTier { name } remaining fraction }
      entries(first: 5) { edges { node { kind points reason createdAt } } }
    } } }
  }
}
"""


def _member_with_accounts(count: int, orders: int = 2):
    """A customer with ``orders`` delivered orders (pending earn entries) in each of ``count`` shops."""
    customer = CustomerFactory()
    for index in range(count):
        shop = shop_with_program()
        for number in range(orders):
            result = order_event_record(
                data=order_input(
                    shop,
                    f"d{index}-{number}",
                    customer=customer,
                    amount="60.00",
                    at=dt.datetime(2026, 1, 1 + number, 12, tzinfo=dt.UTC),
                ),
                idempotency_key=f"d{index}-{number}",
                actor=None,
            )
            order_event_process(event_id=result.event.pk, broadcast=False)
    return customer


@pytest.mark.parametrize("accounts", [1, 5, 20])
def test_the_readme_dashboard_takes_six_statements_whatever_the_number_of_accounts(accounts, django_assert_num_queries):
    # given a member with N shop accounts, each with history
    customer = _member_with_accounts(accounts)
    client = login(customer.user)
    # when the README's dashboard loads; then always the same 6 statements: session, user,
    # customer, accounts (+ program, shop, tier joined), the programs' tiers (tierProgress), and
    # the newest entries of every account in one windowed query
    with django_assert_num_queries(6):
        body = gql(client, README_DASHBOARD)
    assert "errors" not in body, body
    edges = body["data"]["viewer"]["accounts"]["edges"]
    assert len(edges) == accounts
    node = edges[0]["node"]
    assert node["pointsPending"] == 120
    assert node["lifetimePoints"] == 120
    assert node["tier"]["name"] == "Silver"
    assert node["tierProgress"] == {"nextTier": {"name": "Gold"}, "remaining": "130.00", "fraction": 0.1333}
    assert [edge["node"]["points"] for edge in node["entries"]["edges"]] == [60, 60]
    assert node["entries"]["edges"][0]["node"]["kind"] == "EARN"
    assert node["entries"]["edges"][0]["node"]["createdAt"] == "2026-01-02T12:00:00+00:00"


def test_the_dashboard_answers_the_same_the_second_time(django_assert_num_queries):
    # given a member and a first load (the parser, validation, cost and input caches now hold it)
    customer = _member_with_accounts(2)
    client = login(customer.user)
    first = gql(client, README_DASHBOARD)
    # when it loads again; then the same statements run and the same answer comes back
    with django_assert_num_queries(6):
        second = gql(client, README_DASHBOARD)
    assert second == first


@pytest.mark.parametrize("logged_in", [True, False])
def test_typename_reads_nothing(logged_in, django_assert_num_queries):
    # given a caller (the cost of { __typename } is within every caller's budget)
    client = login(CustomerFactory().user) if logged_in else Client()
    # when it asks for the root's type name; then no session, user or other statement is read
    with django_assert_num_queries(0):
        body = gql(client, "{ __typename }")
    assert body == {"data": {"__typename": "Query"}}


def test_depth_and_alias_rules_are_the_same_classes_for_every_operation():
    # given two operations' extensions (the schema builds one per operation)
    first, second = DocumentLimits(), DocumentLimits()
    # then their rules are the same classes, so the validation cache's key repeats
    assert first.validation_rules == second.validation_rules
    assert len(first.validation_rules) == 2


def test_too_deep_documents_are_still_refused_every_time():
    # given a document deeper than the limit (and one with too many aliases); when each is sent
    # twice (the second time from the parser and validation caches)
    too_deep = "{ shops(first: 1) { edges { node { program { tiers { " + "a { " * 10 + "b" + " }" * 10 + " } } } } } }"
    aliases = "{ " + " ".join(f"a{i}: shops {{ totalCount }}" for i in range(31)) + " }"
    for _ in range(2):
        # then both are refused both times
        messages = [error["message"] for error in gql(Client(), too_deep)["errors"]]
        assert any("exceeds maximum operation depth" in message for message in messages), messages
        assert "aliases" in gql(Client(), aliases)["errors"][0]["message"].lower()


def test_the_optimizer_adds_no_per_field_middleware():
    # strawberry installs middleware only for extensions that implement ``resolve``
    assert not FieldOptimizer._implements_resolve()
    assert FieldOptimizer.resolve is SchemaExtension.resolve
    assert not FieldOptimizer().enable_only


def _field(type_name: str, python_name: str):
    definition = schema.get_type_by_name(type_name)
    return next(field for field in definition.fields if field.python_name == python_name)  # type: ignore[union-attr]


def test_columns_are_basic_and_relations_are_not():
    # given the dashboard's types; then plain columns take strawberry's basic path
    for type_name, name in (("PointsEntry", "points"), ("MemberAccount", "points_pending"), ("Tier", "color")):
        field = _field(type_name, name)
        assert isinstance(field, ColumnField), (type_name, name)
        assert field.is_basic_field, (type_name, name)
    # and relations and resolvers keep strawberry-django's resolver
    assert not _field("MemberAccount", "tier").is_basic_field
    assert not _field("MemberAccount", "tier_progress").is_basic_field


def test_a_column_not_loaded_is_read_from_the_database():
    # given an entry whose balance after it was deferred
    _member_with_accounts(1, orders=1)
    entry = PointsEntry.objects.only("pk").first()
    assert entry is not None
    assert "pending_after" not in entry.__dict__
    # when the column field reads it without an Info (strawberry's basic path); then Django loads it
    assert (
        _field("PointsEntry", "pending_after").get_result(entry, None, [], {})
        == PointsEntry.objects.get(pk=entry.pk).pending_after
    )


def test_a_document_with_a_nul_literal_is_refused_every_time():
    # given a document with a NUL character in a literal; when it is sent twice
    for _ in range(2):
        body = gql(Client(), '{ shop(slug: "a\\u0000b") { name } }')
        # then both times it is refused before running (never remembered as clean)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body


def test_a_clean_document_is_still_checked_when_it_comes_with_variables():
    # given a member and a document seen clean without variables
    customer = _member_with_accounts(1, orders=1)
    client = login(customer.user)
    document = "query($n: Int = 5) { viewer { accounts(first: $n) { edges { node { pointsPending } } } } }"
    assert "errors" not in gql(client, document)
    # when the same document comes with a page size over the limit; then it is refused
    body = gql(client, document, {"n": 1000})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "first"
