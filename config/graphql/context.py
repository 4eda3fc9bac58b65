"""Who is calling: the same answer over HTTP (Django request) and WebSocket (channels scope)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from strawberry.types import Info


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
