"""Shop API keys over HTTP with no cookie: create, use, scope and shop limits, rotate, revoke, expiry, rate limits.

Every request here goes through the real view and middleware (Django's test client with CSRF
checks enforced), carrying only ``Authorization: Bearer``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.models import ApiKey, Order, OrderEvent, StaffRole
from marketplace.services.api_keys import api_key_create, api_key_revoke, api_key_rotate
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, shop_with_program, staff

pytestmark = pytest.mark.django_db

RECORD = """
mutation($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) { order { externalId status } errors { code field } }
}
"""


def _order(shop, order_id: str) -> dict:
    return {
        "shopId": gid("Shop", shop.pk),
        "orderId": order_id,
        "status": "DELIVERED",
        "currency": shop.currency,
        "occurredAt": timezone.now().isoformat(),
        "customer": {"externalId": CustomerFactory().external_id},
        "lines": [{"quantity": 1, "unitPrice": "25.00"}],
    }


def _post(key: str | None, query: str, variables: dict | None = None, client: Client | None = None):
    """POST with the key as a bearer credential, CSRF enforced, no cookie (unless ``client`` has one)."""
    client = client or Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def shop():
    return shop_with_program()


@pytest.fixture
def owner(shop):
    return staff(shop, StaffRole.OWNER)


def test_a_key_records_an_order_without_cookie_or_csrf_and_the_audit_trail_names_it(shop, owner):
    issued = api_key_create(user=owner, shop_id=shop.pk, name="Checkout", scopes=["orders:write"])
    assert issued.key.startswith(f"ptn_{issued.api_key.prefix}_")
    assert issued.key not in json.dumps(list(ApiKey.objects.values()), default=str)  # only the hash is stored

    response = _post(issued.key, RECORD, {"input": _order(shop, "API-1"), "key": "api-1"})

    assert response.status_code == 200
    assert response.json()["data"]["orderEventRecord"] == {
        "order": {"externalId": "API-1", "status": "DELIVERED"},
        "errors": [],
    }
    event = OrderEvent.objects.get(order__external_id="API-1")
    assert event.recorded_by_id == issued.api_key.user_id
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at is not None


def test_without_a_key_the_same_request_is_refused_by_csrf(shop):
    response = _post(None, RECORD, {"input": _order(shop, "API-2"), "key": "api-2"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert not Order.objects.filter(external_id="API-2").exists()


def test_a_key_acts_only_within_its_scopes(shop, owner):
    till_key = api_key_create(user=owner, shop_id=shop.pk, name="Till", scopes=["till:use"]).key

    body = _post(till_key, RECORD, {"input": _order(shop, "API-3"), "key": "api-3"}).json()

    assert body["data"]["orderEventRecord"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert not Order.objects.filter(external_id="API-3").exists()
    staff_field = _post(
        till_key, "query($s: String!) { shop(slug: $s) { members(first: 1) { totalCount } } }", {"s": shop.slug}
    )
    assert staff_field.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


def test_a_key_cannot_touch_another_shops_data(shop, owner):
    other = shop_with_program()
    key = api_key_create(user=owner, shop_id=shop.pk, name="Checkout", scopes=["orders:write", "members:read"]).key

    body = _post(key, RECORD, {"input": _order(other, "API-4"), "key": "api-4"}).json()
    members = _post(
        key, "query($s: String!) { shop(slug: $s) { members(first: 1) { totalCount } } }", {"s": other.slug}
    ).json()

    assert body["data"]["orderEventRecord"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert members["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert not Order.objects.filter(shop=other).exists()


def test_a_key_never_holds_key_management_even_when_the_owner_made_it(shop, owner):
    key = api_key_create(user=owner, shop_id=shop.pk, name="All", scopes=["orders:write"]).key
    body = _post(
        key,
        'mutation($s: ID!) { apiKeyCreate(input: {shopId: $s, name: "x", scopes: ["orders:write"]}) '
        "{ issued { key } errors { code } } }",
        {"s": gid("Shop", shop.pk)},
    ).json()
    assert body["data"]["apiKeyCreate"] == {"issued": None, "errors": [{"code": "PERMISSION_DENIED"}]}
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(
    ("scopes", "code"), [([], "SCOPES_REQUIRED"), (["apikeys:manage"], "INVALID_SCOPE"), (["nope"], "INVALID_SCOPE")]
)
def test_refused_key_creation_is_coded_and_writes_nothing(shop, owner, scopes, code):
    body = gql(
        login(owner),
        'mutation($s: ID!, $scopes: [String!]!) { apiKeyCreate(input: {shopId: $s, name: "k", scopes: $scopes}) '
        "{ issued { key } errors { code field } } }",
        {"s": gid("Shop", shop.pk), "scopes": scopes},
    )
    assert body["data"]["apiKeyCreate"] == {"issued": None, "errors": [{"code": code, "field": "scopes"}]}
    assert ApiKey.objects.count() == 0


def test_managers_cannot_create_keys(shop):
    manager = staff(shop, StaffRole.MANAGER)
    body = gql(
        login(manager),
        'mutation($s: ID!) { apiKeyCreate(input: {shopId: $s, name: "k", scopes: ["orders:write"]}) '
        "{ errors { code } } }",
        {"s": gid("Shop", shop.pk)},
    )
    assert body["data"]["apiKeyCreate"]["errors"] == [{"code": "PERMISSION_DENIED"}]
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize(
    ("credential", "code"),
    [("ptn_nosuchkey_secret", "API_KEY_INVALID"), ("ptn_broken", "API_KEY_INVALID")],
)
def test_unknown_keys_answer_401_with_a_code(shop, credential, code):
    response = _post(credential, "{ __typename }")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_a_wrong_secret_with_a_real_prefix_is_invalid(shop, owner):
    issued = api_key_create(user=owner, shop_id=shop.pk, name="k", scopes=["orders:write"])
    forged = f"ptn_{issued.api_key.prefix}_{'A' * 43}"
    response = _post(forged, "{ __typename }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "API_KEY_INVALID"


def test_revoked_and_expired_keys_are_refused(shop, owner):
    revoked = api_key_create(user=owner, shop_id=shop.pk, name="r", scopes=["orders:write"])
    expired = api_key_create(user=owner, shop_id=shop.pk, name="e", scopes=["orders:write"])
    assert _post(revoked.key, "{ __typename }").status_code == 200
    api_key_revoke(user=owner, key_id=revoked.api_key.pk)
    ApiKey.objects.filter(pk=expired.api_key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    for key, code in ((revoked.key, "API_KEY_REVOKED"), (expired.key, "API_KEY_EXPIRED")):
        response = _post(key, RECORD, {"input": _order(shop, f"API-{code}"), "key": code})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == code
    assert not Order.objects.filter(shop=shop).exists()


def test_rotation_with_overlap_keeps_the_old_key_until_the_overlap_ends(shop, owner):
    old = api_key_create(user=owner, shop_id=shop.pk, name="Checkout", scopes=["orders:write"], rate_limit="50/minute")
    new = api_key_rotate(user=owner, key_id=old.api_key.pk, overlap=dt.timedelta(hours=1))

    assert new.api_key.scopes == ["orders:write"]
    assert new.api_key.rate_limit == "50/minute"
    assert _post(old.key, "{ __typename }").status_code == 200
    assert _post(new.key, "{ __typename }").status_code == 200
    ApiKey.objects.filter(pk=old.api_key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _post(old.key, "{ __typename }").json()["errors"][0]["extensions"]["code"] == "API_KEY_EXPIRED"
    body = gql(
        login(owner),
        "mutation($id: ID!) { apiKeyRotate(id: $id) { errors { code } } }",
        {"id": gid("ApiKey", old.api_key.pk)},
    )
    assert body["data"]["apiKeyRotate"]["errors"] == [{"code": "ALREADY_REVOKED"}]


def test_the_owner_lists_keys_without_their_secrets(shop, owner):
    issued = api_key_create(user=owner, shop_id=shop.pk, name="Checkout", scopes=["orders:write"])
    body = gql(
        login(owner),
        "query($s: String!) { shop(slug: $s) { apiKeys { name prefix scopes isActive } } }",
        {"s": shop.slug},
    )
    assert body["data"]["shop"]["apiKeys"] == [
        {"name": "Checkout", "prefix": issued.api_key.prefix, "scopes": ["orders:write"], "isActive": True}
    ]
    assert issued.key not in json.dumps(body)


def test_rate_limit_headers_count_down_and_the_limit_answers_429(shop, owner):
    key = api_key_create(user=owner, shop_id=shop.pk, name="k", scopes=["orders:write"], rate_limit="3/minute").key

    remaining = []
    for _ in range(3):
        response = _post(key, "{ __typename }")
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3"
        assert 1 <= int(response["RateLimit-Reset"]) <= 60
        remaining.append(int(response["RateLimit-Remaining"]))
    refused = _post(key, RECORD, {"input": _order(shop, "API-LIMIT"), "key": "limit"})

    assert remaining == [2, 1, 0]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    assert not Order.objects.filter(external_id="API-LIMIT").exists()


def test_the_bearer_key_wins_over_a_session_cookie(shop, owner):
    """A logged-in owner's browser sending a till key acts as the key, not as the owner."""
    key = api_key_create(user=owner, shop_id=shop.pk, name="Till", scopes=["till:use"]).key
    client = login(owner)
    body = _post(key, RECORD, {"input": _order(shop, "API-5"), "key": "api-5"}, client=client).json()
    assert body["data"]["orderEventRecord"]["errors"][0]["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("rate", ["lots", "1" * 40 + "/second", "10/minute\x00"])
def test_a_nonsense_rate_limit_is_refused_with_a_code_and_writes_nothing(shop, owner, rate):
    body = gql(
        login(owner),
        'mutation($s: ID!, $r: String!) { apiKeyCreate(input: {shopId: $s, name: "k", scopes: ["orders:write"], '
        "rateLimit: $r}) { issued { key } errors { code field } } }",
        {"s": gid("Shop", shop.pk), "r": rate},
    )
    assert body.get("data") is None or body["data"]["apiKeyCreate"]["issued"] is None
    codes = (
        [error["code"] for error in body["data"]["apiKeyCreate"]["errors"]]
        if body.get("data")
        else [error["extensions"]["code"] for error in body["errors"]]
    )
    assert codes in (["INVALID_RATE_LIMIT"], ["INVALID_INPUT"])
    assert ApiKey.objects.count() == 0
