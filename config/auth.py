"""Bearer credentials on /graphql/: shop API keys and storefront member tokens.

``Authorization: Bearer ptn_...`` is a shop API key (``marketplace.services.api_keys``); any other
bearer value is a member token (``marketplace.services.member_tokens``). A request carrying
either runs as that key's service user or that member, never as the session's user, and
without Django's CSRF check (a bearer header is not sent by a browser on its own, which is what
CSRF protects against). Refused credentials answer 401 with a coded GraphQL-shaped body and a
``WWW-Authenticate`` header (RFC 6750); the request does not run.

API-key requests are rate limited per key (``marketplace.throttle``): every answer carries
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (IETF httpapi draft
"RateLimit header fields"), and a refused one is 429 ``RATE_LIMITED`` with ``Retry-After``.

The WebSocket takes the same credentials in the ``connection_init`` payload
(``{"Authorization": "Bearer ..."}``); see ``config.consumers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponseBase

from config.views import GRAPHQL_PREFIX, graphql_error_response
from marketplace.errors import CredentialError, CredentialErrorCode
from marketplace.models import ApiKey
from marketplace.services.api_keys import KEY_PREFIX, api_key_authenticate, api_key_rate
from marketplace.services.member_tokens import member_token_authenticate
from marketplace.throttle import ThrottleUnavailable, ThrottleWindow, throttle_window

_BEARER = "bearer "


@dataclass(frozen=True)
class BearerPrincipal:
    """Who a bearer credential names: the user to run as, for an API key the key, and the credential's expiry."""

    user: AbstractBaseUser
    api_key: ApiKey | None
    expires_at: dt.datetime | None = None


def bearer_value(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer <value>`` header, or ``None`` for another scheme or none."""
    if not header or header[: len(_BEARER)].lower() != _BEARER:
        return None
    return header[len(_BEARER) :].strip() or None


def bearer_authenticate(credential: str) -> BearerPrincipal:
    """Authenticate an API key (``ptn_...``) or a member token; raises ``CredentialError`` (coded)."""
    if credential.startswith(KEY_PREFIX):
        key = api_key_authenticate(credential)
        return BearerPrincipal(user=key.user, api_key=key, expires_at=key.expires_at)
    login = member_token_authenticate(credential)
    return BearerPrincipal(user=login.user, api_key=None, expires_at=login.expires_at)


def key_throttle(key: ApiKey) -> ThrottleWindow:
    """Count one request of ``key`` against its rate.

    Raises ``CredentialError(SERVICE_UNAVAILABLE)`` when the counters are unreachable.
    """
    try:
        return throttle_window(rate=api_key_rate(key), scope="apikey", key=key.prefix)
    except ThrottleUnavailable:
        raise CredentialError(
            CredentialErrorCode.SERVICE_UNAVAILABLE, "Rate-limit counters are unreachable; try again shortly."
        ) from None


def _rate_headers(response: HttpResponseBase, window: ThrottleWindow) -> None:
    response["RateLimit-Limit"] = str(window.limit)
    response["RateLimit-Remaining"] = str(window.remaining)
    response["RateLimit-Reset"] = str(window.reset_after)


class BearerAuthMiddleware:
    """Authenticate ``Authorization: Bearer`` on /graphql/ (after Django's session authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        """Standard Django middleware constructor."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        """Run the request as the credential's principal, or refuse it (401 / 429 / 503) before it runs."""
        credential = bearer_value(request.headers.get("Authorization"))
        if credential is None or not request.path.startswith(GRAPHQL_PREFIX):
            return self.get_response(request)
        window = None
        try:
            principal = bearer_authenticate(credential)
            if principal.api_key is not None:
                window = key_throttle(principal.api_key)
        except CredentialError as refusal:
            status = 503 if refusal.code is CredentialErrorCode.SERVICE_UNAVAILABLE else 401
            refused = graphql_error_response(refusal.message, code=refusal.code.value, status=status)
            if status == 401:
                refused["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return refused
        if window is not None and not window.allowed:
            limited = graphql_error_response(
                "Too many requests with this API key; see the Retry-After header.",
                code=CredentialErrorCode.RATE_LIMITED.value,
                status=429,
            )
            limited["Retry-After"] = str(window.reset_after)
            _rate_headers(limited, window)
            return limited
        request.user = principal.user  # type: ignore[assignment]
        # A bearer header is never attached by a browser on its own: no CSRF exposure.
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        if window is not None:
            _rate_headers(response, window)
        return response
