"""Shop API keys: create, rotate, revoke, and authenticate a request's ``Authorization: Bearer`` key.

A key reads ``ptn_<prefix>_<secret>``: ``prefix`` (8 lowercase letters and digits) finds the row,
the whole key's SHA-256 is compared in constant time. A SHA-256 rather than a slow password hash
is enough, because the secret is 256 random bits, not something a person chose (the reasoning of
djangorestframework-api-key's ``Sha512ApiKeyHasher``), and it keeps a request's check cheap.

Only owners (``apikeys:manage``) manage keys; a key's scopes come from
``marketplace.permissions.KEY_SCOPES``. Each key gets a service user (``apikey:<prefix>``, no
password, so it can never log in) that audit trails name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import limits
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from marketplace.errors import ApiKeyError, ApiKeyErrorCode, CredentialError, CredentialErrorCode
from marketplace.models import ApiKey, Shop
from marketplace.permissions import API_KEY_ATTR, KEY_SCOPES, Capability, has_capability
from marketplace.services.auth import SESSION_ENDED
from marketplace.validation import text_problem

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

KEY_PREFIX = "ptn_"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
#: ``last_used_at`` is written at most this often per key (a write per request would serialise them).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
#: The longest overlap a rotation may leave the old key working.
MAX_ROTATION_OVERLAP = dt.timedelta(days=7)


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the row and the full key, which is shown this once and never stored."""

    api_key: ApiKey
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    """``(prefix, full key)`` drawn from ``secrets``."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def _can_manage(user: AbstractBaseUser | AnonymousUser | None, shop_id: int) -> None:
    if user is None or not user.is_authenticated:
        raise ApiKeyError(ApiKeyErrorCode.NOT_AUTHENTICATED, "Log in to manage API keys.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.MANAGE_API_KEYS):
        raise ApiKeyError(ApiKeyErrorCode.PERMISSION_DENIED, "Only the shop's owner manages its API keys.")


def _checked_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen:
        raise ApiKeyError(ApiKeyErrorCode.SCOPES_REQUIRED, "Give the key at least one scope.", "scopes")
    allowed = {capability.value for capability in KEY_SCOPES}
    unknown = [scope for scope in chosen if scope not in allowed]
    if unknown:
        raise ApiKeyError(
            ApiKeyErrorCode.INVALID_SCOPE,
            f"Unknown or not grantable scope(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.",
            "scopes",
        )
    return chosen


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    problem = text_problem(name, model=ApiKey, column="name")
    if not name or problem:
        raise ApiKeyError(ApiKeyErrorCode.INVALID_NAME, problem or "Give the key a name.", "name")
    return name


def _checked_rate(rate: str) -> str:
    rate = (rate or "").strip()
    if not rate:
        return ""
    try:
        if text_problem(rate, model=ApiKey, column="rate_limit"):
            raise ValueError(rate)
        limits.parse(rate)
    except ValueError:
        raise ApiKeyError(
            ApiKeyErrorCode.INVALID_RATE_LIMIT, "A rate limit reads like '600/minute' or '10/second'.", "rateLimit"
        ) from None
    return rate


def _issue(
    *, shop_id: int, name: str, scopes: list[str], expires_at: dt.datetime | None, rate_limit: str, by: User | None
) -> IssuedKey:
    """Create the key and its service user (caller's transaction)."""
    prefix, key = _new_key()
    user = get_user_model().objects.create_user(username=f"apikey:{prefix}", password=None)
    api_key = ApiKey.objects.create(
        shop_id=shop_id,
        name=name,
        prefix=prefix,
        hashed_key=_digest(key),
        scopes=scopes,
        user=user,
        rate_limit=rate_limit,
        created_by=by,
        expires_at=expires_at,
    )
    return IssuedKey(api_key=api_key, key=key)


def api_key_create(
    *,
    user: User,
    shop_id: int,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
    rate_limit: str = "",
    now: dt.datetime | None = None,
) -> IssuedKey:
    """Create an API key for shop ``shop_id``; the full key is in the result only.

    Refusals (``ApiKeyError``): ``NOT_AUTHENTICATED``, ``PERMISSION_DENIED`` (not the owner),
    ``NOT_FOUND`` (no such shop), ``INVALID_NAME``, ``SCOPES_REQUIRED``, ``INVALID_SCOPE``,
    ``INVALID_EXPIRY`` (not in the future), ``INVALID_RATE_LIMIT``.
    """
    now = now or timezone.now()
    if not Shop.objects.filter(pk=shop_id).exists():
        raise ApiKeyError(ApiKeyErrorCode.NOT_FOUND, "No such shop.", "shopId")
    _can_manage(user, shop_id)
    name = _checked_name(name)
    chosen = _checked_scopes(scopes)
    if expires_at is not None and expires_at <= now:
        raise ApiKeyError(ApiKeyErrorCode.INVALID_EXPIRY, "The expiry must be in the future.", "expiresAt")
    rate = _checked_rate(rate_limit)
    with transaction.atomic():
        return _issue(shop_id=shop_id, name=name, scopes=chosen, expires_at=expires_at, rate_limit=rate, by=user)


def _managed_key(user: User, key_id: int) -> ApiKey:
    """The key ``key_id`` locked, if ``user`` manages its shop; ``NOT_FOUND`` otherwise (no shop is confirmed)."""
    if user is None or not user.is_authenticated:
        raise ApiKeyError(ApiKeyErrorCode.NOT_AUTHENTICATED, "Log in to manage API keys.")
    key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
    if key is None or not has_capability(user=user, shop_id=key.shop_id, capability=Capability.MANAGE_API_KEYS):
        raise ApiKeyError(ApiKeyErrorCode.NOT_FOUND, "No such API key.", "id")
    return key


def api_key_group(prefix: str) -> str:
    """The channel group of the WebSockets opened with key ``prefix`` (``config.consumers`` joins it)."""
    return f"apikey.{prefix}"


def _close_sockets_of(prefix: str) -> None:
    """After commit: close the key's open WebSockets (``SESSION_ENDED``, as a logout does); an outage only logs."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(api_key_group(prefix), {"type": SESSION_ENDED})
    except Exception:  # the key is refused anyway from its next connection
        logger.warning("could not tell the sockets of revoked key %s to close", prefix, exc_info=True)


def api_key_revoke(*, user: User, key_id: int, now: dt.datetime | None = None) -> ApiKey:
    """Revoke key ``key_id`` now: every later request with it is refused (``API_KEY_REVOKED``).

    Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND`` (no such key, or not the caller's shop),
    ``ALREADY_REVOKED``. Row-locks the key. After commit the key's open WebSockets close.
    """
    now = now or timezone.now()
    with transaction.atomic():
        key = _managed_key(user, key_id)
        if key.revoked_at is not None:
            raise ApiKeyError(ApiKeyErrorCode.ALREADY_REVOKED, "The key is already revoked.", "id")
        key.revoked_at = now
        key.save(update_fields=["revoked_at"])
        transaction.on_commit(lambda: _close_sockets_of(key.prefix))
    return key


def api_key_rotate(
    *, user: User, key_id: int, overlap: dt.timedelta = dt.timedelta(0), now: dt.datetime | None = None
) -> IssuedKey:
    """Replace key ``key_id`` with a new one of the same name, scopes, expiry and rate limit.

    The old key keeps working for ``overlap`` (at most ``MAX_ROTATION_OVERLAP``, so the shop's
    systems can switch without downtime) and is then refused as expired; with no overlap it is
    revoked now. Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND``, ``ALREADY_REVOKED`` (a revoked or
    already rotated key), ``INVALID_INPUT`` (overlap out of range). Row-locks the old key.
    """
    now = now or timezone.now()
    if overlap < dt.timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise ApiKeyError(
            ApiKeyErrorCode.INVALID_INPUT, "The overlap is between 0 seconds and 7 days.", "overlapSeconds"
        )
    with transaction.atomic():
        old = _managed_key(user, key_id)
        if old.revoked_at is not None or ApiKey.objects.filter(rotated_from=old).exists():
            raise ApiKeyError(ApiKeyErrorCode.ALREADY_REVOKED, "The key is revoked or already rotated.", "id")
        issued = _issue(
            shop_id=old.shop_id,
            name=old.name,
            scopes=list(old.scopes),
            expires_at=old.expires_at,
            rate_limit=old.rate_limit,
            by=user,
        )
        ApiKey.objects.filter(pk=issued.api_key.pk).update(rotated_from=old)
        issued.api_key.rotated_from = old
        if overlap:
            end = now + overlap
            old.expires_at = min(old.expires_at, end) if old.expires_at else end
            old.save(update_fields=["expires_at"])
        else:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
            transaction.on_commit(lambda: _close_sockets_of(old.prefix))
    return issued


def api_keys_of_shop(*, shop_id: int) -> QuerySet[ApiKey]:
    """The shop's API keys, newest first (revoked ones too: the list is also their history)."""
    return ApiKey.objects.filter(shop_id=shop_id).order_by("-created_at", "-pk")


def api_key_authenticate(key: str, *, now: dt.datetime | None = None) -> ApiKey:
    """The usable key ``key`` names, with its service user marked (``API_KEY_ATTR``) for permission checks.

    Refusals (``CredentialError``): ``API_KEY_INVALID`` (malformed, unknown, wrong secret: one
    code, so a caller learns nothing about which), ``API_KEY_REVOKED``, ``API_KEY_EXPIRED``.
    Updates ``last_used_at`` at most once a minute (one UPDATE that matches nothing otherwise).
    """
    now = now or timezone.now()
    invalid = CredentialError(CredentialErrorCode.API_KEY_INVALID, "The API key is not valid.")
    parts = key.split("_", 2) if key.startswith(KEY_PREFIX) else []
    if len(parts) != 3:
        raise invalid
    found = ApiKey.objects.select_related("user").filter(prefix=parts[1]).first()
    if found is None or not hmac.compare_digest(found.hashed_key, _digest(key)):
        raise invalid
    if found.revoked_at is not None:
        raise CredentialError(CredentialErrorCode.API_KEY_REVOKED, "The API key was revoked.")
    if found.expires_at is not None and found.expires_at <= now:
        raise CredentialError(CredentialErrorCode.API_KEY_EXPIRED, "The API key has expired.")
    if found.last_used_at is None or found.last_used_at <= now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=found.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        found.last_used_at = now
    setattr(found.user, API_KEY_ATTR, found)
    return found


def api_key_rate(key: ApiKey) -> str:
    """The key's request rate: its own ``rate_limit`` or ``settings.PATRON_API_KEY_RATE_LIMIT``."""
    return key.rate_limit or settings.PATRON_API_KEY_RATE_LIMIT
