"""The operation cost budget: refused with QUERY_TOO_COSTLY before validation, quickly.

Issue 13, case 10: an anonymous 20 KB query repeating ``shops { totalCount }`` 990 times took
over a second (graphql-core's overlapping-fields validation is quadratic in the fields). Each
selected field costs 1 per row it can be resolved for (docs/api.md, "Cost budget").
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client

from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, shop_with_program

pytestmark = [pytest.mark.django_db]


def _code(body: dict) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"].get("code") if errors else None


def test_the_990_field_query_is_refused_with_the_field_budget_before_touching_the_database(
    django_assert_num_queries,
):
    # given the hostile document of the issue (about 20 KB), made unique so no cache helps
    document = "{ " + " ".join(["shops { totalCount }"] * 990) + " } # " + str(time.time_ns())
    assert len(document) > 19_000
    client = Client()
    gql(client, "{ __typename }")  # warm the process (imports, URL resolver)

    # when an anonymous client posts it
    with django_assert_num_queries(0):
        body = gql(client, document)

    # then it is refused with the code and the budget (990 written fields: the field limit), before
    # any resolver ran (no query at all; how fast is for the benches, not for a test)
    assert _code(body) == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["budget"] == settings.PATRON_GRAPHQL_MAX_FIELDS
    assert body.get("data") is None


def test_fragments_are_expanded_and_pages_multiply_what_they_hold():
    # given a fragment of 24 fields spread inside a page of 100 shops (2,601 points; 261 for 10)
    fragment = "fragment F on Shop { " + " ".join(["id", "slug", "name", "currency"] * 6) + " }"
    document = "query($n: Int) { shops(first: $n) { edges { node { ...F } } } } " + fragment

    # when an anonymous client asks for 100, then for 10
    big = gql(Client(), document, {"n": 100})
    small = gql(Client(), document, {"n": 10})

    # then the big page is over the anonymous budget and the small one runs
    assert _code(big) == "QUERY_TOO_COSTLY"
    assert big["errors"][0]["extensions"]["budget"] == settings.PATRON_GRAPHQL_MAX_COST_ANONYMOUS
    assert _code(small) is None, small
    assert small["data"]["shops"]["edges"] == []


def test_a_logged_in_caller_has_the_larger_budget():
    # given the same 100-shop page and a logged-in member
    shop_with_program()
    member = CustomerFactory()
    document = "{ shops(first: 100) { edges { node { " + " ".join(["id", "slug", "name", "currency"] * 6) + " } } } }"

    # when both ask for it
    anonymous = gql(Client(), document)
    logged_in = gql(login(member.user), document)

    # then only the anonymous caller is refused
    assert _code(anonymous) == "QUERY_TOO_COSTLY"
    assert _code(logged_in) is None, logged_in
    assert len(logged_in["data"]["shops"]["edges"]) == 1


def test_ordinary_anonymous_queries_fit_the_budget():
    # given the queries the public pages and the smoke test make
    shop_with_program()
    # when an anonymous client makes them
    shops = gql(Client(), "{ shops(first: 100) { totalCount edges { node { slug id currency } } } }")
    # then they run
    assert _code(shops) is None, shops
    assert shops["data"]["shops"]["totalCount"] == 1


def test_a_logged_in_caller_may_not_write_more_than_the_field_limit_either():
    # given a logged-in member and a document of 301 repeated cheap fields (cost 301, under the
    # logged-in budget, but validation time grows with the square of repeated fields)
    member = CustomerFactory()
    document = "{ " + " ".join(["__typename"] * (settings.PATRON_GRAPHQL_MAX_FIELDS + 1)) + " }"

    # when the member posts it
    body = gql(login(member.user), document)

    # then it is refused before validation
    assert _code(body) == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["budget"] == settings.PATRON_GRAPHQL_MAX_FIELDS
