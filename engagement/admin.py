"""Django admin of engagement: read the delivery log, edit templates and cultural events."""

from __future__ import annotations

from django.contrib import admin

from engagement.models import Campaign, CulturalEvent, DeliveryAttempt, EngagementEvent, MessageTemplate


@admin.register(EngagementEvent)
class EngagementEventAdmin(admin.ModelAdmin):
    """The delivery log, newest first."""

    list_display = ("idempotency_key", "kind", "channel", "status", "planned_at", "sent_at")
    list_filter = ("kind", "channel", "status")
    search_fields = ("idempotency_key",)


admin.site.register((MessageTemplate, Campaign, CulturalEvent, DeliveryAttempt))
