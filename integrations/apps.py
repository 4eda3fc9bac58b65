"""Integrations app configuration."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Webhooks and the event feed: how a shop's systems hear what happened (above every other app)."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Publish shop events after each commit that recorded some (lower apps never import this one)."""
        from integrations.tasks import events_publish_enqueue
        from marketplace.events import shop_events_committed

        shop_events_committed.connect(events_publish_enqueue, dispatch_uid="integrations.events_publish_enqueue")
