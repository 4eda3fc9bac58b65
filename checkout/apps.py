"""Django app configuration of checkout: promotions, coupons, quotes and commits."""

from __future__ import annotations

from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Checkout sits above rewards and referrals: it prices baskets with the loyalty program's tiers
    and points and listens to loyalty's ``order_points_posted`` to give back points of returned orders."""

    name = "checkout"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the return hook and the importer's replay check (``checkout.services.returns``) to loyalty."""
        from checkout.services import returns
        from loyalty.signals import order_points_posted, order_replay_check

        order_points_posted.connect(returns.on_order_points_posted, dispatch_uid="checkout-returns")
        order_replay_check.connect(returns.on_order_replay_check, dispatch_uid="checkout-replay-check")
