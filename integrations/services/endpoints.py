"""Managing webhook endpoints: create, update (pause, resume, re-enable), delete, rotate the secret, redeliver.

Every operation needs ``webhooks:manage`` in the endpoint's shop (owners; API keys with that
scope). An endpoint of another shop answers ``NOT_FOUND``, so ids of other shops are never
confirmed. URLs must be https unless ``settings.PATRON_WEBHOOK_ALLOW_HTTP`` (the embedded
default and debug mode allow http, for a receiver on the developer's machine).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from integrations.errors import WebhookError, WebhookErrorCode
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from marketplace.models import EventType, Shop
from marketplace.permissions import Capability, has_capability
from marketplace.validation import text_problem

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

#: Longest overlap of a secret rotation (both secrets sign meanwhile).
MAX_SECRET_OVERLAP = dt.timedelta(days=7)


def secret_generate() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _allowed(user: AbstractBaseUser | AnonymousUser | None, shop_id: int) -> bool:
    return has_capability(user=user, shop_id=shop_id, capability=Capability.MANAGE_WEBHOOKS)


def _authenticated(user: AbstractBaseUser | AnonymousUser | None) -> None:
    if user is None or not user.is_authenticated:
        raise WebhookError(WebhookErrorCode.NOT_AUTHENTICATED, "Log in (or use an API key) to manage webhooks.")


def _checked_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    schemes = {"https", "http"} if settings.PATRON_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in schemes or not parts.hostname or len(url) > 500 or parts.username or parts.password:
        need = "an http(s)" if settings.PATRON_WEBHOOK_ALLOW_HTTP else "an https"
        raise WebhookError(
            WebhookErrorCode.INVALID_URL,
            f"The endpoint needs {need} URL (500 characters at most, no credentials).",
            "url",
        )
    return url


def _checked_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    if not chosen:
        raise WebhookError(WebhookErrorCode.EVENT_TYPES_REQUIRED, "Choose at least one event type.", "eventTypes")
    known = set(EventType.values)
    unknown = [value for value in chosen if value not in known]
    if unknown:
        raise WebhookError(
            WebhookErrorCode.INVALID_EVENT_TYPE, f"Unknown event type(s): {', '.join(unknown)}.", "eventTypes"
        )
    return chosen


def _checked_description(description: str) -> str:
    description = (description or "").strip()
    problem = text_problem(description, model=WebhookEndpoint, column="description")
    if problem:
        raise WebhookError(WebhookErrorCode.INVALID_INPUT, problem, "description")
    return description


def webhook_endpoint_create(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    shop_id: int,
    url: str,
    event_types: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    """A new active endpoint of shop ``shop_id`` with a fresh secret.

    Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND`` (no such shop), ``PERMISSION_DENIED`` (no
    ``webhooks:manage`` there), ``INVALID_URL``, ``EVENT_TYPES_REQUIRED``, ``INVALID_EVENT_TYPE``, ``INVALID_INPUT``.
    """
    _authenticated(user)
    if not Shop.objects.filter(pk=shop_id).exists():
        raise WebhookError(WebhookErrorCode.NOT_FOUND, "No such shop.", "shopId")
    if not _allowed(user, shop_id):
        raise WebhookError(WebhookErrorCode.PERMISSION_DENIED, "Only the shop's owner manages its webhooks.")
    return WebhookEndpoint.objects.create(
        shop_id=shop_id,
        url=_checked_url(url),
        event_types=_checked_types(event_types),
        description=_checked_description(description),
        secret=secret_generate(),
        created_by=user if isinstance(user, get_user_model()) else None,
    )


def _managed(user: AbstractBaseUser | AnonymousUser | None, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint, row-locked, if the caller manages its shop's webhooks; ``NOT_FOUND`` otherwise."""
    _authenticated(user)
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None or not _allowed(user, endpoint.shop_id):
        raise WebhookError(WebhookErrorCode.NOT_FOUND, "No such webhook endpoint.", "id")
    return endpoint


@dataclass(frozen=True)
class EndpointChanges:
    """Fields to change on an endpoint; ``None`` leaves one as it is."""

    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    is_active: bool | None = None


def webhook_endpoint_update(
    *, user: AbstractBaseUser | AnonymousUser | None, endpoint_id: int, changes: EndpointChanges
) -> WebhookEndpoint:
    """Change an endpoint; ``is_active=True`` on a disabled one re-enables it (clears the failure record).

    Same refusals as :func:`webhook_endpoint_create` (``NOT_FOUND`` for an unknown id). One
    transaction, endpoint row-locked.
    """
    with transaction.atomic():
        endpoint = _managed(user, endpoint_id)
        if changes.url is not None:
            endpoint.url = _checked_url(changes.url)
        if changes.event_types is not None:
            endpoint.event_types = _checked_types(changes.event_types)
        if changes.description is not None:
            endpoint.description = _checked_description(changes.description)
        if changes.is_active is not None:
            endpoint.is_active = changes.is_active
            if changes.is_active:
                endpoint.disabled_at = None
                endpoint.disabled_reason = ""
                endpoint.failing_since = None
        endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, user: AbstractBaseUser | AnonymousUser | None, endpoint_id: int) -> int:
    """Delete an endpoint with its delivery log; returns the id. Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND``."""
    with transaction.atomic():
        endpoint = _managed(user, endpoint_id)
        endpoint.delete()
    return endpoint_id


def webhook_secret_rotate(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    endpoint_id: int,
    overlap: dt.timedelta = dt.timedelta(hours=24),
    now: dt.datetime | None = None,
) -> WebhookEndpoint:
    """Give the endpoint a new secret; the old one also signs for ``overlap`` (0 to 7 days).

    Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND``, ``INVALID_INPUT`` (overlap out of range).
    """
    now = now or timezone.now()
    if overlap < dt.timedelta(0) or overlap > MAX_SECRET_OVERLAP:
        raise WebhookError(
            WebhookErrorCode.INVALID_INPUT, "The overlap is between 0 seconds and 7 days.", "overlapSeconds"
        )
    with transaction.atomic():
        endpoint = _managed(user, endpoint_id)
        endpoint.previous_secret = endpoint.secret if overlap else ""
        endpoint.previous_secret_expires_at = now + overlap if overlap else None
        endpoint.secret = secret_generate()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def webhook_redeliver(
    *, user: AbstractBaseUser | AnonymousUser | None, delivery_id: int, now: dt.datetime | None = None
) -> WebhookDelivery:
    """Queue a delivery again from its first attempt (same ``webhook-id``: receivers drop a duplicate).

    Refusals: ``NOT_AUTHENTICATED``, ``NOT_FOUND`` (unknown, or another shop's),
    ``ENDPOINT_INACTIVE`` (turn the endpoint on first). The caller sends it (``webhook_deliver_task``).
    """
    now = now or timezone.now()
    _authenticated(user)
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or not _allowed(user, delivery.endpoint.shop_id):
            raise WebhookError(WebhookErrorCode.NOT_FOUND, "No such webhook delivery.", "id")
        if not delivery.endpoint.is_active:
            raise WebhookError(WebhookErrorCode.ENDPOINT_INACTIVE, "The endpoint is off; turn it on first.", "id")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery
