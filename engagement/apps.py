"""Django app configuration of engagement: messages to members on the channels they consented to."""

from __future__ import annotations

from django.apps import AppConfig


class EngagementConfig(AppConfig):
    """Engagement sits above crm (it targets segments and reads profiles and statistics), beside
    checkout, and below integrations. It follows the shops' event feed (``marketplace.ShopEvent``)
    for what happened, so no lower app knows it exists."""

    name = "engagement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Send a delivery message for each event planned due now (``engagement.signals.events_due``)."""
        from engagement import tasks
        from engagement.signals import events_due

        events_due.connect(tasks.on_events_due, dispatch_uid="engagement-deliver")
