"""Django app configuration of checkout: promotions, coupons, quotes and commits."""

from __future__ import annotations

from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Checkout sits above rewards and referrals: it prices baskets with the loyalty program's tiers
    and points and listens to loyalty's ``order_points_posted`` to give back points of returned orders."""

    name = "checkout"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the return hook and the importer's replay check (``services.returns``) to loyalty's signals,
        the data export and erasure (``services.privacy``) and the segment deletion check
        (``services.promotions``) to crm's."""
        from checkout.services import privacy, promotions, returns
        from crm.services.privacy import customer_data_exporting, customer_erasing
        from crm.signals import segment_delete_check
        from loyalty.signals import order_points_posted, order_replay_check

        order_points_posted.connect(returns.on_order_points_posted, dispatch_uid="checkout-returns")
        order_replay_check.connect(returns.on_order_replay_check, dispatch_uid="checkout-replay-check")
        customer_data_exporting.connect(privacy.on_customer_data_exporting, dispatch_uid="checkout-export")
        customer_erasing.connect(privacy.on_customer_erasing, dispatch_uid="checkout-erasure")
        segment_delete_check.connect(promotions.on_segment_delete_check, dispatch_uid="checkout-segment-delete")
