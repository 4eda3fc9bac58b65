"""Posting GraphQL documents through Django's test client (the real HTTP view and middleware)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def gql(client: Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST ``query`` to /graphql/ and return the decoded JSON body (``data`` and ``errors``)."""
    response = client.post(
        "/graphql/", data=json.dumps({"query": query, "variables": variables or {}}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def login(user) -> Client:
    """A test client logged in as ``user`` (with the factories' ``PASSWORD``); anonymous for ``None``."""
    from tests.factories import PASSWORD

    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


def gid(type_name: str, pk: int) -> str:
    """The relay global id of ``type_name`` row ``pk``."""
    from strawberry import relay

    return str(relay.GlobalID(type_name, str(pk)))
