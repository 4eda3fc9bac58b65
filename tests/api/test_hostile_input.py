"""Hostile or careless input never reaches the database or Python as an exception (issue 13, item 7).

Each case posts one document through the real HTTP view, as the shop's owner or anonymously, and
asserts the coded refusal (``INVALID_INPUT``: a payload error with ``field`` for mutations, a
top-level error with ``extensions.code`` for queries and for values refused by a scalar before
any resolver runs) and that nothing changed (every row an operation could touch is compared).

``test_fuzzed_operations_answer_coded_errors_only`` then generates queries and mutations from
``schema.graphql`` with hypothesis-graphql (a fixed, derandomized budget) and asserts that no
answer is a 5xx and that every error in a response carries ``extensions.code``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql as hg
import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from loyalty.models import EarningRule, LoyaltyProgram, MemberAccount, PointsEntry, ProgramChange, Tier
from loyalty.services.adjustments import points_adjust
from loyalty.services.tiers import account_get_or_enroll
from marketplace.errors import DomainError
from marketplace.models import Customer, Order, OrderEvent, OrderLine, StaffRole
from marketplace.services.orders import CustomerInput, OrderLineInput, order_event_record
from rewards.models import Redemption, Reward
from tests.api.graphql import gid, gql
from tests.factories import PASSWORD, CustomerFactory, order_input, shop_with_program, staff
from tests.rewards.conftest import reward

pytestmark = pytest.mark.django_db

INVALID_INPUT = "INVALID_INPUT"


@dataclass
class World:
    """The shop under test, its owner's, a member's and an anonymous client, and the ids documents use."""

    owner: Client
    anonymous: Client
    member: Client
    ids: dict[str, Any]
    program_id: int
    owner_user: Any


@pytest.fixture
def world() -> World:
    """A shop with the standard program, its owner, a member with 500 points and a reward."""
    now = timezone.now()
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    member = CustomerFactory()
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=member, program=shop.program, at=now)
    points_adjust(user=owner, account_id=account.pk, points=500, reason="Opening gift", idempotency_key="seed")
    mug = reward(shop)
    gold = Tier.objects.get(program=shop.program, name="Gold")
    owner_client = Client()
    assert owner_client.login(username=owner.username, password=PASSWORD)
    ids = {
        "shop": gid("Shop", shop.pk),
        "slug": shop.slug,
        "account": gid("MemberAccount", account.pk),
        "gold": gid("Tier", gold.pk),
        "reward": gid("Reward", mug.pk),
        "member_external_id": member.external_id,
        "now": now.isoformat(),
    }
    member_client = Client()
    assert member_client.login(username=member.user.username, password=PASSWORD)
    return World(
        owner=owner_client,
        anonymous=Client(),
        member=member_client,
        ids=ids,
        program_id=shop.program.pk,
        owner_user=owner,
    )


def _rows(queryset) -> list[dict[str, Any]]:
    return list(queryset.order_by("pk").values())


def _state(world: World) -> tuple:
    """Every row a refused operation could have touched."""
    program = LoyaltyProgram.objects.get(pk=world.program_id)
    return (
        _rows(LoyaltyProgram.objects.filter(pk=program.pk)),
        _rows(Tier.all_objects.filter(program=program)),
        _rows(EarningRule.objects.filter(program=program)),
        _rows(Reward.objects.all()),
        _rows(Redemption.objects.all()),
        _rows(Order.objects.all()),
        _rows(OrderLine.objects.all()),
        _rows(OrderEvent.objects.all()),
        _rows(PointsEntry.objects.all()),
        _rows(MemberAccount.objects.all()),
        _rows(ProgramChange.objects.all()),
        _rows(Customer.objects.all()),
    )


# ---- the cases ---------------------------------------------------------------------------------

_ORDER = (
    "mutation($input: OrderEventRecordInput!, $key: String!) { orderEventRecord(input: $input, "
    "idempotencyKey: $key) { order { status } errors { field code message } } }"
)
_ADJUST = (
    "mutation($input: PointsAdjustInput!, $key: String!) { pointsAdjust(input: $input, idempotencyKey: $key) "
    "{ errors { field code message } } }"
)
_TIER_CREATE = (
    "mutation($shop: ID!, $input: TierInput!) { tierCreate(shopId: $shop, input: $input) "
    "{ tier { name } loyaltyErrors { field code message } } }"
)
_TIER_UPDATE = (
    "mutation($id: ID!, $input: TierInput!) { tierUpdate(id: $id, input: $input) "
    "{ tier { name } loyaltyErrors { field code message } } }"
)
_REWARD_CREATE = (
    "mutation($shop: ID!, $input: RewardInputType!) { rewardCreate(shopId: $shop, input: $input) "
    "{ reward { name } errors { field code message } } }"
)
_PROGRAM_UPDATE = (
    "mutation($shop: ID!, $input: ProgramUpdateInput!) { programUpdate(shopId: $shop, input: $input) "
    "{ loyaltyErrors { field code message } } }"
)
_ANALYTICS = (
    "query($slug: String!, $from: Date!, $to: Date!) { shop(slug: $slug) "
    "{ analytics(from: $from, to: $to) { revenue } } }"
)


def _order(ids: dict[str, Any], *, line: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    base = {
        "shopId": ids["shop"],
        "orderId": "WEB-1",
        "status": "DELIVERED",
        "currency": "USD",
        "occurredAt": ids["now"],
        "customer": {"externalId": ids["member_external_id"]},
        "lines": [{"quantity": 1, "unitPrice": "25.00", **(line or {})}],
    }
    return {**base, **fields}


@dataclass(frozen=True)
class Case:
    """One hostile input: the document, its variables (from the world's ids), who sends it, and
    where the refusal must appear (``payload``: the mutation payload's error list named so;
    ``None``: a top-level error, as for every value refused before execution) with the ``code``
    and the ``field`` it must name (``None``: not checked for top-level errors)."""

    document: str
    variables: Any
    caller: str = "owner"
    root: str | None = None
    payload: str | None = None
    field: str | None = None
    code: str = INVALID_INPUT


def _order_case(field: str, key: str = "k-1", line=None, top: bool = False, **order: Any) -> Case:
    """An orderEventRecord; ``top``: refused before execution (a top-level error), else in the payload."""
    return Case(
        _ORDER,
        lambda ids: {"input": _order(ids, line=line, **order), "key": key},
        root="orderEventRecord",
        payload=None if top else "errors",
        field=field,
    )


def _order_customer_case(field: str, **customer: Any) -> Case:
    """An order of a customer first seen now (so the customer's fields are stored)."""
    return Case(
        _ORDER,
        lambda ids: {"input": _order(ids, customer={"externalId": "new-customer", **customer}), "key": "k-1"},
        root="orderEventRecord",
        payload="errors",
        field=field,
    )


def _adjust_case(field: str, *, reason: str = "Goodwill", key: str = "adj-1", code: str = INVALID_INPUT) -> Case:
    return Case(
        _ADJUST,
        lambda ids: {"input": {"accountId": ids["account"], "points": 10, "reason": reason}, "key": key},
        root="pointsAdjust",
        payload="errors",
        field=field,
        code=code,
    )


CASES: dict[str, Case] = {
    # Decimals: not finite, or beyond every column (refused by the Decimal scalar).
    "decimal NaN": _order_case("input.lines[0].unitPrice", line={"unitPrice": "NaN"}, top=True),
    "decimal sNaN": _order_case("input.lines[0].unitPrice", line={"unitPrice": "sNaN"}, top=True),
    "decimal -Infinity": _order_case("input.shippingAmount", shippingAmount="-Infinity", top=True),
    "decimal 1e20": _order_case("input.lines[0].unitPrice", line={"unitPrice": "1e20"}, top=True),
    "decimal 1e20 as a literal": Case(
        'mutation { programUpdate(shopId: "x", input: {pointsPerCurrencyUnit: "1e20"}) { loyaltyErrors { code } } }',
        lambda ids: {},
    ),
    "decimal NaN in a tier": Case(
        _TIER_CREATE,
        lambda ids: {"shop": ids["shop"], "input": {"name": "Diamond", "threshold": "NaN"}},
        field="input.threshold",
    ),
    "decimal 1e20 in the program": Case(
        _PROGRAM_UPDATE,
        lambda ids: {"shop": ids["shop"], "input": {"pointsPerCurrencyUnit": "1e20"}},
        field="input.pointsPerCurrencyUnit",
    ),
    # NUL in any string argument, anonymously too.
    "NUL in a public query": Case(
        "query($q: String!) { categories(search: $q) { slug } }", lambda ids: {"q": "a\x00b"}, "anonymous", field="q"
    ),
    "NUL in a login": Case(
        'mutation($u: String!) { login(input: {username: $u, password: "x"}) { errors { code } } }',
        lambda ids: {"u": "bob\x00"},
        "anonymous",
        field="u",
    ),
    "NUL in a slug": Case('query { shop(slug: "a\\u0000") { name } }', lambda ids: {}, "anonymous"),
    "NUL in an id": Case(
        "query($id: ID!) { earningPreview(shopId: $id, input: {lines: []}) { points } }",
        lambda ids: {"id": ids["shop"] + "\x00"},
        "anonymous",
        field="id",
    ),
    "NUL in a reason": Case(
        _ADJUST,
        lambda ids: {"input": {"accountId": ids["account"], "points": 10, "reason": "Good\x00will"}, "key": "a"},
        field="input.reason",
    ),
    # Lengths the docs allow but the columns do not hold.
    # the ledger entry prefixes "Adjusted by staff: "; a reason's length has its own code
    "290-character adjustment reason": _adjust_case("reason", reason="r" * 290, code="REASON_REQUIRED"),
    "195-character adjustment key": _adjust_case("idempotencyKey", key="k" * 195),
    "195-character redemption key": Case(
        "mutation($input: RewardRedeemInput!, $key: String!) { rewardRedeem(input: $input, idempotencyKey: $key) "
        "{ errors { field code message } } }",
        lambda ids: {"input": {"rewardId": ids["reward"]}, "key": "k" * 195},
        "member",
        root="rewardRedeem",
        payload="errors",
        field="idempotencyKey",
    ),
    "long order id": _order_case("orderId", orderId="o" * 121),
    "long customer external id": _order_customer_case("customer.externalId", externalId="c" * 101),
    "long phone": _order_customer_case("customer.phone", phone="5" * 33),
    "long customer name": _order_customer_case("customer.displayName", displayName="n" * 201),
    "long product id": _order_case("lines.0.productId", line={"productId": "p" * 101}),
    "long customer e-mail": _order_customer_case("customer.email", email="e" * 250 + "@x.io"),
    # null where a value is required.
    "null nameTranslations": Case(
        _TIER_UPDATE,
        lambda ids: {"id": ids["gold"], "input": {"nameTranslations": None}},
        root="tierUpdate",
        payload="loyaltyErrors",
        field="nameTranslations",
    ),
    "null benefits": Case(
        _TIER_UPDATE,
        lambda ids: {"id": ids["gold"], "input": {"benefits": None}},
        root="tierUpdate",
        payload="loyaltyErrors",
        field="benefits",
    ),
    "null tier name on create": Case(
        _TIER_CREATE,
        lambda ids: {"shop": ids["shop"], "input": {"name": None, "threshold": "900"}},
        root="tierCreate",
        payload="loyaltyErrors",
        field="name",
    ),
    # JSON of the wrong shape.
    "nested reward translations": Case(
        _REWARD_CREATE,
        lambda ids: {
            "shop": ids["shop"],
            "input": {"name": "Tote", "kind": "GIFT", "pointsCost": 120, "translations": {"fr": {"name": {"x": 1}}}},
        },
        root="rewardCreate",
        payload="errors",
        field="translations",
    ),
    # Dates at the ends of the calendar.
    "analytics in year 9999": Case(
        _ANALYTICS, lambda ids: {"slug": ids["slug"], "from": "9999-12-01", "to": "9999-12-31"}, field="from"
    ),
    "analytics in year 0001": Case(
        _ANALYTICS, lambda ids: {"slug": ids["slug"], "from": "0001-01-01", "to": "0001-01-31"}, field="from"
    ),
    # Malformed cursors.
    "garbage cursor in a public list": Case(
        'query { shops(first: 5, after: "garbage") { totalCount } }', lambda ids: {}, "anonymous", field="after"
    ),
    "garbage cursor in a staff list": Case(
        'query($slug: String!) { shop(slug: $slug) { members(first: 5, after: "garbage") { totalCount } } }',
        lambda ids: {"slug": ids["slug"]},
        field="after",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_is_refused_with_a_code_and_changes_nothing(world, name):
    case = CASES[name]
    client = getattr(world, case.caller)
    before = _state(world)

    body = gql(client, case.document, case.variables(world.ids))

    if case.payload is None:
        errors = body.get("errors") or []
        assert errors, body
        assert all(e.get("extensions", {}).get("code") == case.code for e in errors), body
        if case.field is not None:
            assert errors[0]["extensions"].get("field") == case.field, body
    else:
        assert "errors" not in body, body
        payload = body["data"][case.root]
        assert [(e["code"], e["field"]) for e in payload[case.payload]] == [(case.code, case.field)], body
    assert _state(world) == before


# ---- the same refusals from the services (the importer and the workers call them directly) ------


def _importer_order(shop, *, customer: CustomerInput | None = None, product_id: str | None = None):
    data = order_input(shop, "IMP-1")
    line = OrderLineInput(quantity=1, unit_price=data.lines[0].unit_price, product_external_id=product_id)
    return dataclasses.replace(data, customer=customer, lines=(line,))


SERVICE_CASES = {
    "NUL in a customer id": (lambda shop: _importer_order(shop, customer=CustomerInput(external_id="c\x00")), "k"),
    "long phone": (
        lambda shop: _importer_order(shop, customer=CustomerInput(external_id="c-1", phone="5" * 33)),
        "k",
    ),
    "long product id": (lambda shop: _importer_order(shop, product_id="p" * 101), "k"),
    "NUL in a product id": (lambda shop: _importer_order(shop, product_id="p\x00"), "k"),
    "NUL in the key": (lambda shop: order_input(shop, "IMP-1"), "k\x00"),
}


@pytest.mark.parametrize("name", SERVICE_CASES)
def test_the_order_service_refuses_what_its_columns_cannot_hold(world, name):
    build, key = SERVICE_CASES[name]
    shop = LoyaltyProgram.objects.get(pk=world.program_id).shop
    before = _state(world)

    with pytest.raises(DomainError) as refused:
        order_event_record(data=build(shop), idempotency_key=key, actor=None, notify=False)

    assert refused.value.code.value == INVALID_INPUT
    assert _state(world) == before


def test_points_adjust_refuses_a_reason_the_ledger_cannot_hold(world):
    account = MemberAccount.objects.get(program_id=world.program_id)
    owner = world.owner_user
    before = _state(world)

    for reason, code in (("r" * 282, "REASON_REQUIRED"), ("Good\x00will", INVALID_INPUT)):
        with pytest.raises(DomainError) as refused:
            points_adjust(user=owner, account_id=account.pk, points=5, reason=reason, idempotency_key="svc")
        assert (refused.value.code.value, refused.value.field) == (code, "reason")
    assert _state(world) == before


# ---- schema-driven fuzzing ---------------------------------------------------------------------

SCHEMA_SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()

_AMOUNTS = st.decimals(min_value=-1000, max_value=100_000, places=2, allow_nan=False).map(str)
#: Decimal literals: mostly ordinary amounts (so that resolvers run), sometimes hostile ones.
_DECIMALS = st.one_of(
    _AMOUNTS,
    _AMOUNTS,
    _AMOUNTS,
    st.sampled_from(["NaN", "sNaN", "-Infinity", "1e20", "-1e20", "1e-30", "0E-1000", "9" * 80, "12abc", ""]),
)
_DATES = st.one_of(
    st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)).map(dt.date.isoformat),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.sampled_from(["2026-02-30", "not a date", ""]),
)
_DATETIMES = st.one_of(
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 1), timezones=st.just(dt.UTC)).map(
        dt.datetime.isoformat
    ),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)).map(
        dt.datetime.isoformat
    ),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "yesterday"]),
)
_JSON = st.sampled_from(['{fa: {name: "x"}}', "{fa: {name: {deep: 1}}}", "[1, 2]", '"text"', "null", "{}"])
CUSTOM_SCALARS = {
    "Decimal": _DECIMALS.map(nodes.String),
    "Date": _DATES.map(nodes.String),
    "DateTime": _DATETIMES.map(nodes.String),
    "JSON": _JSON.map(lambda text: graphql.parse_value(text)),
}
#: Examples per (operation kind, caller): 4 x 60 requests, deterministic (derandomized); set
#: PATRON_FUZZ_EXAMPLES to search longer locally.
FUZZ_EXAMPLES = int(os.environ.get("PATRON_FUZZ_EXAMPLES", "60"))


def _ids(world: World) -> st.SearchStrategy[Any]:
    """ID literals: mostly the world's real global ids (so that resolvers reach the services), or junk."""
    real = [value for key, value in world.ids.items() if key in ("shop", "account", "gold", "reward")]
    junk = st.sampled_from(["", "x", "U2hvcDox", "U2hvcDo5OTk5OTk5OTk5OTk5OTk5OTk5OQ==", "VGllcjotMQ==", "\u00e9"])
    return st.one_of(st.sampled_from(real), st.sampled_from(real), junk).map(nodes.String)


def _uncoded(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level errors of a response without ``extensions.code``, or answering INTERNAL_ERROR
    (an exception the error masking caught: hostile input reached Python as an exception)."""
    return [
        error
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") in (None, "", "INTERNAL_ERROR")
    ]


@pytest.mark.parametrize("caller", ["anonymous", "owner"])
@pytest.mark.parametrize("kind", ["query", "mutation"])
def test_fuzzed_operations_answer_coded_errors_only(world, kind, caller):
    """Generated operations (valid for the schema, hostile in their values) never answer a 5xx,
    every error they answer carries ``extensions.code``, and none is an INTERNAL_ERROR."""
    scalars = {**CUSTOM_SCALARS, "ID": _ids(world)}
    schema = graphql.build_schema(SCHEMA_SDL)
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    make = hg.queries if kind == "query" else hg.mutations
    # One root field per document, so that one refused value does not hide the other fields.
    strategy = st.sampled_from(sorted(root.fields)).flatmap(
        lambda field: make(schema, fields=[field], custom_scalars=scalars)
    )
    client = world.owner if caller == "owner" else world.anonymous
    client.raise_request_exception = False

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(document=strategy)
    def answer_is_coded(document: str) -> None:
        if caller == "owner":  # a generated logout or login must not turn the owner anonymous
            client.force_login(world.owner_user)
        response = client.post("/graphql/", data=json.dumps({"query": document}), content_type="application/json")
        assert response.status_code < 500, (document, response.content[:500])
        body = response.json()
        assert not _uncoded(body), (document, body)

    answer_is_coded()
