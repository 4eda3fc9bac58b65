"""GraphQL over HTTP through the ASGI application (what daphne serves), not only Django's test client."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from tests.factories import PASSWORD, CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def _session_cookie(user) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def test_session_user_reaches_resolvers_under_asgi():
    # given a logged-in customer (an ASGI request also carries a ``scope``, unlike WSGI's)
    customer = await sync_to_async(CustomerFactory)()
    cookie = await sync_to_async(_session_cookie)(customer.user)
    # when the viewer is asked for through the ASGI app
    communicator = HttpCommunicator(
        application,
        "GET",
        "/graphql/?query=%7Bviewer%7BdisplayName%7D%7D",
        headers=[(b"cookie", cookie.encode()), (b"host", b"localhost"), (b"accept", b"application/json")],
    )
    response = await communicator.get_response(timeout=10)
    await sync_to_async(connections.close_all)()
    # then the resolver saw the session's user
    assert response["status"] == 200
    assert json.loads(response["body"]) == {"data": {"viewer": {"displayName": customer.display_name}}}
