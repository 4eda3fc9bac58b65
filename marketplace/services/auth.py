"""Session login and logout for customers and staff (Django's auth does the work)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from marketplace.errors import AuthError, AuthErrorCode
from marketplace.throttle import throttle_hit

#: Login attempts allowed per username and per client address (guessing passwords is slow).
LOGIN_RATE_PER_USERNAME = "10/minute"
LOGIN_RATE_PER_ADDRESS = "30/minute"


def session_login(*, request: HttpRequest, username: str, password: str) -> AbstractBaseUser:
    """Authenticate with Django's backends and start a session; return the user.

    Raises ``AuthError(INVALID_CREDENTIALS)`` for a wrong pair or an inactive user, with the same
    message either way so that the answer does not tell which usernames exist, and
    ``AuthError(RATE_LIMITED)`` past ``LOGIN_RATE_PER_USERNAME`` / ``LOGIN_RATE_PER_ADDRESS``
    attempts (counted whether they succeed or not).
    """
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    if not (
        throttle_hit(rate=LOGIN_RATE_PER_USERNAME, scope="login-username", key=(username or "").strip().lower())
        and throttle_hit(rate=LOGIN_RATE_PER_ADDRESS, scope="login-address", key=address)
    ):
        raise AuthError(AuthErrorCode.RATE_LIMITED, "Too many login attempts; wait a minute.", "username")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthError(AuthErrorCode.INVALID_CREDENTIALS, "Wrong username or password.", "password")
    login(request, user)
    return user


def session_logout(*, request: HttpRequest) -> None:
    """End the session (a no-op for an anonymous caller)."""
    logout(request)
