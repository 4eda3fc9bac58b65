"""Who is calling: the same answer over HTTP (Django request) and WebSocket (channels scope)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from strawberry.types import Info

from config.graphql.errors import not_authenticated, permission_denied
from marketplace.models import StaffRole
from marketplace.selectors import staff_role, staff_shop_ids


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


def staff_shop_ids_of_caller(info: Info) -> frozenset[int]:
    """Ids of the shops the caller works for, read once per operation and kept on its context
    (one query the first time, none after): for fields that show staff-only details row by row."""
    context = info.context
    store = context if isinstance(context, dict) else vars(context)
    if "_patron_staff_shop_ids" not in store:
        store["_patron_staff_shop_ids"] = frozenset(staff_shop_ids(user=current_user(info)))
    return store["_patron_staff_shop_ids"]


def require_shop_role(
    info: Info, *, shop_id: int, message: str, roles: tuple[StaffRole, ...] | None = None
) -> StaffRole:
    """The caller's staff role in the shop, if it is one of ``roles`` (any role when ``None``).

    Raises ``NOT_AUTHENTICATED`` for an anonymous caller and ``PERMISSION_DENIED`` (with
    ``message``) for anyone else: the check every staff-only query field starts with.
    """
    user = current_user(info)
    if not user.is_authenticated:
        raise not_authenticated()
    role = staff_role(user=user, shop_id=shop_id)
    if role is None or (roles is not None and role not in roles):
        raise permission_denied(message)
    return role
