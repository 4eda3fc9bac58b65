"""Delivering planned messages: consent, quiet hours, the weekly cap, retries (docs/engagement.md).

:func:`deliver` is what the delivery actor runs for one event. It locks the event's row
(``SELECT ... FOR UPDATE SKIP LOCKED``) and sends only a *planned*, *due* event, and marks it sent
in the same transaction: two deliveries of one event (a duplicate message, a retry racing the
dispatcher) send it once. A failure records an attempt and plans the next try later
(:data:`BACKOFF`); after the last it is *failed*. Every try is a :class:`DeliveryAttempt`.

Checked at the moment of sending, in this order: expiry; consent (it may have been withdrawn
since planning); quiet hours in the member's zone (the shop's zone: members keep none), which
move the event to the end of the quiet hours, or skip it when that is past its expiry; the
weekly cap of marketing messages. The inbox is exempt from the last three.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from pywebpush import WebPushException

from engagement.channels.email import email_send
from engagement.channels.push import push_send
from engagement.channels.sms import SmsError, sms_provider
from engagement.models import (
    MARKETING_KINDS,
    AttemptOutcome,
    Channel,
    DeliveryAttempt,
    EngagementEvent,
    EventStatus,
)
from engagement.services.planning import address_of, may_receive, settings_of, unsubscribe_url
from loyalty.broadcasts import AccountUpdate, broadcast_on_commit

logger = logging.getLogger(__name__)

#: Wait before each retry of a failed send (after the 1st, 2nd, ... failure); then *failed*.
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=3))
#: Statuses that count toward the weekly cap.
_COUNTED = (EventStatus.SENT, EventStatus.DELIVERED)


@dataclass(frozen=True)
class Delivery:
    """What one call of :func:`deliver` did: the event's status after it, and whether it sent."""

    status: str
    sent: bool


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether ``local`` falls in ``[start, end)``, a window that may cross midnight (21:00-09:00)."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_end(now: dt.datetime, zone: str, start: dt.time, end: dt.time) -> dt.datetime:
    """The first moment at or after ``now`` outside the quiet hours, in UTC."""
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    if not in_quiet_hours(local.time(), start, end):
        return now
    day = local.date() if local.time() < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, zoneinfo.ZoneInfo(zone)).astimezone(dt.UTC)


def _attempt(event: EngagementEvent, outcome: str, detail: str, now: dt.datetime) -> None:
    DeliveryAttempt.objects.create(event=event, at=now, outcome=outcome, detail=detail[:300])


def _finish(event: EngagementEvent, status: str, now: dt.datetime, detail: str) -> Delivery:
    event.status = status
    event.save(update_fields=["status"])
    _attempt(event, AttemptOutcome.SKIPPED, detail, now)
    return Delivery(status=status, sent=False)


def deliver(event_id: int, *, now: dt.datetime | None = None) -> Delivery | None:
    """Send event ``event_id`` if it is planned and due; ``None`` when another delivery holds it
    or it is not (any more) planned and due. Runs one transaction; sends while holding the row
    lock, so the send and its record commit together (a crash in between may resend once: the
    e-mail's ``Message-ID`` and the SMS providers' duplicate keys let receivers recognise it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = (
            EngagementEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account__customer", "account__program__shop", "account__profile")
            .filter(pk=event_id, status=EventStatus.PLANNED, planned_at__lte=now)
            .first()
        )
        if event is None:
            return None
        account = event.account
        customer = account.customer
        if event.expires_at is not None and now >= event.expires_at:
            return _finish(event, EventStatus.EXPIRED, now, "expired before it could be sent")
        channel = event.channel
        marketing = event.kind in MARKETING_KINDS
        if channel != Channel.INBOX:
            if not may_receive(customer, channel):
                return _finish(event, EventStatus.SKIPPED_CONSENT, now, "consent withdrawn")
            shop_settings = settings_of(event.shop_id)
            resume = quiet_end(now, account.program.shop.timezone, shop_settings.quiet_start, shop_settings.quiet_end)
            if resume > now:
                if event.expires_at is not None and resume >= event.expires_at:
                    return _finish(event, EventStatus.SKIPPED_QUIET, now, "only quiet hours left before it expired")
                event.planned_at = resume
                event.save(update_fields=["planned_at"])
                _attempt(event, AttemptOutcome.DEFERRED, f"quiet hours: moved to {resume.isoformat()}", now)
                return Delivery(status=event.status, sent=False)
            if marketing:
                week = EngagementEvent.objects.filter(
                    account=account,
                    kind__in=MARKETING_KINDS,
                    status__in=_COUNTED,
                    sent_at__gt=now - dt.timedelta(days=7),
                ).exclude(channel=Channel.INBOX)
                if week.count() >= shop_settings.weekly_cap:
                    return _finish(event, EventStatus.SKIPPED_CAP, now, f"weekly cap of {shop_settings.weekly_cap}")
        address = address_of(account, channel)
        if address is None:
            return _finish(event, EventStatus.SKIPPED_NO_ADDRESS, now, "no address for the channel")
        event.attempts += 1
        try:
            reference = _send(event, address)
        except (smtplib.SMTPException, OSError, SmsError, WebPushException) as exc:
            return _failed(event, exc, now)
        event.status = EventStatus.DELIVERED if channel == Channel.INBOX else EventStatus.SENT
        event.sent_at = now
        event.delivered_at = now if channel == Channel.INBOX else None
        event.provider_ref = reference[:120]
        event.save(update_fields=["status", "sent_at", "delivered_at", "provider_ref", "attempts"])
        _attempt(event, AttemptOutcome.SENT, reference[:120], now)
        if channel == Channel.INBOX:
            broadcast_on_commit(
                AccountUpdate(
                    account_id=account.pk,
                    customer_id=customer.pk,
                    shop_id=event.shop_id,
                    entry_id=None,
                    kind="inbox",
                    points=0,
                    reason=event.subject,
                    member_only=True,
                )
            )
        return Delivery(status=event.status, sent=True)


def _send(event: EngagementEvent, address: str) -> str:
    """Hand the event to its channel; the provider's reference (or the inbox's)."""
    if event.channel == Channel.EMAIL:
        return email_send(
            to=address,
            subject=event.subject,
            body=event.body,
            language=event.language,
            unsubscribe=unsubscribe_url(event.account.customer_id, Channel.EMAIL),
            message_id=f"<{event.idempotency_key.replace(':', '.')}@patron>",
        )
    if event.channel == Channel.SMS:
        provider = sms_provider(settings_of(event.shop_id).sms_sender)
        if provider is None:
            raise SmsError("no SMS provider configured", permanent=True)
        return provider.send(to=address, text=f"{event.subject}\n{event.body}", key=event.idempotency_key)
    if event.channel == Channel.PUSH:
        return push_send(customer_id=event.account.customer_id, title=event.subject, body=event.body)
    return "inbox"


def _failed(event: EngagementEvent, exc: Exception, now: dt.datetime) -> Delivery:
    """Record a failed try; plan the next one, or end as *failed* after the last (or a permanent refusal)."""
    detail = getattr(exc, "detail", None) or f"{type(exc).__name__}"
    permanent = bool(getattr(exc, "permanent", False))
    logger.warning("engagement event %s: send failed (%s)", event.pk, detail)
    _attempt(event, AttemptOutcome.FAILED, str(detail), now)
    if permanent or event.attempts > len(BACKOFF):
        event.status = EventStatus.FAILED
    else:
        event.planned_at = now + BACKOFF[event.attempts - 1]
    event.save(update_fields=["status", "planned_at", "attempts"])
    return Delivery(status=event.status, sent=False)


def due_events(*, now: dt.datetime, limit: int = 1000, shop_id: int | None = None) -> list[int]:
    """Ids of planned events whose time has come (of one shop, or all), oldest first (the dispatcher
    sends each a delivery)."""
    due = EngagementEvent.objects.filter(status=EventStatus.PLANNED, planned_at__lte=now)
    if shop_id is not None:
        due = due.filter(shop_id=shop_id)
    return list(due.order_by("planned_at", "pk").values_list("pk", flat=True)[:limit])
