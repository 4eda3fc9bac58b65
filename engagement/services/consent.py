"""A message's links, without logging in: unsubscribing (docs/engagement.md, "Unsubscribe") and the
dashboard link that records the *clicked* response."""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db import transaction
from django.utils import timezone

from engagement.errors import EngagementError, EngagementErrorCode
from engagement.models import EngagementEvent, EventResponse
from engagement.services.planning import CLICK_SALT, CONSENT_FIELDS, UNSUBSCRIBE_SALT
from marketplace.models import Customer
from marketplace.services.profile import consent_changes_record


def unsubscribe_read(token: str) -> tuple[Customer, str]:
    """The customer and channel a link names; ``INVALID_LINK`` when its signature does not verify
    (Django's signing with the secret key) or the customer is gone."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        customer_id, channel = int(data["c"]), str(data["ch"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise EngagementError(EngagementErrorCode.INVALID_LINK, "This link is not valid.") from None
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or channel not in CONSENT_FIELDS:
        raise EngagementError(EngagementErrorCode.INVALID_LINK, "This link is not valid.")
    return customer, channel


def unsubscribe(token: str, *, now: dt.datetime | None = None) -> tuple[Customer, str, bool]:
    """Turn off the consent a link names; ``(customer, channel, changed)``. Records a
    ``ConsentChange`` with source ``unsubscribe`` when it was on; a second click changes nothing.
    Locks the customer's row. Codes: INVALID_LINK."""
    customer, channel = unsubscribe_read(token)
    field = CONSENT_FIELDS[channel]
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not getattr(locked, field):
            return locked, channel, False
        setattr(locked, field, False)
        locked.save(update_fields=[field])
        consent_changes_record(
            customer=locked, consents={field: False}, source="unsubscribe", actor=None, at=now or timezone.now()
        )
    return locked, channel, True


def message_clicked(token: str, *, now: dt.datetime | None = None) -> EngagementEvent | None:
    """Record that the member followed a message's link (response *clicked*, unless a further
    response is recorded already); the message, or ``None`` for a link that does not verify."""
    try:
        key = signing.loads(token, salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    event = EngagementEvent.objects.filter(idempotency_key=str(key)).first()
    if event is None:
        return None
    if event.response in ("", EventResponse.OPENED):
        EngagementEvent.objects.filter(pk=event.pk).update(
            response=EventResponse.CLICKED, response_at=now or timezone.now()
        )
    return event
