"""Who is calling: the same answer over HTTP (Django request) and WebSocket (channels scope).

The caller's staff roles are read once per operation (one query) and kept on the operation's
context, so that every staff-only field of a request, and every row of a list that shows
staff-only details, asks the capability table without another query.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from strawberry.types import Info

from api_core.errors import not_authenticated, permission_denied
from marketplace.models import ApiKey, StaffMembership, StaffRole
from marketplace.permissions import Capability, api_key_of, key_can, role_can
from marketplace.selectors import customer_for_user

_CALLER_KEY = "_patron_caller"


def request_of(info: Info) -> Any:
    """The Django ``HttpRequest`` (HTTP) or the channels consumer (WebSocket) of the operation."""
    context = info.context
    if isinstance(context, dict):
        return context.get("request")
    return getattr(context, "request", None)


def current_user(info: Info) -> AbstractBaseUser | AnonymousUser:
    """The authenticated user of the operation, or ``AnonymousUser``.

    Over WebSocket the user comes from the connection's scope, set at connection time by the
    session middleware or by the ``connection_init`` token (see ``config.asgi``).
    """
    request = request_of(info)
    if isinstance(request, HttpRequest):  # also under ASGI, where the request has a ``scope`` too
        return getattr(request, "user", None) or AnonymousUser()
    scope = getattr(request, "scope", None)
    if scope is not None:
        return scope.get("user") or AnonymousUser()
    return AnonymousUser()


@dataclass(frozen=True)
class ViewerIdentity:
    """Who the ``viewer`` is: the root object every app's part of ``Viewer`` resolves against.

    ``customer_id`` is ``None`` for a staff-only login (no member accounts).
    """

    user_id: int
    customer_id: int | None
    display_name: str
    email: str


class Caller:
    """The operation's user and their staff role in each shop they work for (``shop id -> role``)."""

    def __init__(
        self, *, user: AbstractBaseUser | AnonymousUser, roles: dict[int, StaffRole], api_key: ApiKey | None = None
    ) -> None:
        """``roles`` maps shop ids to the user's staff role there (empty for anonymous or members).

        ``api_key`` is the key the request authenticated with (its service user is ``user``); it
        then decides instead of roles: its scopes, in its shop only.
        """
        self.user = user
        self.roles = roles
        self.api_key = api_key

    @cached_property
    def customer_id(self) -> int | None:
        """The caller's customer record id, or ``None`` (anonymous, staff-only); one query, first use only."""
        customer = customer_for_user(user=self.user)
        return customer.pk if customer is not None else None

    @property
    def is_authenticated(self) -> bool:
        """Whether a user is logged in (session or token)."""
        return bool(self.user.is_authenticated)

    def can(self, capability: Capability, shop_id: int | None) -> bool:
        """Whether the caller holds ``capability`` in shop ``shop_id`` (capability table or key scopes; no query)."""
        if self.api_key is not None:
            return key_can(self.api_key, capability, shop_id)
        return shop_id is not None and role_can(self.roles.get(shop_id), capability)

    def shop_ids_with(self, capability: Capability) -> frozenset[int]:
        """The shops in which the caller holds ``capability``."""
        if self.api_key is not None:
            key = self.api_key
            return frozenset({key.shop_id}) if key_can(key, capability, key.shop_id) else frozenset()
        return frozenset(shop_id for shop_id, role in self.roles.items() if role_can(role, capability))


def caller_of(info: Info) -> Caller:
    """The operation's :class:`Caller`, read once per operation (one query for a logged-in user)."""
    context = info.context
    store = context if isinstance(context, dict) else vars(context)
    caller = store.get(_CALLER_KEY)
    if caller is None:
        user = current_user(info)
        roles: dict[int, StaffRole] = {}
        api_key = api_key_of(user)
        if user.is_authenticated and api_key is None:
            roles = {
                shop_id: StaffRole(role)
                for shop_id, role in StaffMembership.objects.filter(user_id=user.pk).values_list("shop_id", "role")
            }
        caller = store[_CALLER_KEY] = Caller(user=user, roles=roles, api_key=api_key)
    return caller


def require_capability(info: Info, *, shop_id: int | None, capability: Capability, message: str) -> Caller:
    """The caller, if they hold ``capability`` in shop ``shop_id`` (the capability table).

    Raises the GraphQL error ``NOT_AUTHENTICATED`` for an anonymous caller and
    ``PERMISSION_DENIED`` (with ``message``) for anyone else: queries and subscriptions fail
    loudly, never with a silent null.
    """
    caller = caller_of(info)
    if not caller.is_authenticated:
        raise not_authenticated()
    if not caller.can(capability, shop_id):
        raise permission_denied(message)
    return caller
