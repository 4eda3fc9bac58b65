"""The WebSocket consumer of GraphQL subscriptions: strawberry's, bound to the session it opened with.

A socket is authenticated once, when it opens (``AuthMiddlewareStack``). So that logging out
also ends the live updates, a logged-in socket joins the channel group of its session
(``marketplace.services.auth.session_group``); ``session_logout`` sends ``session.ended`` there
and every socket of that session closes with code 4401 (graphql-transport-ws' "Unauthorized").

A socket may instead authenticate with a bearer credential in its ``connection_init`` payload,
``{"Authorization": "Bearer <API key or member token>"}`` (``config.auth``): the socket then runs
as that key or member. Refused credentials close the socket with 4403 ("Forbidden"; the
graphql-transport-ws protocol has no error message for ``connection_init``); an API key's
connection counts against its rate limit. The socket closes with 4401 when the credential
expires (a member token's ``exp``, an API key's expiry) and when its key is revoked (the key's
channel group, like a session's).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from config.auth import bearer_authenticate, bearer_value, key_throttle
from marketplace.errors import CredentialError
from marketplace.services.api_keys import api_key_group
from marketplace.services.auth import SESSION_ENDED, session_group

#: Close code sent when the socket's session logged out.
CLOSE_SESSION_ENDED = 4401
#: Close code sent when the bearer credential the socket opened with expired (graphql-transport-ws'
#: "Unauthorized", like a logout: the client reconnects with a fresh credential).
CLOSE_CREDENTIAL_EXPIRED = 4401


class SessionBoundGraphQLWSConsumer(GraphQLWSConsumer):
    """``GraphQLWSConsumer`` that closes when its session logs out (see the module docstring)."""

    _session_group: str | None = None
    _expiry: asyncio.TimerHandle | None = None
    _key_group: str | None = None

    async def connect(self) -> None:
        """Join the session's group (logged-in sockets only), then start strawberry's handler."""
        session = self.scope.get("session")
        user = self.scope.get("user")
        session_key = getattr(session, "session_key", None) if session is not None else None
        if session_key and user is not None and user.is_authenticated and self.channel_layer is not None:
            self._session_group = session_group(session_key)
            await self.channel_layer.group_add(self._session_group, self.channel_name)
        await super().connect()

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """Authenticate ``connection_init``'s ``Authorization`` bearer credential, if any (see the module docstring)."""
        params = context.get("connection_params") if isinstance(context, dict) else None
        if not isinstance(params, dict):
            return UNSET
        header = params.get("Authorization", params.get("authorization"))
        credential = bearer_value(header) if isinstance(header, str) else None
        if credential is None:
            return UNSET

        def authenticate() -> Any:
            principal = bearer_authenticate(credential)
            if principal.api_key is not None and not key_throttle(principal.api_key).allowed:
                raise ConnectionRejectionError({"code": "RATE_LIMITED"})
            return principal

        try:
            principal = await sync_to_async(authenticate)()
        except CredentialError as refusal:
            raise ConnectionRejectionError({"code": refusal.code.value, "message": refusal.message}) from None
        self.scope["user"] = principal.user
        if principal.api_key is not None and self.channel_layer is not None:
            # Revoking the key closes its sockets (marketplace.services.api_keys), as a logout does.
            self._key_group = api_key_group(principal.api_key.prefix)
            await self.channel_layer.group_add(self._key_group, self.channel_name)
        if principal.expires_at is not None:
            # The credential is checked once, here: end the socket when it expires, as the next
            # HTTP request with it would be refused (the client reconnects with a fresh one).
            delay = max(0.0, (principal.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
            self._expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.close(code=CLOSE_CREDENTIAL_EXPIRED))
            )
        return UNSET

    async def dispatch(self, message: Any) -> None:
        """Close on ``session.ended``; everything else goes to strawberry's dispatch."""
        if message.get("type") == SESSION_ENDED:
            await self.close(code=CLOSE_SESSION_ENDED)
            return
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        """Leave the session's group, cancel the credential's expiry timer, then let strawberry end the operations."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self._key_group is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(self._key_group, self.channel_name)
            self._key_group = None
        if self._session_group is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(self._session_group, self.channel_name)
            self._session_group = None
        await super().disconnect(code)
