"""Loyalty app configuration: subscribes to marketplace order events."""

from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    """Connects ``order_event_committed`` to the worker queue once apps are loaded."""

    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Queue the loyalty worker for every order event that commits."""
        from loyalty import tasks
        from marketplace.signals import order_event_committed

        order_event_committed.connect(tasks.order_event_enqueue, dispatch_uid="loyalty.order_event_enqueue")
