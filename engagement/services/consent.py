"""Unsubscribing from a message's link, without logging in (docs/engagement.md, "Unsubscribe")."""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db import transaction
from django.utils import timezone

from engagement.errors import EngagementError, EngagementErrorCode
from engagement.services.planning import CONSENT_FIELDS, UNSUBSCRIBE_SALT
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
