"""Logging out closes that session's WebSockets (issue 13, case 9), and only that session's.

Through the real ASGI app and channel layer (channels-redis under CI), as in test_subscriptions.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from config.consumers import CLOSE_SESSION_ENDED
from tests.factories import PASSWORD, CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

ACCOUNT_UPDATED = "subscription { accountUpdated { kind points } }"


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """Close the DB connection of asgiref's sync thread so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def _logged_in_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _cookie(client: Client) -> bytes:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _logout(client: Client) -> dict:
    response = client.post(
        "/graphql/", data=json.dumps({"query": "mutation { logout { ok } }"}), content_type="application/json"
    )
    return response.json()


async def _subscribed(cookie: bytes) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(
        application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ACCOUNT_UPDATED}})
    assert await communicator.receive_nothing(timeout=0.3)  # subscribed, nothing sent yet
    return communicator


async def test_logging_out_closes_the_sessions_sockets_and_no_other():
    # given a member with two sessions, each with a live subscription
    customer = await sync_to_async(CustomerFactory)()
    first = await sync_to_async(_logged_in_client)(customer.user)
    second = await sync_to_async(_logged_in_client)(customer.user)
    first_socket = await _subscribed(_cookie(first))
    second_socket = await _subscribed(_cookie(second))

    # when the first session logs out
    body = await sync_to_async(_logout)(first)
    assert body["data"]["logout"]["ok"] is True

    # then the first session's socket is closed with 4401
    closed = await first_socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
    # and the other session's socket stays open
    assert await second_socket.receive_nothing(timeout=0.5)
    await second_socket.disconnect()
    await first_socket.wait(timeout=5)
