"""Webhook endpoints, their deliveries and each delivery attempt.

An endpoint belongs to a shop and lists the event types it wants. Publishing a shop event
(``integrations.services.publishing``) creates one :class:`WebhookDelivery` per matching active
endpoint in the same transaction, so a delivery exists exactly when its event is published; a
dramatiq actor sends it, and every try is a :class:`WebhookAttempt` (the delivery log).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.models import Shop, ShopEvent


class WebhookEndpoint(models.Model):
    """Where a shop wants its events POSTed, signed per the Standard Webhooks specification.

    ``secret`` (``whsec_`` + base64) signs every delivery; after a rotation the previous secret
    also signs (a second ``v1,`` signature) until ``previous_secret_expires_at``, so a receiver
    can switch secrets without rejecting anything. ``failing_since`` is the first failed attempt
    since the last success; an endpoint failing for ``DISABLE_AFTER`` is disabled
    (``disabled_at``) and the shop's owners are told.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Event types delivered, e.g. ['points.earned'].")
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Off: nothing is delivered (paused or disabled).")
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="Set when disabled after failing.")
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    """Where a webhook delivery stands."""

    PENDING = "pending", "Waiting for its first or next attempt"
    SUCCEEDED = "succeeded", "The endpoint answered 2xx"
    FAILED = "failed", "Every attempt of the retry schedule failed (or the endpoint was disabled)"


class WebhookDelivery(models.Model):
    """One event to one endpoint: retried on the schedule of ``integrations.services.delivery``."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(ShopEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts since it was created or redelivered.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the next attempt is due.")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_unique_endpoint_event")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=Q(status="pending")),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery: when, the response code (null: no response), latency, error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True, help_text="Why it failed: timeout, refused, HTTP status.")
    response_excerpt = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S} -> {self.status_code}"
