"""Session login and logout for customers and staff (Django's auth does the work)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from marketplace.errors import AuthError, AuthErrorCode
from marketplace.throttle import ThrottleUnavailable, throttle_hit

logger = logging.getLogger(__name__)

#: The channel-layer message type that tells a session's WebSockets to close (config.asgi).
SESSION_ENDED = "session.ended"

#: Login attempts allowed per username and per client address (guessing passwords is slow).
LOGIN_RATE_PER_USERNAME = "10/minute"
LOGIN_RATE_PER_ADDRESS = "30/minute"


def session_login(*, request: HttpRequest, username: str, password: str) -> AbstractBaseUser:
    """Authenticate with Django's backends and start a session; return the user.

    Raises ``AuthError(INVALID_CREDENTIALS)`` for a wrong pair or an inactive user, with the same
    message either way so that the answer does not tell which usernames exist, and
    ``AuthError(RATE_LIMITED)`` past ``LOGIN_RATE_PER_USERNAME`` / ``LOGIN_RATE_PER_ADDRESS``
    attempts (counted whether they succeed or not), and ``AuthError(SERVICE_UNAVAILABLE)`` when
    the attempt counters (Redis) cannot be reached.
    """
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        allowed = throttle_hit(
            rate=LOGIN_RATE_PER_USERNAME, scope="login-username", key=(username or "").strip().lower()
        ) and throttle_hit(rate=LOGIN_RATE_PER_ADDRESS, scope="login-address", key=address)
    except ThrottleUnavailable:
        raise AuthError(
            AuthErrorCode.SERVICE_UNAVAILABLE, "Login is unavailable for a moment; try again shortly."
        ) from None
    if not allowed:
        raise AuthError(AuthErrorCode.RATE_LIMITED, "Too many login attempts; wait a minute.", "username")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthError(AuthErrorCode.INVALID_CREDENTIALS, "Wrong username or password.", "password")
    login(request, user)
    return user


def session_group(session_key: str) -> str:
    """The channel group of one session's WebSockets (the consumer in config.asgi joins it)."""
    return f"session.{session_key}"


def session_logout(*, request: HttpRequest) -> None:
    """End the session (a no-op for an anonymous caller) and close that session's WebSockets.

    A socket is authenticated once, when it opens; without this it would keep receiving the
    member's or the shop's updates after the logout. A channel-layer outage only logs: the
    session is ended regardless.
    """
    session_key = request.session.session_key
    logout(request)
    layer = get_channel_layer()
    if session_key and layer is not None:
        try:
            async_to_sync(layer.group_send)(session_group(session_key), {"type": SESSION_ENDED})
        except Exception:  # the logout stands; the sockets close when they next reconnect
            logger.warning("could not tell the sockets of an ended session to close", exc_info=True)
