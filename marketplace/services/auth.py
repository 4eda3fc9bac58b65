"""Session login and logout for customers and staff (Django's auth does the work)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from marketplace.errors import AuthError, AuthErrorCode


def session_login(*, request: HttpRequest, username: str, password: str) -> AbstractBaseUser:
    """Authenticate with Django's backends and start a session; return the user.

    Raises ``AuthError(INVALID_CREDENTIALS)`` for a wrong pair or an inactive user, with the same
    message either way so that the answer does not tell which usernames exist.
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthError(AuthErrorCode.INVALID_CREDENTIALS, "Wrong username or password.", "password")
    login(request, user)
    return user


def session_logout(*, request: HttpRequest) -> None:
    """End the session (a no-op for an anonymous caller)."""
    logout(request)
