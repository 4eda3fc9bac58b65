"""Admin pages of webhook endpoints and deliveries (read-mostly: operators look, owners act in the console)."""

from django.contrib import admin

from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints by shop, with their state."""

    list_display = ("url", "shop", "is_active", "failing_since", "disabled_at")
    list_filter = ("is_active",)
    exclude = ("secret", "previous_secret")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Deliveries and where they stand."""

    list_display = ("event", "endpoint", "status", "attempts", "next_attempt_at", "last_status_code")
    list_filter = ("status",)
    raw_id_fields = ("event", "endpoint")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    """Every HTTP try."""

    list_display = ("delivery", "attempted_at", "status_code", "latency_ms", "error")
    raw_id_fields = ("delivery",)
