"""Web push with VAPID (RFC 8030, RFC 8291, RFC 8292) through pywebpush (docs/engagement.md, "Channels").

The dashboard's service worker subscribes with the server's public key and sends its
subscription (endpoint and keys) to ``pushSubscribe``; this module encrypts a small JSON notice
(``{"title", "body"}``) for each of the customer's subscriptions and posts it to the push service.
"""

from __future__ import annotations

import json

from django.conf import settings
from pywebpush import WebPushException, webpush

from engagement.models import PushSubscription

#: Answers of a push service that mean the subscription is gone for good (RFC 8030, 8.2 / 7.3).
GONE = (404, 410)


def push_send(*, customer_id: int, title: str, body: str) -> str:
    """Send the notice to every subscription of the customer; drop those the service says are gone.

    Returns how many took it. Raises :class:`pywebpush.WebPushException` when none did (the
    caller retries), with the push service's status and no key material in the message.
    """
    sent, failures = 0, []
    payload = json.dumps({"title": title, "body": body[:1000]}, ensure_ascii=False)
    for subscription in PushSubscription.objects.filter(customer_id=customer_id).order_by("pk"):
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=payload,
                vapid_private_key=settings.PATRON_VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.PATRON_VAPID_SUBJECT},
                timeout=settings.PATRON_SMS_TIMEOUT,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                subscription.delete()
                continue
            failures.append(str(status))
            continue
        sent += 1
    if not sent:
        raise WebPushException(f"no subscription took the notice (answers: {', '.join(failures) or 'none'})")
    return f"push to {sent} subscription(s)"
