"""Loyalty app configuration: subscribes to marketplace order events."""

from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    """Connects ``order_event_committed`` and ``tier_ladder_committed`` to the worker queue."""

    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Queue the loyalty worker for every order event and tier ladder edit that commits."""
        from loyalty import tasks
        from loyalty.signals import tier_ladder_committed
        from marketplace.signals import order_event_committed

        order_event_committed.connect(tasks.order_event_enqueue, dispatch_uid="loyalty.order_event_enqueue")
        tier_ladder_committed.connect(
            tasks.tier_ladder_reevaluate_enqueue, dispatch_uid="loyalty.tier_ladder_reevaluate_enqueue"
        )
