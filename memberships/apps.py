"""Django app configuration of memberships: paid plans that grant a tier, and their subscriptions."""

from __future__ import annotations

from django.apps import AppConfig


class MembershipsConfig(AppConfig):
    """Memberships sit above engagement (renewal reminders go through its channels) and checkout,
    and below integrations. Loyalty holds the tier floor they set (``loyalty.services.tiers``);
    no lower app knows this one exists."""

    name = "memberships"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Queue each new staff bulk action (``memberships.signals.bulk_action_created``); take part in
        a member's data export and erasure (crm's privacy signals)."""
        from crm.services.privacy import customer_data_exporting, customer_erasing
        from memberships import tasks
        from memberships.services import privacy
        from memberships.signals import bulk_action_created

        bulk_action_created.connect(tasks.on_bulk_action_created, dispatch_uid="memberships-bulk")
        customer_data_exporting.connect(privacy.on_customer_data_exporting, dispatch_uid="memberships-export")
        customer_erasing.connect(privacy.on_customer_erasing, dispatch_uid="memberships-erase")
