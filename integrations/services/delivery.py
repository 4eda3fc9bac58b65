"""Sending webhook deliveries: signed per Standard Webhooks, retried on a schedule, logged.

Each attempt POSTs the event as JSON ``{"type", "timestamp", "data"}`` with the headers of the
Standard Webhooks specification (https://www.standardwebhooks.com): ``webhook-id`` (the event's
``uid``, the same on every retry and redelivery, so a receiver drops duplicates by it),
``webhook-timestamp`` (seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>``, made by the
``standardwebhooks`` library; during a secret rotation's overlap one signature per secret).

Retry schedule, after the first attempt (the schedule Svix documents for Standard Webhooks):
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 27.6 hours, then the
delivery is FAILED (it can still be redelivered). An endpoint that has failed without a single
success for ``DISABLE_AFTER`` (5 days, as Svix) is disabled, its pending deliveries end FAILED,
a ``webhook_endpoint.disabled`` event goes to the feed and the shop's owners get an e-mail.

A claim (row lock, then a lease in ``next_attempt_at``) makes concurrent senders of one
delivery harmless: one sends, the others find it leased. The HTTP request runs outside any
transaction, so no lock is held while a receiver is slow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from typing import cast

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from marketplace.events import node_id, shop_event_record
from marketplace.models import EventType, ShopEvent, StaffMembership, StaffRole

logger = logging.getLogger(__name__)

#: Waits before each retry (after attempt 1, 2, ...): Svix's published Standard Webhooks schedule.
RETRY_DELAYS: tuple[dt.timedelta, ...] = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
#: An endpoint failing this long without a success is disabled.
DISABLE_AFTER = dt.timedelta(days=5)
#: How long a claimed attempt may run before the sweep presumes its sender died.
LEASE_MARGIN = dt.timedelta(seconds=30)
USER_AGENT = "Patron-Webhooks/1.0"


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call of :func:`delivery_attempt` did: ``sent`` is False when there was nothing to send.

    ``retry_at`` is when a failed delivery's next attempt is due (``None`` unless it is pending).
    """

    sent: bool
    status: str
    status_code: int | None = None
    retry_at: dt.datetime | None = None


def event_body(event: ShopEvent) -> str:
    """The JSON body of ``event``'s deliveries (compact; signed byte for byte)."""
    return json.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.data},
        separators=(",", ":"),
        sort_keys=True,
    )


def signed_headers(endpoint: WebhookEndpoint, event: ShopEvent, body: str, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (signed with the current and any overlapping secret)."""
    secrets_in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > at:
        secrets_in_use.append(endpoint.previous_secret)
    signature = " ".join(Webhook(secret).sign(msg_id=event.uid, timestamp=at, data=body) for secret in secrets_in_use)
    return {
        "webhook-id": event.uid,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _claim(delivery_id: int, now: dt.datetime, force: bool) -> WebhookDelivery | None:
    """Lock the delivery, check it is due, lease it (``next_attempt_at``) and count the attempt."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None or not delivery.endpoint.is_active:
            return None
        if not force and delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + dt.timedelta(seconds=settings.PATRON_WEBHOOK_TIMEOUT) + LEASE_MARGIN
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def _post(delivery: WebhookDelivery, now: dt.datetime) -> tuple[int | None, int, str, str]:
    """POST the delivery; ``(status code or None, latency ms, error, response excerpt)``. Never raises."""
    body = event_body(delivery.event)
    headers = signed_headers(delivery.endpoint, delivery.event, body, now)
    started = time.monotonic()
    try:
        response = httpx.post(
            delivery.endpoint.url,
            content=body.encode(),
            headers=headers,
            timeout=settings.PATRON_WEBHOOK_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return None, int((time.monotonic() - started) * 1000), "Timed out", ""
    except httpx.HTTPError as exc:
        return None, int((time.monotonic() - started) * 1000), f"Connection failed ({type(exc).__name__})", ""
    latency = int((time.monotonic() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, latency, error, response.text[:500]


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None, force: bool = False) -> AttemptOutcome:
    """Try delivery ``delivery_id`` once if it is pending and due (``force``: due or not).

    Records a :class:`WebhookAttempt`; on a 2xx the delivery SUCCEEDED and the endpoint's
    ``failing_since`` clears; otherwise the next attempt is scheduled (``RETRY_DELAYS``) or the
    delivery FAILED, and the endpoint may be disabled (``DISABLE_AFTER``). Safe to call
    concurrently and repeatedly.
    """
    now = now or timezone.now()
    delivery = _claim(delivery_id, now, force)
    if delivery is None:
        return AttemptOutcome(sent=False, status="skipped")
    status_code, latency, error, excerpt = _post(delivery, now)
    succeeded = not error
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=status_code,
            latency_ms=latency,
            error=error,
            response_excerpt=excerpt,
        )
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        fields: dict[str, object] = {"last_status_code": status_code, "last_attempt_at": now}
        if succeeded:
            fields |= {"status": DeliveryStatus.SUCCEEDED, "next_attempt_at": None}
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            retry = delivery.attempts - 1
            if retry < len(RETRY_DELAYS):
                fields |= {"next_attempt_at": now + RETRY_DELAYS[retry]}
            else:
                fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
            if endpoint.failing_since is None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
            elif now - endpoint.failing_since >= DISABLE_AFTER and endpoint.is_active:
                endpoint_disable(
                    endpoint,
                    now=now,
                    reason=f"No successful delivery since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC",
                )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    status = fields.get("status", DeliveryStatus.PENDING)
    retry_at = fields.get("next_attempt_at") if status == DeliveryStatus.PENDING else None
    return AttemptOutcome(
        sent=True, status=str(status), status_code=status_code, retry_at=cast(dt.datetime | None, retry_at)
    )


def endpoint_disable(endpoint: WebhookEndpoint, *, now: dt.datetime, reason: str) -> None:
    """Disable a failing endpoint, end its pending deliveries and tell the owners.

    Runs in the caller's transaction with the endpoint row locked.

    The owners hear it twice: a ``webhook_endpoint.disabled`` event in the shop's feed (and on
    any other endpoint that listens to it) and an e-mail to every owner with an address (sent
    after commit through Django's e-mail backend; a mail failure is logged, not raised).
    """
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300]
    )
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None
    )
    shop_event_record(
        shop_id=endpoint.shop_id,
        type=EventType.WEBHOOK_ENDPOINT_DISABLED,
        occurred_at=now,
        data={"endpointId": node_id("WebhookEndpoint", endpoint.pk), "url": endpoint.url, "reason": reason},
    )
    owners = list(
        StaffMembership.objects.filter(shop_id=endpoint.shop_id, role=StaffRole.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if owners:
        transaction.on_commit(lambda: _mail_owners(owners, endpoint.url, reason))


def _mail_owners(recipients: list[str], url: str, reason: str) -> None:
    try:
        send_mail(
            subject="Patron: a webhook endpoint was disabled",
            message=(
                f"Patron stopped sending webhooks to {url}: {reason}.\n"
                "Fix the receiver, then turn the endpoint back on and redeliver the failed events "
                "from the console (Integrations) or with webhookEndpointUpdate and webhookRedeliver."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        logger.exception("could not e-mail the owners about disabled webhook endpoint %s", url)


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries of active endpoints whose next attempt (or expired lease) is due, oldest first."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
