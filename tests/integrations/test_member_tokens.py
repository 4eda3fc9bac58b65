"""Storefront member tokens: accepted over HTTP and in the WebSocket's connection_init; bad ones refused.

Tokens are minted exactly as docs/integrations.md tells a marketplace's server to (PyJWT, HS256).
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from config.asgi import application
from loyalty.models import MemberAccount
from loyalty.services.orders import order_event_process
from marketplace.models import Customer
from marketplace.services.member_tokens import member_token_issuer_create
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

VIEWER = "{ viewer { displayName accounts { edges { node { pointsPending shop { slug } } } } } }"


def _mint(issuer, sub: str, *, exp_in: int = 600, aud: str = "patron", secret: str | None = None, **extra) -> str:
    claims = {"sub": sub, "aud": aud, "exp": int(time.time()) + exp_in, **extra}
    return jwt.encode(claims, secret or issuer.secret, algorithm="HS256", headers={"kid": issuer.key_id})


def _post(token: str, query: str = VIEWER):
    return Client(enforce_csrf_checks=True).post(
        "/graphql/",
        data=json.dumps({"query": query}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.django_db
def test_a_token_for_a_new_customer_creates_and_links_them():
    issuer = member_token_issuer_create(name="storefront")

    first = _post(_mint(issuer, "mkt-user-77", name="Sara", email="sara@example.test"))
    again = _post(_mint(issuer, "mkt-user-77", name="Someone else"))

    assert first.status_code == 200
    assert first.json()["data"]["viewer"] == {"displayName": "Sara", "accounts": {"edges": []}}
    assert again.json()["data"]["viewer"]["displayName"] == "Sara"
    customer = Customer.objects.get(external_id="mkt-user-77")
    assert customer.email == "sara@example.test"
    assert customer.user is not None
    assert not customer.user.has_usable_password()


@pytest.mark.django_db
def test_a_token_links_an_existing_customer_and_shows_their_points():
    shop = shop_with_program()
    customer = CustomerFactory(user=None, external_id="shopper-5")
    order_event_record(
        data=order_input(shop, "T-1", customer=customer, amount="30.00"),
        idempotency_key="t-1",
        actor=None,
        notify=False,
    )
    from marketplace.models import OrderEvent

    order_event_process(event_id=OrderEvent.objects.get(order__external_id="T-1").pk)
    issuer = member_token_issuer_create(name="storefront")

    body = _post(_mint(issuer, "shopper-5")).json()

    assert body["data"]["viewer"]["accounts"]["edges"] == [{"node": {"pointsPending": 30, "shop": {"slug": shop.slug}}}]
    assert Customer.objects.filter(external_id="shopper-5").count() == 1
    assert MemberAccount.objects.get(customer=customer).points_pending == 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mint", "code"),
    [
        (lambda issuer: _mint(issuer, "u1", exp_in=-120), "TOKEN_EXPIRED"),
        (lambda issuer: _mint(issuer, "u1", aud="someone-else"), "TOKEN_WRONG_AUDIENCE"),
        (lambda issuer: _mint(issuer, "u1", secret="not-the-secret-" * 3), "TOKEN_INVALID"),
        (lambda issuer: _mint(issuer, "u1", exp_in=86_400), "TOKEN_LIFETIME_TOO_LONG"),
        (
            lambda issuer: jwt.encode({"sub": "u1", "aud": "patron"}, issuer.secret, headers={"kid": issuer.key_id}),
            "TOKEN_INVALID",
        ),
        (
            lambda issuer: jwt.encode({"sub": "u1", "aud": "patron", "exp": time.time() + 60}, issuer.secret),
            "TOKEN_INVALID",
        ),
        (lambda issuer: "not.a.jwt", "TOKEN_INVALID"),
    ],
    ids=["expired", "wrong-audience", "wrong-secret", "too-long", "no-exp", "no-kid", "garbage"],
)
def test_bad_tokens_are_refused_with_401_and_a_code_and_create_nobody(mint, code):
    issuer = member_token_issuer_create(name="storefront")
    response = _post(mint(issuer))
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert not Customer.objects.filter(external_id="u1").exists()


@pytest.mark.django_db
def test_a_revoked_issuers_tokens_are_refused():
    issuer = member_token_issuer_create(name="storefront")
    token = _mint(issuer, "u2")
    issuer.revoked_at = issuer.created_at
    issuer.save()
    response = _post(token)
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_ISSUER_UNKNOWN"


@pytest.fixture
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


async def _socket() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        "/graphql/",
        headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")],
        subprotocols=["graphql-transport-ws"],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_the_websocket_accepts_a_token_in_connection_init_and_runs_as_the_member():
    issuer = await sync_to_async(member_token_issuer_create)(name="storefront")
    communicator = await _socket()
    await communicator.send_json_to(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {_mint(issuer, 'ws-user', name='Ws')}"}}
    )
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to(
        {"id": "1", "type": "subscribe", "payload": {"query": "subscription { accountUpdated { kind } }"}}
    )
    # A member's subscription starts (an anonymous one is refused at once with NOT_AUTHENTICATED).
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
    assert await sync_to_async(Customer.objects.filter(external_id="ws-user").exists)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_the_websocket_closes_4403_on_a_bad_token():
    issuer = await sync_to_async(member_token_issuer_create)(name="storefront")
    communicator = await _socket()
    await communicator.send_json_to(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {_mint(issuer, 'ws-2', exp_in=-300)}"}}
    )
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}
    assert not await sync_to_async(Customer.objects.filter(external_id="ws-2").exists)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_an_anonymous_socket_subscription_is_refused_for_contrast():
    communicator = await _socket()
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to(
        {"id": "1", "type": "subscribe", "payload": {"query": "subscription { accountUpdated { kind } }"}}
    )
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.django_db
def test_a_listed_storefront_origin_may_call_graphql_with_a_token(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]
    client = Client()
    preflight = client.options(
        "/graphql/",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    foreign = client.options(
        "/graphql/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )

    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight
    assert "Access-Control-Allow-Origin" not in foreign


async def _socket_with(headers: list[tuple[bytes, bytes]]) -> tuple[bool, WebsocketCommunicator]:
    communicator = WebsocketCommunicator(
        application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"]
    )
    connected, _ = await communicator.connect(timeout=5)
    return connected, communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_a_server_socket_without_origin_is_accepted_and_a_foreign_page_is_not():
    issuer = await sync_to_async(member_token_issuer_create)(name="storefront")
    connected, server = await _socket_with([(b"host", b"localhost")])
    assert connected
    await server.send_json_to(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {_mint(issuer, 'srv-1')}"}}
    )
    assert (await server.receive_json_from(timeout=5))["type"] == "connection_ack"
    await server.disconnect()

    refused, _ = await _socket_with([(b"host", b"localhost"), (b"origin", b"https://evil.example")])
    assert not refused


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_the_socket_closes_when_its_token_expires():
    """Checked once at connection, a token must still not outlive its exp (+30 s of clock skew) on an open socket."""
    issuer = await sync_to_async(member_token_issuer_create)(name="storefront")
    communicator = await _socket()
    await communicator.send_json_to(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {_mint(issuer, 'ws-exp', exp_in=-28)}"}}
    )
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"

    closed = await communicator.receive_output(timeout=10)

    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4401


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_revoking_a_key_closes_its_open_socket():
    from marketplace.models import StaffRole
    from marketplace.services.api_keys import api_key_create, api_key_revoke
    from tests.factories import staff

    shop = await sync_to_async(shop_with_program)()
    owner = await sync_to_async(staff)(shop, StaffRole.OWNER)
    issued = await sync_to_async(api_key_create)(user=owner, shop_id=shop.pk, name="Live", scopes=["activity:read"])
    communicator = await _socket()
    await communicator.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {issued.key}"}})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"

    await sync_to_async(api_key_revoke)(user=owner, key_id=issued.api_key.pk)

    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4401
