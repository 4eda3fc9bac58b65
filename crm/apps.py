"""Django app configuration of crm: member profiles per shop, statistics, tags, segments, privacy."""

from __future__ import annotations

from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Customer records sit above rewards and referrals (a member's data export lists both) and below
    checkout, which targets segments. Loyalty tells crm of each order event through its signals."""

    name = "crm"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Keep statistics and automatic tags current from loyalty's order events and imports; answer
        loyalty's questions about segments (earning rules that target them)."""
        from crm.services import segments, stats
        from loyalty.signals import member_segments, order_events_posted, orders_replayed, segments_check

        order_events_posted.connect(stats.on_order_events_posted, dispatch_uid="crm-stats")
        orders_replayed.connect(stats.on_orders_replayed, dispatch_uid="crm-stats-replayed")
        member_segments.connect(segments.on_member_segments, dispatch_uid="crm-member-segments")
        segments_check.connect(segments.on_segments_check, dispatch_uid="crm-segments-check")
