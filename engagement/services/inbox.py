"""The member's side: reading the inbox, and the browsers that take web push (docs/engagement.md)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from engagement.errors import EngagementError, EngagementErrorCode
from engagement.models import Channel, EngagementEvent, EventResponse, EventStatus, PushSubscription
from marketplace.models import Customer


def _customer(user: AbstractBaseUser | AnonymousUser) -> Customer:
    """The caller's customer record; NOT_AUTHENTICATED without a login, NOT_FOUND without a customer."""
    if not user.is_authenticated:
        raise EngagementError(EngagementErrorCode.NOT_AUTHENTICATED, "Log in first.")
    customer = Customer.objects.filter(user_id=user.pk).first()
    if customer is None:
        raise EngagementError(EngagementErrorCode.NOT_FOUND, "This login has no member accounts.")
    return customer


def inbox_mark_read(*, user: AbstractBaseUser | AnonymousUser, event_ids: list[int]) -> int:
    """Mark the caller's inbox messages read (others' ids are ignored, as are read ones); returns how
    many changed. Reading counts as the *opened* response. Codes: NOT_AUTHENTICATED, NOT_FOUND,
    INVALID_INPUT (more than 200 ids)."""
    customer = _customer(user)
    if len(event_ids) > 200:
        raise EngagementError(EngagementErrorCode.INVALID_INPUT, "Up to 200 messages at once.", "ids")
    now = timezone.now()
    return EngagementEvent.objects.filter(
        pk__in=event_ids,
        account__customer=customer,
        channel=Channel.INBOX,
        status=EventStatus.DELIVERED,
        read_at__isnull=True,
    ).update(read_at=now, response=EventResponse.OPENED, response_at=now)


def push_subscription_add(
    *, user: AbstractBaseUser | AnonymousUser, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Keep a browser's push subscription for the caller (the dashboard's service worker sends it).

    The endpoint must be an https URL of a push service (up to 500 characters); the keys are the
    browser's base64url P-256 public key (87 characters) and 16-byte auth secret (22). The same
    endpoint again moves to the caller. Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."""
    customer = _customer(user)
    if not endpoint.startswith("https://") or len(endpoint) > 500:
        raise EngagementError(EngagementErrorCode.INVALID_INPUT, "The endpoint is an https URL.", "endpoint")
    if not (80 <= len(p256dh) <= 100 and 16 <= len(auth) <= 40):
        raise EngagementError(EngagementErrorCode.INVALID_INPUT, "The subscription's keys are not valid.", "keys")
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"customer": customer, "p256dh": p256dh, "auth": auth}
    )
    return subscription
