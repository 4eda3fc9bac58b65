"""Storefront member tokens: the marketplace vouches for its user with a short-lived signed JWT.

The marketplace's server signs (PyJWT, HS256) a token naming its user by the marketplace's own
customer id, with a secret Patron issued to it (``MemberTokenIssuer``, named in the ``kid``
header); the storefront passes it to Patron as ``Authorization: Bearer <token>`` or in the
WebSocket ``connection_init`` payload. Claims: ``sub`` (the customer's external id, required),
``aud`` (``settings.PATRON_MEMBER_TOKEN_AUDIENCE``, required), ``exp`` (required, at most
``PATRON_MEMBER_TOKEN_MAX_LIFETIME`` seconds ahead), optional ``name`` and ``email``. Smile.js'
and LoyaltyLion's customer identity tokens are the model.

On first use the customer is created (or an existing customer with that external id gets a
login user): the member is then linked, and member accounts open per shop as today.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.errors import CredentialError, CredentialErrorCode
from marketplace.models import Customer, MemberTokenIssuer

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Clock skew tolerated on ``exp`` (seconds).
LEEWAY = 30


def member_token_issuer_create(*, name: str) -> MemberTokenIssuer:
    """A new issuer with a fresh ``key_id`` (``ptk_...``) and a 256-bit secret (shown to the operator once)."""
    return MemberTokenIssuer.objects.create(
        name=name, key_id=f"ptk_{secrets.token_hex(8)}", secret=secrets.token_urlsafe(32)
    )


def _refuse(code: CredentialErrorCode, message: str) -> CredentialError:
    return CredentialError(code, message)


def member_token_claims(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The verified claims of ``token``.

    Refusals (``CredentialError``): ``TOKEN_INVALID`` (not a JWT, no ``kid``, bad signature, a
    required claim missing, not HS256), ``TOKEN_ISSUER_UNKNOWN`` (unknown or revoked ``kid``),
    ``TOKEN_EXPIRED``, ``TOKEN_WRONG_AUDIENCE``, ``TOKEN_LIFETIME_TOO_LONG``.
    """
    now = now or timezone.now()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _refuse(CredentialErrorCode.TOKEN_INVALID, "The member token is not a valid JWT.") from None
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise _refuse(CredentialErrorCode.TOKEN_INVALID, "The member token names no issuer ('kid' header).")
    issuer = MemberTokenIssuer.objects.filter(key_id=key_id, revoked_at__isnull=True).first()
    if issuer is None:
        raise _refuse(CredentialErrorCode.TOKEN_ISSUER_UNKNOWN, "The member token's issuer is unknown or revoked.")
    try:
        claims = jwt.decode(
            token,
            issuer.secret,
            algorithms=["HS256"],
            audience=settings.PATRON_MEMBER_TOKEN_AUDIENCE,
            leeway=LEEWAY,
            options={"require": ["exp", "aud", "sub"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise _refuse(CredentialErrorCode.TOKEN_EXPIRED, "The member token has expired.") from None
    except jwt.InvalidAudienceError:
        raise _refuse(
            CredentialErrorCode.TOKEN_WRONG_AUDIENCE,
            f"The member token's audience ('aud') must be {settings.PATRON_MEMBER_TOKEN_AUDIENCE!r}.",
        ) from None
    except jwt.InvalidTokenError:
        raise _refuse(CredentialErrorCode.TOKEN_INVALID, "The member token is not valid.") from None
    lifetime = claims["exp"] - now.timestamp()
    if lifetime > settings.PATRON_MEMBER_TOKEN_MAX_LIFETIME + LEEWAY:
        raise _refuse(
            CredentialErrorCode.TOKEN_LIFETIME_TOO_LONG,
            f"A member token may live at most {settings.PATRON_MEMBER_TOKEN_MAX_LIFETIME} seconds.",
        )
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 100:
        raise _refuse(
            CredentialErrorCode.TOKEN_INVALID, "The member token's 'sub' is a customer id of 1-100 characters."
        )
    return claims


def _text_claim(claims: dict[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@dataclass(frozen=True)
class MemberTokenLogin:
    """Who a verified member token names (``user``) and until when it is accepted (``expires_at``: its
    ``exp`` plus the clock-skew ``LEEWAY``)."""

    user: User
    expires_at: dt.datetime


def member_token_authenticate(token: str, *, now: dt.datetime | None = None) -> MemberTokenLogin:
    """The login user of the customer the verified ``token`` names, and the token's expiry.

    The customer is created or linked on first use. Same refusals as
    :func:`member_token_claims`. A new customer takes ``name`` and ``email`` from the token; an
    existing one keeps its own. Two first requests at once are safe: the unique external id and
    user link decide, the loser reads the winner's rows.
    """
    claims = member_token_claims(token, now=now)
    expires_at = dt.datetime.fromtimestamp(claims["exp"] + LEEWAY, tz=dt.UTC)
    return MemberTokenLogin(user=_member_user(claims), expires_at=expires_at)


def _member_user(claims: dict[str, Any]) -> User:
    """The customer's login user for verified ``claims``, created or linked on first use."""
    external_id = claims["sub"].strip()
    for _ in range(2):
        customer = Customer.objects.select_related("user").filter(external_id=external_id).first()
        if customer is not None and customer.user is not None:
            return customer.user
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(username=f"member:{external_id}"[:150], password=None)
                if customer is None:
                    customer = Customer.objects.create(
                        external_id=external_id,
                        user=user,
                        display_name=_text_claim(claims, "name", 200),
                        email=_text_claim(claims, "email", 254),
                    )
                else:
                    updated = Customer.objects.filter(pk=customer.pk, user__isnull=True).update(user=user)
                    if not updated:
                        raise IntegrityError("customer linked concurrently")
                return user
        except IntegrityError:
            continue
    raise _refuse(CredentialErrorCode.TOKEN_INVALID, "The member token's customer could not be linked; try again.")
